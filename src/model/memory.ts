// GPU memory a model needs in a given format and context length, computed from config.json
// alone so the app can refuse a model before downloading it.
import { layerVectorParams, type ModelConfig } from './config';
import { DEFAULT_GROUP_SIZE, type WeightFormat } from './quantize';
import { samplerScratchWords } from './sampling';

export class ModelTooLargeError extends Error {
  override name = 'ModelTooLargeError';
}

export interface MemoryPlan {
  weightBytes: number;
  kvBytes: number;
  activationBytes: number;
  totalBytes: number;
  /** the largest single buffer (the embedding table or a layer's KV cache) */
  largestBuffer: { label: string; bytes: number };
}

/** Bytes of one packed [n, k] matrix (see quantize.ts for the layouts). */
export function matrixBytes(n: number, k: number, format: WeightFormat): number {
  const k4 = Math.ceil(k / 4);
  if (format === 'f32') return n * k4 * 16;
  if (format === 'f16') return n * k4 * 8;
  return n * k4 * 4 + n * Math.ceil(k / DEFAULT_GROUP_SIZE) * 4;
}

export function planMemory(c: ModelConfig, format: WeightFormat, contextLength: number, maxRows: number, maxLogitRows = 1): MemoryPlan {
  const D = c.hiddenSize;
  const Q = c.numHeads * c.headDim;
  const KV = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const V = c.vocabSize;
  const embed = matrixBytes(V, D, format);
  // Norms and biases stay f32 in every format.
  const perLayer = matrixBytes(Q, D, format) + 2 * matrixBytes(KV, D, format) + matrixBytes(D, Q, format) + 2 * matrixBytes(I, D, format) + matrixBytes(D, I, format) + layerVectorParams(c) * 4;
  const weightBytes = embed * (c.tieWordEmbeddings ? 1 : 2) + c.numLayers * perLayer + D * 4;
  const kvLayer = contextLength * KV * 4;
  const kvBytes = 2 * c.numLayers * kvLayer;
  const T = maxRows;
  // ...plus the sampler's processed logits and its scratch (part figures, candidate lists).
  const activationBytes = 4 * (T * (2 * D + 2 * Q + 2 * KV + 3 * I + 1) + maxLogitRows * (2 * D + V) + contextLength + V + samplerScratchWords(V));
  const candidates = [
    { label: 'embedding table', bytes: embed },
    { label: 'KV cache of one layer', bytes: kvLayer },
    { label: 'MLP activations', bytes: T * I * 4 },
    { label: 'logits', bytes: maxLogitRows * V * 4 },
  ];
  const largestBuffer = candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { weightBytes, kvBytes, activationBytes, totalBytes: weightBytes + kvBytes + activationBytes, largestBuffer };
}

const GB = (b: number) => `${(b / 2 ** 30).toFixed(2)} GB`;

/** Throws ModelTooLargeError when a buffer of the plan exceeds what the device allows. */
export function checkFits(plan: MemoryPlan, limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>, what: string): void {
  const perBuffer = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (plan.largestBuffer.bytes > perBuffer) {
    throw new ModelTooLargeError(
      `${what} needs a ${GB(plan.largestBuffer.bytes)} buffer (${plan.largestBuffer.label}); this adapter allows ${GB(perBuffer)} per buffer. ` +
        'Try a smaller model, the int8 engine, or a shorter context.',
    );
  }
}
