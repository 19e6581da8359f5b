// Model weights: the one table from HF tensor names to ours, and loading them onto the GPU in the
// engine's format, one tensor at a time (read, convert, pack/quantize, upload, drop).
import type { ModelConfig } from './config';
import type { ModelSource } from './source';
import { parseHeader, headerLength, parseShardIndex, tensorToF32, SafetensorsError, type TensorInfo } from './safetensors';
import { packWeight, packedBytes, type PackedWeight, type WeightFormat } from '../kernels/formats';
import { uploadWeight, createWeight, writeWeightRows, weightBuffers, bindingLimit, type GpuWeight } from '../kernels/weights';
import { createStorage, uploadStorage } from '../gpu/buffers';

export class WeightError extends Error {
  override name = 'WeightError';
}

/**
 * One layer's weights as the forward pass reads them. Projections that read the same input are
 * stacked into one weight (rows of q_proj, k_proj, v_proj; rows of gate_proj, up_proj), so each
 * group is one matmul dispatch; the cache and the checkpoint still hold them as separate tensors.
 */
export interface LayerWeights {
  attnNorm: GPUBuffer; // [D] f32
  wqkv: GpuWeight; // [H*hd + 2*KV*hd, D]: q_proj, k_proj, v_proj
  bqkv?: GPUBuffer; // [H*hd + 2*KV*hd]
  wo: GpuWeight; // [D, H*hd]
  bo?: GPUBuffer; // [D]
  mlpNorm: GPUBuffer; // [D] f32
  wGateUp: GpuWeight; // [2*I, D]: gate_proj, up_proj
  bGateUp?: GPUBuffer; // [2*I]
  wDown: GpuWeight; // [D, I]
  bDown?: GPUBuffer; // [D]
}

/** Which HF projections are stacked into one weight of LayerWeights, in row order. */
export const STACKED = {
  wqkv: ['wq', 'wk', 'wv'],
  bqkv: ['bq', 'bk', 'bv'],
  wGateUp: ['wGate', 'wUp'],
  bGateUp: ['bGate', 'bUp'],
} as const;

/** Label of a stacked weight, from its first part's HF name: "model.layers.3.self_attn.wqkv". */
export function stackedLabel(hf: string, target: string): string {
  return hf.replace(/[^.]+\.(weight|bias)$/, target);
}

/** The stacked field a slot of weightTable's layer part goes into, and where: null if it stands alone. */
export function stackedTarget(slots: Record<string, Slot>, field: string): { target: string; offset: number; total: number } | null {
  for (const [target, parts] of Object.entries(STACKED)) {
    const i = (parts as readonly string[]).indexOf(field);
    if (i < 0) continue;
    const rows = parts.map((p) => slots[p]?.shape[0] ?? 0);
    return { target, offset: rows.slice(0, i).reduce((a, b) => a + b, 0), total: rows.reduce((a, b) => a + b, 0) };
  }
  return null;
}

export interface ModelWeights {
  format: WeightFormat;
  embed: GpuWeight; // [V, D]
  layers: LayerWeights[];
  finalNorm: GPUBuffer; // [D] f32
  lmHead: GpuWeight; // [V, D]; the same object as `embed` when embeddings are tied
  /** bytes of all weight buffers on the GPU */
  bytes: number;
  buffers: GPUBuffer[];
}

type Kind = 'matrix' | 'vector';
export interface Slot {
  hf: string;
  shape: number[];
  kind: Kind;
  optional?: boolean;
}

/** HF name -> shape for every tensor the forward pass reads (gpt-fast's weight_map). */
export function weightTable(c: ModelConfig): { global: Record<string, Slot>; layer: (l: number) => Record<string, Slot> } {
  const D = c.hiddenSize;
  const Q = c.numHeads * c.headDim;
  const KV = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const V = c.vocabSize;
  const m = (hf: string, shape: number[]): Slot => ({ hf, shape, kind: 'matrix' });
  const v = (hf: string, n: number, optional = false): Slot => ({ hf, shape: [n], kind: 'vector', optional });
  return {
    global: {
      embed: m('model.embed_tokens.weight', [V, D]),
      finalNorm: v('model.norm.weight', D),
      ...(c.tieWordEmbeddings ? {} : { lmHead: m('lm_head.weight', [V, D]) }),
    },
    layer: (l) => {
      const p = `model.layers.${l}.`;
      return {
        attnNorm: v(`${p}input_layernorm.weight`, D),
        wq: m(`${p}self_attn.q_proj.weight`, [Q, D]),
        wk: m(`${p}self_attn.k_proj.weight`, [KV, D]),
        wv: m(`${p}self_attn.v_proj.weight`, [KV, D]),
        ...(c.qkvBias ? { bq: v(`${p}self_attn.q_proj.bias`, Q), bk: v(`${p}self_attn.k_proj.bias`, KV), bv: v(`${p}self_attn.v_proj.bias`, KV) } : {}),
        wo: m(`${p}self_attn.o_proj.weight`, [D, Q]),
        ...(c.oBias ? { bo: v(`${p}self_attn.o_proj.bias`, D) } : {}),
        mlpNorm: v(`${p}post_attention_layernorm.weight`, D),
        wGate: m(`${p}mlp.gate_proj.weight`, [I, D]),
        wUp: m(`${p}mlp.up_proj.weight`, [I, D]),
        wDown: m(`${p}mlp.down_proj.weight`, [D, I]),
        ...(c.mlpBias ? { bGate: v(`${p}mlp.gate_proj.bias`, I), bUp: v(`${p}mlp.up_proj.bias`, I), bDown: v(`${p}mlp.down_proj.bias`, D) } : {}),
      };
    },
  };
}

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

