// Model weights: loading the architecture's weight table (src/model/arch) onto the GPU in the
// engine's format, one tensor at a time (read, convert, transform, pack/quantize, upload, drop).
import { modelSlots as slotList, stackedLabel, stackedTarget, weightTable, elements, type ModelConfig, type Slot } from './arch';
import type { ModelSource } from './source';
import { parseHeader, headerLength, parseShardIndex, tensorToF32, SafetensorsError, type TensorInfo } from './safetensors';
import { packWeight, packedBytes, type PackedWeight, type WeightFormat } from '../kernels/formats';
import { uploadWeight, createWeight, writeWeightRows, weightBuffers, bindingLimit, type GpuWeight } from '../kernels/weights';
import { createStorage, uploadStorage } from '../gpu/buffers';

export class WeightError extends Error {
  override name = 'WeightError';
}

/** A tensor on the GPU: a packed matrix, or an f32 buffer (norms, biases, position tables). */
export type WeightEntry = GpuWeight | GPUBuffer;

export interface ModelWeights {
  format: WeightFormat;
  embed: GpuWeight; // [V, D]
  /** [V, D]; the same object as `embed` when embeddings are tied */
  lmHead: GpuWeight;
  finalNorm: GPUBuffer; // [D] f32
  /** the architecture's other model-wide tensors by table name (GPT-2: positions, finalNormBias) */
  globals: Record<string, WeightEntry>;
  /**
   * per layer, by the names of its table (stacked weights under their target: "wqkv", "wGateUp");
   * each architecture's block reads them through its own typed view
   */
  layers: Array<Record<string, WeightEntry>>;
  /** bytes of all weight buffers on the GPU */
  bytes: number;
  buffers: GPUBuffer[];
}

export { stackedLabel, stackedTarget, weightTable, modelSlots, type Slot } from './arch';

interface Located {
  file: string;
  info: TensorInfo;
}

/** Reads every safetensors header (single file or shards) and returns where each tensor lives. */
export async function indexTensors(source: ModelSource): Promise<Map<string, Located>> {
  const indexText = await source.text('model.safetensors.index.json');
  const files = indexText ? [...new Set(parseShardIndex(indexText).values())] : ['model.safetensors'];
  const out = new Map<string, Located>();
  for (const file of files) {
    const size = await source.size(file);
    const len = headerLength(await source.range(file, 0, Math.min(8, size)), size, file);
    const header = parseHeader(await source.range(file, 0, 8 + len), size, file);
    for (const [name, info] of header.tensors) {
      if (out.has(name)) throw new SafetensorsError(`tensor "${name}" appears in both ${out.get(name)!.file} and ${file}`);
      out.set(name, { file, info });
    }
  }
  return out;
}

export interface LoadProgress {
  tensorsDone: number;
  tensorsTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/** One engine-ready tensor: a packed matrix in the engine's format, or an f32 vector (norms, biases). */
export interface PackedTensor {
  /** our slot: "g.embed", "g.finalNorm", "g.lmHead", or "<layer>.<field>" such as "3.wq" */
  key: string;
  /** the HF tensor name it came from (labels, messages) */
  hf: string;
  matrix?: PackedWeight;
  vector?: Float32Array;
}

/**
 * Reads the checkpoint tensor by tensor and yields engine-ready tensors (converted to f32, then
 * packed or quantized). Everything is validated before the first tensor is yielded, so a bad file
 * never leaves a half-built engine or a half-written cache entry behind.
 */
export async function* readPackedTensors(
  source: ModelSource,
  c: ModelConfig,
  format: WeightFormat,
  onProgress?: (p: LoadProgress) => void,
  /** a quantized format's scale group along K (default: the format's); 0 = one scale per row (per-channel) */
  groupSize?: number,
): AsyncGenerator<PackedTensor> {
  const located = await indexTensors(source);
  const slots = slotList(c);
  // A slot's tensor under its name or one of its aliases (GPT-2 with or without "transformer.").
  const find = (s: Slot) => [s.hf, ...(s.aliases ?? [])].map((n) => located.get(n)).find((t) => t !== undefined);
  for (const [, s] of slots) {
    const t = find(s);
    if (!t) throw new WeightError(`${source.name}: tensor "${s.hf}" is missing from the checkpoint`);
    const want = s.hfShape ?? s.shape;
    if (t.info.shape.join('x') !== want.join('x')) {
      throw new WeightError(`${source.name}: tensor "${s.hf}" has shape [${t.info.shape}] but config.json implies [${want}]`);
    }
  }
  const size = (s: Slot) => {
    const t = find(s)!;
    return t.info.end - t.info.begin;
  };
  const bytesTotal = slots.reduce((a, [, s]) => a + size(s), 0);
  let bytesDone = 0;
  let done = 0;
  for (const [key, s] of slots) {
    const t = find(s)!;
    let data = tensorToF32(t.info, await source.range(t.file, t.info.begin, t.info.end));
    if (s.transform === 'transpose') data = transpose(data, s.hfShape![0]!, s.hfShape![1]!);
    yield s.kind === 'matrix' ? { key, hf: s.hf, matrix: packWeight(data, s.shape[0]!, s.shape[1]!, format, groupSize) } : { key, hf: s.hf, vector: data };
    bytesDone += size(s);
    onProgress?.({ tensorsDone: ++done, tensorsTotal: slots.length, bytesDone, bytesTotal });
  }
}

/** [rows, cols] row-major -> [cols, rows] row-major (a Conv1D weight into the [out, in] the kernels read). */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  // Blocks of 32 x 32 keep both sides' reads and writes within a few cache lines.
  for (let r0 = 0; r0 < rows; r0 += 32) {
    for (let c0 = 0; c0 < cols; c0 += 32) {
      const r1 = Math.min(rows, r0 + 32);
      const c1 = Math.min(cols, c0 + 32);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c]!;
    }
  }
  return out;
}

