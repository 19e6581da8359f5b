// GPU memory a model needs in a given format and context length, computed from config.json
// alone so the app can refuse a model before downloading it.
import { layerVectorParams, type ModelConfig } from './config';
import { isQuantized, packedLayout, shrinkAdvice, type WeightFormat } from '../kernels/formats';
import { samplerScratchWords } from './sampling';
import { partRowsFor, WeightTooLargeError, type GpuWeight } from '../kernels/weights';

export class ModelTooLargeError extends Error {
  override name = 'ModelTooLargeError';
}

export interface MemoryPlan {
  weightBytes: number;
  kvBytes: number;
  activationBytes: number;
  totalBytes: number;
  /**
   * the largest buffer that must be bound whole (a layer's KV cache, activations, logits); weights
   * larger than a binding are split over buffers instead (see `weights`)
   */
  largestBuffer: { label: string; bytes: number };
  /**
   * the packed matrices (stacked q/k/v and gate/up as the engine stacks them), for the split check,
   * each with the most other storage buffers a kernel reading it binds
   */
  weights: { format: WeightFormat; matrices: Array<{ label: string; n: number; k: number; otherBuffers: number }> };
}

/** The packed layout of an [n, k] matrix in `format` as the engine stores it (kernels/formats), default group. */
export function matrixLayout(n: number, k: number, format: WeightFormat): Pick<GpuWeight, 'format' | 'n' | 'k' | 'rowStride' | 'groupSize' | 'bytes'> & { dataWords: number; scaleCount: number } {
  return { format, n, k, ...packedLayout(n, k, format) };
}

/** Bytes of one packed [n, k] matrix. */
export function matrixBytes(n: number, k: number, format: WeightFormat): number {
  return matrixLayout(n, k, format).bytes;
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
    { label: 'KV cache of one layer', bytes: kvLayer },
    { label: 'MLP activations', bytes: T * I * 4 },
    { label: 'logits', bytes: maxLogitRows * V * 4 },
  ];
  const largestBuffer = candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  // otherBuffers: x, y and the norm weight (lm_head); x, q, both caches, bias, norm (q/k/v); ...
  const matrices = [
    { label: 'embedding table', n: V, k: D, otherBuffers: 3 },
    ...(c.tieWordEmbeddings ? [] : [{ label: 'lm_head', n: V, k: D, otherBuffers: 3 }]),
    { label: 'stacked q/k/v projection', n: Q + 2 * KV, k: D, otherBuffers: 6 },
    { label: 'o_proj', n: D, k: Q, otherBuffers: 3 },
    { label: 'stacked gate/up projection', n: 2 * I, k: D, otherBuffers: 4 },
    { label: 'down_proj', n: D, k: I, otherBuffers: 3 },
  ];
  return { weightBytes, kvBytes, activationBytes, totalBytes: weightBytes + kvBytes + activationBytes, largestBuffer, weights: { format, matrices } };
}

const GB = (b: number) => `${(b / 2 ** 30).toFixed(2)} GB`;

/**
 * Throws ModelTooLargeError when a buffer of the plan exceeds what the device allows, or a weight
 * would need more than MAX_WEIGHT_PARTS buffers of that size.
 */
export function checkFits(
  plan: MemoryPlan,
  limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'> & Partial<Pick<GPUSupportedLimits, 'maxStorageBuffersPerShaderStage'>>,
  what: string,
): void {
  const perBuffer = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (plan.largestBuffer.bytes > perBuffer) {
    throw new ModelTooLargeError(
      `${what} needs a ${GB(plan.largestBuffer.bytes)} buffer (${plan.largestBuffer.label}); this adapter allows ${GB(perBuffer)} per buffer. ` +
        shrinkAdvice(plan.weights.format, true),
    );
  }
  for (const m of plan.weights.matrices) {
    let parts: number;
    try {
      parts = Math.ceil(m.n / partRowsFor(matrixLayout(m.n, m.k, plan.weights.format), perBuffer, m.label));
    } catch (e) {
      if (e instanceof WeightTooLargeError) throw new ModelTooLargeError(`${what}: ${e.message}`);
      throw e;
    }
    // Every part is a binding (two with a quantized format's scales) of the kernels that read the weight.
    const bindings = parts * (isQuantized(plan.weights.format) ? 2 : 1) + m.otherBuffers;
    const most = limits.maxStorageBuffersPerShaderStage;
    if (most !== undefined && bindings > most) {
      throw new ModelTooLargeError(
        `${what}: the ${m.label} is split over ${parts} buffers (${GB(perBuffer)} each at most), and reading it binds ${bindings} storage buffers; this adapter allows ${most}. ` +
          shrinkAdvice(plan.weights.format, false),
      );
    }
  }
}