/** Every slot the forward pass needs, in load order. */
function slotList(c: ModelConfig): Array<[string, Slot]> {
  const table = weightTable(c);
  return [
    ...Object.entries(table.global).map(([k, s]) => [`g.${k}`, s] as [string, Slot]),
    ...Array.from({ length: c.numLayers }, (_, l) => Object.entries(table.layer(l)).map(([k, s]) => [`${l}.${k}`, s] as [string, Slot])).flat(),
  ];
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
  for (const [, s] of slots) {
    const t = located.get(s.hf);
    if (!t) {
      if (s.optional) continue;
      throw new WeightError(`${source.name}: tensor "${s.hf}" is missing from the checkpoint`);
    }
    if (t.info.shape.join('x') !== s.shape.join('x')) {
      throw new WeightError(`${source.name}: tensor "${s.hf}" has shape [${t.info.shape}] but config.json implies [${s.shape}]`);
    }
  }
  const size = (s: Slot) => {
    const t = located.get(s.hf);
    return t ? t.info.end - t.info.begin : 0;
  };
  const bytesTotal = slots.reduce((a, [, s]) => a + size(s), 0);
  let bytesDone = 0;
  let done = 0;
  for (const [key, s] of slots) {
    const t = located.get(s.hf);
    if (!t) continue;
    const data = tensorToF32(t.info, await source.range(t.file, t.info.begin, t.info.end));
    yield s.kind === 'matrix' ? { key, hf: s.hf, matrix: packWeight(data, s.shape[0]!, s.shape[1]!, format, groupSize) } : { key, hf: s.hf, vector: data };
    bytesDone += size(s);
    onProgress?.({ tensorsDone: ++done, tensorsTotal: slots.length, bytesDone, bytesTotal });
  }
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
        if (t.vector.length !== s.shape[0]) throw new WeightError(`tensor "${t.hf}": got ${t.vector.length} values, expected ${s.shape[0]}`);
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
    const missing = [...slots].filter(([k, s]) => !s.optional && !arrived.has(k));
    if (missing.length) throw new WeightError(`weights incomplete: ${missing.length} tensors missing, e.g. "${missing[0]![1].hf}"`);
    // A stacked bias is all or nothing: with some parts only, the others would read garbage.
    for (const [l, field] of Array.from({ length: c.numLayers }, (_, l) => ['bqkv', 'bGateUp'].map((f) => [l, f] as const)).flat()) {
      const parts = STACKED[field as 'bqkv' | 'bGateUp'].filter((p) => p in table.layer(l));
      const got = parts.filter((p) => arrived.has(`${l}.${p}`));
      if (got.length && got.length < parts.length) throw new WeightError(`layer ${l}: only ${got.join(', ')} of ${parts.join(', ')} arrived`);
    }
  } catch (e) {
    for (const b of buffers) b.destroy();
    throw e;
  }
  return assembleWeights(c, format, results, bytes, buffers);
}

/** ModelWeights from the uploaded (or generated) tensors, keyed "g.embed", "<layer>.wqkv", ... */
export function assembleWeights(c: ModelConfig, format: WeightFormat, results: Map<string, GpuWeight | GPUBuffer>, bytes: number, buffers: GPUBuffer[]): ModelWeights {
  const get = <T>(key: string) => results.get(key) as T;
  const embed = get<GpuWeight>('g.embed');
  const fields = ['attnNorm', 'wqkv', 'bqkv', 'wo', 'bo', 'mlpNorm', 'wGateUp', 'bGateUp', 'wDown', 'bDown'] as const;
  // Optional fields (biases) exist only where the model has them.
  const layers = Array.from({ length: c.numLayers }, (_, l) =>
    Object.fromEntries(fields.filter((f) => results.has(`${l}.${f}`)).map((f) => [f, results.get(`${l}.${f}`)])) as unknown as LayerWeights,
  );
  return {
    format,
    embed,
    layers,
    finalNorm: get<GPUBuffer>('g.finalNorm'),
    lmHead: c.tieWordEmbeddings ? embed : get<GpuWeight>('g.lmHead'),
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