/**
 * Uploads engine-ready tensors (from the checkpoint or from a cache) and checks all slots arrived.
 * A matrix larger than `maxBindingBytes` is split by rows over several buffers.
 */
export async function uploadTensors(device: GPUDevice, c: ModelConfig, format: WeightFormat, tensors: AsyncIterable<PackedTensor>, maxBindingBytes?: number): Promise<ModelWeights> {
  const slots = new Map(slotList(c));
  const table = weightTable(c);
  const buffers: GPUBuffer[] = [];
  const results = new Map<string, GpuWeight | GPUBuffer>();
  const arrived = new Set<string>();
  let bytes = 0;
  // A stacked weight is created when its first part arrives; the parts are written into its rows.
  const stackedMatrix = (key: string, m: PackedWeight, total: number, hf: string): GpuWeight => {
    let w = results.get(key) as GpuWeight | undefined;
    if (!w) {
      w = createWeight(device, hf, { format: m.format, n: total, k: m.k, rowStride: m.rowStride, groupSize: m.groupSize ?? 0 }, maxBindingBytes ?? bindingLimit(device));
      buffers.push(...weightBuffers(w));
      results.set(key, w);
    }
    return w;
  };
  const stackedVector = (key: string, total: number, hf: string): GPUBuffer => {
    let b = results.get(key) as GPUBuffer | undefined;
    if (!b) {
      b = createStorage(device, hf, total * 4);
      buffers.push(b);
      results.set(key, b);
    }
    return b;
  };
  try {
    for await (const t of tensors) {
      const s = slots.get(t.key);
      if (!s) throw new WeightError(`unexpected tensor slot "${t.key}"`);
      if (arrived.has(t.key)) throw new WeightError(`tensor "${t.hf}" arrived twice`);
      const [layer, field] = t.key.split('.') as [string, string];
      const stack = layer === 'g' ? null : stackedTarget(table.layer(Number(layer)), field);
      const target = stack ? `${layer}.${stack.target}` : t.key;
      if (t.matrix) {
        const m = t.matrix;
        if (m.format !== format || m.n !== s.shape[0] || m.k !== s.shape[1]) {
          throw new WeightError(`tensor "${t.hf}": got ${m.format} [${m.n}, ${m.k}], expected ${format} [${s.shape}]`);
        }
        if (stack) {
          writeWeightRows(device, stackedMatrix(target, m, stack.total, stackedLabel(t.hf, stack.target)), stack.offset, m);
        } else {
          const w = uploadWeight(device, t.hf, m, maxBindingBytes ?? bindingLimit(device));
          buffers.push(...weightBuffers(w));
          results.set(target, w);
        }
        bytes += packedBytes(m);
      } else if (t.vector) {
        if (t.vector.length !== elements(s.shape)) throw new WeightError(`tensor "${t.hf}": got ${t.vector.length} values, expected ${elements(s.shape)}`);
        if (stack) {
          device.queue.writeBuffer(stackedVector(target, stack.total, stackedLabel(t.hf, stack.target)), stack.offset * 4, t.vector);
        } else {
          const b = uploadStorage(device, t.hf, t.vector);
          buffers.push(b);
          results.set(target, b);
        }
        bytes += t.vector.byteLength;
      }
      arrived.add(t.key);
    }
    // (Stacked parts are slots of their own: a stacked weight with a part missing is caught here too.)
    const missing = [...slots].filter(([k]) => !arrived.has(k));
    if (missing.length) throw new WeightError(`weights incomplete: ${missing.length} tensors missing, e.g. "${missing[0]![1].hf}"`);
  } catch (e) {
    for (const b of buffers) b.destroy();
    throw e;
  }
  return assembleWeights(c, format, results, bytes, buffers);
}

/** ModelWeights from the uploaded (or generated) tensors, keyed "g.embed", "<layer>.wqkv", ... */
export function assembleWeights(c: ModelConfig, format: WeightFormat, results: Map<string, WeightEntry>, bytes: number, buffers: GPUBuffer[]): ModelWeights {
  const embed = results.get('g.embed') as GpuWeight;
  const globals: Record<string, WeightEntry> = {};
  const layers = Array.from({ length: c.numLayers }, () => ({}) as Record<string, WeightEntry>);
  for (const [key, v] of results) {
    const [where, name] = key.split('.') as [string, string];
    if (where === 'g') globals[name] = v;
    else layers[Number(where)]![name] = v;
  }
  return {
    format,
    embed,
    lmHead: c.tieWordEmbeddings ? embed : (results.get('g.lmHead') as GpuWeight),
    finalNorm: results.get('g.finalNorm') as GPUBuffer,
    globals,
    layers,
    bytes,
    buffers,
  };
}

/** Loads, converts and uploads all weights in `format`. Norms and biases stay f32. */
export async function loadWeights(
  device: GPUDevice,
  source: ModelSource,
  c: ModelConfig,
  format: WeightFormat,
  onProgress?: (p: LoadProgress) => void,
): Promise<ModelWeights> {
  return uploadTensors(device, c, format, readPackedTensors(source, c, format, onProgress));
}
