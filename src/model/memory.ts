// GPU memory a model needs in a given format and context length, computed from config.json
// alone so the app can refuse a model before downloading it.
import type { ModelConfig } from './config';
import { ARCHITECTURES, elements, modelSlots, stackedTarget, weightTable, type Slot } from './arch';
import { isQuantized, packedLayout, shrinkAdvice, type WeightFormat } from '../kernels/formats';
import { samplerScratchWords } from './sampling';
import { partRowsFor, WeightTooLargeError, type GpuWeight } from '../kernels/weights';
import { defaultKvFormat, kvCacheBytes, type KvFormat } from '../kernels/kv_cache';

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

/** Bytes of one slot as the engine holds it: matrices in the format's packed layout; norms, biases and position tables f32. */
function slotBytes(s: Slot, format: WeightFormat): number {
  return s.kind === 'matrix' ? matrixBytes(s.shape[0]!, s.shape[1]!, format) : elements(s.shape) * 4;
}

/**
 * The weights, activations and KV cache of `c` in `format`, from its architecture's weight table and
 * activations; `maxBatch` sequences decoded together each have their own KV cache, history and sampler.
 * `kv`: the KV cache's storage (default: the engine's default for the format).
 */
export function planMemory(c: ModelConfig, format: WeightFormat, contextLength: number, maxRows: number, maxLogitRows = 1, maxBatch = 1, kv: KvFormat = defaultKvFormat(format, c.headDim)): MemoryPlan {
  const D = c.hiddenSize;
  const KV = c.numKvHeads * c.headDim;
  const V = c.vocabSize;
  const weightBytes = modelSlots(c).reduce((a, [, s]) => a + slotBytes(s, format), 0);
  const kvLayer = kvCacheBytes(kv, maxBatch * contextLength, KV);
  const kvBytes = 2 * c.numLayers * kvLayer;
  const T = maxRows;
  const perRow = Object.values(ARCHITECTURES[c.arch].activations(c));
  const widestActivation = Math.max(...perRow);
  // The per-row activations and the ids, the rows that get logits (lastX, lastH, logits), the token
  // history, and the sampler's processed logits and scratch (part figures, candidate lists).
  const samplers = maxBatch > 1 ? maxBatch + 1 : 1;
  const activationBytes = 4 * (T * (perRow.reduce((a, b) => a + b, 0) + 1) + maxLogitRows * (2 * D + V) + maxBatch * contextLength + samplers * (V + samplerScratchWords(V)));
  const candidates = [
    { label: 'KV cache of one layer', bytes: kvLayer },
    { label: 'MLP activations', bytes: T * widestActivation * 4 },
    { label: 'logits', bytes: maxLogitRows * V * 4 },
  ];
  const largestBuffer = candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  // Each matrix as the engine holds it (stacked parts as one), with the other storage buffers its kernels bind.
  const table = weightTable(c);
  const matrix = ([name, s]: [string, Slot], slots: Record<string, Slot>) => {
    const stack = stackedTarget(slots, name);
    if (stack && stack.offset > 0) return [];
    return [{ label: s.label ?? name, n: stack ? stack.total : s.shape[0]!, k: s.shape[1]!, otherBuffers: s.binds ?? 3 }];
  };
  const layer0 = c.numLayers > 0 ? table.layer(0) : {};
  const matrices = [
    ...Object.entries(table.global).filter(([, s]) => s.kind === 'matrix').flatMap((e) => matrix(e, table.global)),
    ...Object.entries(layer0).filter(([, s]) => s.kind === 'matrix').flatMap((e) => matrix(e, layer0)),
  ];
  return { weightBytes, kvBytes, activationBytes, totalBytes: weightBytes + kvBytes + activationBytes, largestBuffer, weights: { format, matrices } };
}

/**
 * The weight bytes one decode step reads in `format`: every matrix, norm and bias, but not the
 * tables it only looks a row up in (position embeddings, and the token embeddings where the
 * lm_head is a matrix of its own; tied, the lm_head reads the whole table).
 */
export function decodeStreamBytes(c: ModelConfig, format: WeightFormat): number {
  const global = weightTable(c).global;
  const lookedUp = (name: string, s: Slot) => s.kind === 'table' || (name === 'g.embed' && 'lmHead' in global);
  return modelSlots(c).reduce((a, [name, s]) => (lookedUp(name, s) ? a : a + slotBytes(s, format)), 0);
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
