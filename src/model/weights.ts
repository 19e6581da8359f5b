// Model weights: the one table from HF tensor names to ours, and loading them onto the GPU in the
// engine's format, one tensor at a time (read, convert, pack/quantize, upload, drop).
import type { ModelConfig } from './config';
import type { ModelSource } from './source';
import { parseHeader, headerLength, parseShardIndex, tensorToF32, SafetensorsError, type TensorInfo } from './safetensors';
import { packWeight, DEFAULT_GROUP_SIZE, type PackedWeight, type WeightFormat } from './quantize';
import { uploadWeight, type GpuWeight } from '../kernels/weights';
import { uploadStorage } from '../gpu/buffers';

export class WeightError extends Error {
  override name = 'WeightError';
}

export interface LayerWeights {
  attnNorm: GPUBuffer; // [D] f32
  wq: GpuWeight; // [H*hd, D]
  wk: GpuWeight; // [KV*hd, D]
  wv: GpuWeight; // [KV*hd, D]
  bq?: GPUBuffer; // [H*hd]
  bk?: GPUBuffer; // [KV*hd]
  bv?: GPUBuffer; // [KV*hd]
  wo: GpuWeight; // [D, H*hd]
  bo?: GPUBuffer; // [D]
  mlpNorm: GPUBuffer; // [D] f32
  wGate: GpuWeight; // [I, D]
  wUp: GpuWeight; // [I, D]
  wDown: GpuWeight; // [D, I]
  bGate?: GPUBuffer; // [I]
  bUp?: GPUBuffer; // [I]
  bDown?: GPUBuffer; // [D]
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
interface Slot {
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
  /** int8 scale group along K (default 128); 0 = one scale per row (per-channel) */
  int8GroupSize = DEFAULT_GROUP_SIZE,
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
    yield s.kind === 'matrix' ? { key, hf: s.hf, matrix: packWeight(data, s.shape[0]!, s.shape[1]!, format, int8GroupSize || Math.ceil(s.shape[1]! / 4) * 4) } : { key, hf: s.hf, vector: data };
    bytesDone += size(s);
    onProgress?.({ tensorsDone: ++done, tensorsTotal: slots.length, bytesDone, bytesTotal });
  }
}

/** Uploads engine-ready tensors (from the checkpoint or from a cache) and checks all slots arrived. */
export async function uploadTensors(device: GPUDevice, c: ModelConfig, format: WeightFormat, tensors: AsyncIterable<PackedTensor>): Promise<ModelWeights> {
  const slots = new Map(slotList(c));
  const buffers: GPUBuffer[] = [];
  const results = new Map<string, GpuWeight | GPUBuffer>();
  let bytes = 0;
  try {
    for await (const t of tensors) {
      const s = slots.get(t.key);
      if (!s) throw new WeightError(`unexpected tensor slot "${t.key}"`);
      if (t.matrix) {
        const m = t.matrix;
        if (m.format !== format || m.n !== s.shape[0] || m.k !== s.shape[1]) {
          throw new WeightError(`tensor "${t.hf}": got ${m.format} [${m.n}, ${m.k}], expected ${format} [${s.shape}]`);
        }
        const w = uploadWeight(device, t.hf, m);
        buffers.push(w.data, ...(w.scales ? [w.scales] : []));
        bytes += w.bytes;
        results.set(t.key, w);
      } else if (t.vector) {
        if (t.vector.length !== s.shape[0]) throw new WeightError(`tensor "${t.hf}": got ${t.vector.length} values, expected ${s.shape[0]}`);
        const b = uploadStorage(device, t.hf, t.vector);
        buffers.push(b);
        bytes += t.vector.byteLength;
        results.set(t.key, b);
      }
    }
    const missing = [...slots].filter(([k, s]) => !s.optional && !results.has(k));
    if (missing.length) throw new WeightError(`weights incomplete: ${missing.length} tensors missing, e.g. "${missing[0]![1].hf}"`);
  } catch (e) {
    for (const b of buffers) b.destroy();
    throw e;
  }
  const table = weightTable(c);
  const embed = results.get('g.embed') as GpuWeight;
  const layers: LayerWeights[] = Array.from({ length: c.numLayers }, (_, l) => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(table.layer(l))) out[k] = results.get(`${l}.${k}`);
    return out as unknown as LayerWeights;
  });
  return {
    format,
    embed,
    layers,
    finalNorm: results.get('g.finalNorm') as GPUBuffer,
    lmHead: c.tieWordEmbeddings ? embed : (results.get('g.lmHead') as GpuWeight),
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
