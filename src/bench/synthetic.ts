// Synthetic models for benchmarks: the exact shapes of real checkpoints, with deterministic random
// weights written straight into GPU buffers by the fill_random kernel (nothing is downloaded and
// nothing crosses the bus). The result is shaped exactly like uploadTensors' (same GpuWeight
// fields, buffer sizes, byte counts), so the forward pass cannot tell the difference and the
// timings are those of the real model.
import type { GpuContext } from '../gpu/device';
import { createStorage } from '../gpu/buffers';
import { PipelineCache } from '../gpu/pipelines';
import { FillRandom } from '../kernels/fill_random';
import { bindingLimit, createWeight, weightBuffers, type GpuWeight } from '../kernels/weights';
import type { ModelConfig } from '../model/config';
import { presetConfig } from './presets';

export { PRESETS, PRESET_NAMES, isPreset, presetConfig, type PresetName } from './presets';
import { Engine, type EngineOptions } from '../model/engine';
import { checkFits, matrixLayout, planMemory } from '../model/memory';
import { formatSpec, type WeightFormat } from '../kernels/formats';
import { assembleWeights, modelSlots, stackedLabel, stackedTarget, weightTable, type ModelWeights } from '../model/weights';
import { elements } from '../model/arch';

export interface TensorPlan {
  /** the slot key uploadTensors uses: "g.embed", "3.wq", ... */
  key: string;
  hf: string;
  kind: 'matrix' | 'norm' | 'bias' | 'table';
  n: number;
  k: number;
  /** bytes uploadTensors would count for it */
  bytes: number;
}

/** Every tensor the forward pass reads, in load order, with the bytes a real load would hold. */
export function planSyntheticTensors(c: ModelConfig, format: WeightFormat): TensorPlan[] {
  return modelSlots(c).map(([key, s]): TensorPlan => {
    if (s.kind === 'matrix') {
      const [n, k] = s.shape as [number, number];
      return { key, hf: s.hf, kind: 'matrix', n, k, bytes: matrixLayout(n, k, format).bytes };
    }
    const n = elements(s.shape);
    return { key, hf: s.hf, kind: s.kind, n, k: 1, bytes: n * 4 };
  });
}

// Value ranges: weights of roughly the magnitude of trained ones (|w| <= 0.05, so activations
// stay finite through 32 layers), scales that put q * s in the same range, unit norms.
const W_RANGE = 0.05;
const BIAS_RANGE = 0.01;

/** Seed of tensor `i` of a model filled with `seed`: distinct tensors, reproducible. */
function tensorSeed(seed: number, i: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca77)) >>> 0;
}

/**
 * A random packed [n, k] matrix on the GPU, shaped (and split over buffers, past `maxBytes` per
 * binding) as uploadWeight would shape it.
 */
export function randomWeight(device: GPUDevice, fill: FillRandom, label: string, n: number, k: number, format: WeightFormat, seed: number, maxBytes = bindingLimit(device)): GpuWeight {
  const l = matrixLayout(n, k, format);
  const w = createWeight(device, label, { format, n, k, rowStride: l.rowStride, groupSize: l.groupSize }, maxBytes);
  try {
    const groups = Math.ceil(k / (l.groupSize || 1));
    const spec = formatSpec(format);
    [{ data: w.data, scales: w.scales }, ...w.more].forEach((part, i) => {
      const rows = Math.min(w.partRows, n - i * w.partRows);
      const s = (seed + Math.imul(i, 0x2545f491)) >>> 0;
      fill.fill(device, part.data, { mode: format, seed: s, words: rows * l.rowStride, rowWords: l.rowStride, cols: k, lo: -W_RANGE, hi: W_RANGE });
      if (part.scales) {
        // Packed f16 scale words (q4: scale and offset) get halves of the same range.
        const pairs = spec.scaleElem === 'u32';
        fill.fill(device, part.scales, { mode: pairs ? 'f16' : 'f32', seed: s ^ 0x5ca1e5, words: rows * groups, rowWords: groups, cols: pairs ? 2 * groups : groups, lo: 0.5 * W_RANGE * spec.syntheticScale, hi: 1.5 * W_RANGE * spec.syntheticScale });
      }
    });
  } catch (e) {
    for (const b of weightBuffers(w)) b.destroy();
    throw e;
  }
  return w;
}

/**
 * Random weights for `c` in `format`, generated on the GPU; resolves once they are written.
 * Same structure as uploadTensors' result: tied models share one GpuWeight for embed and lmHead,
 * biases exist exactly where the config has them.
 */
export async function createSyntheticWeights(device: GPUDevice, c: ModelConfig, format: WeightFormat, seed = 1): Promise<ModelWeights> {
  const fill = await FillRandom.create(new PipelineCache(device));
  const buffers: GPUBuffer[] = [];
  const results = new Map<string, GpuWeight | GPUBuffer>();
  const table = weightTable(c);
  let bytes = 0;
  try {
    planSyntheticTensors(c, format).forEach((t, i) => {
      const s = tensorSeed(seed, i);
      bytes += t.bytes;
      // Stacked projections (q/k/v, gate/up) are generated whole, when their first part comes up.
      const [layer, field] = t.key.split('.') as [string, string];
      const stack = layer === 'g' ? null : stackedTarget(table.layer(Number(layer)), field);
      const key = stack ? `${layer}.${stack.target}` : t.key;
      if (results.has(key)) return;
      const n = stack ? stack.total : t.n;
      const label = stack ? stackedLabel(t.hf, stack.target) : t.hf;
      if (t.kind === 'matrix') {
        const w = randomWeight(device, fill, label, n, t.k, format, s);
        buffers.push(...weightBuffers(w));
        results.set(key, w);
      } else {
        const b = createStorage(device, label, n * 4);
        buffers.push(b);
        // Norm weights 1; biases and position tables small (a position table of trained magnitude).
        const r = t.kind === 'norm' ? [1, 1] : t.kind === 'table' ? [-W_RANGE, W_RANGE] : [-BIAS_RANGE, BIAS_RANGE];
        fill.fill(device, b, { mode: 'f32', seed: s, words: n, rowWords: n, cols: n, lo: r[0], hi: r[1] });
        results.set(key, b);
      }
    });
    await device.queue.onSubmittedWorkDone();
  } catch (e) {
    for (const b of buffers) b.destroy();
    throw e;
  }
  return assembleWeights(c, format, results, bytes, buffers);
}

export type SyntheticEngineOptions = Pick<EngineOptions, 'contextLength' | 'maxRows' | 'maxLogitRows' | 'maxBatch' | 'kvCache' | 'decodeNorm' | 'pipelines' | 'w8a8'> & { seed?: number };

/** An engine over a preset (or any config) with synthetic weights; named "synthetic:<preset>". */
export async function loadSyntheticEngine(gpu: GpuContext, preset: string | { name: string; config: ModelConfig }, format: WeightFormat, opts: SyntheticEngineOptions = {}): Promise<Engine> {
  const { name, config } = typeof preset === 'string' ? { name: preset, config: presetConfig(preset) } : preset;
  const label = `synthetic:${name}`;
  const shape = Engine.shapeFor(config, { ...opts, format }, gpu.limits);
  checkFits(planMemory(config, format, shape.maxCtx, shape.maxRows, shape.maxLogitRows, shape.maxBatch, shape.kvCache), gpu.limits, `${label} (${format})`);
  const weights = await createSyntheticWeights(gpu.device, config, format, opts.seed ?? 1);
  return Engine.fromWeights(gpu, config, null, weights, opts, label);
}
