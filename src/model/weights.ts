// Model weights: the one table from HF tensor names to ours, and loading them onto the GPU in the
// engine's format, one tensor at a time (read, convert, pack/quantize, upload, drop).
import type { ModelConfig } from './config';
import type { ModelSource } from './source';
import { parseHeader, headerLength, parseShardIndex, tensorToF32, SafetensorsError, type TensorInfo } from './safetensors';
import { packWeight, type WeightFormat } from './quantize';
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

/** Loads, converts and uploads all weights in `format`. Norms and biases stay f32. */
export async function loadWeights(
  device: GPUDevice,
  source: ModelSource,
  c: ModelConfig,
  format: WeightFormat,
  onProgress?: (p: LoadProgress) => void,
): Promise<ModelWeights> {
  const located = await indexTensors(source);
  const table = weightTable(c);
  const slots: Array<[string, Slot]> = [
    ...Object.entries(table.global).map(([k, s]) => [`g.${k}`, s] as [string, Slot]),
    ...Array.from({ length: c.numLayers }, (_, l) => Object.entries(table.layer(l)).map(([k, s]) => [`${l}.${k}`, s] as [string, Slot])).flat(),
  ];
  // Check everything before uploading anything: a bad file must not leave a half-built engine.
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
  const bytesTotal = slots.reduce((a, [, s]) => a + (located.get(s.hf) ? located.get(s.hf)!.info.end - located.get(s.hf)!.info.begin : 0), 0);
  const buffers: GPUBuffer[] = [];
  let bytes = 0;
  let bytesDone = 0;
  let done = 0;
  const results = new Map<string, GpuWeight | GPUBuffer>();
  try {
    for (const [key, s] of slots) {
      const t = located.get(s.hf);
      if (!t) continue;
      const data = tensorToF32(t.info, await source.range(t.file, t.info.begin, t.info.end));
      if (s.kind === 'matrix') {
        const w = uploadWeight(device, s.hf, packWeight(data, s.shape[0]!, s.shape[1]!, format));
        buffers.push(w.data, ...(w.scales ? [w.scales] : []));
        bytes += w.bytes;
        results.set(key, w);
      } else {
        const b = uploadStorage(device, s.hf, data);
        buffers.push(b);
        bytes += data.byteLength;
        results.set(key, b);
      }
      bytesDone += t.info.end - t.info.begin;
      onProgress?.({ tensorsDone: ++done, tensorsTotal: slots.length, bytesDone, bytesTotal });
    }
  } catch (e) {
    for (const b of buffers) b.destroy();
    throw e;
  }
  const g = (k: string) => results.get(k) as never;
  const embed = g('g.embed') as GpuWeight;
  const layers: LayerWeights[] = Array.from({ length: c.numLayers }, (_, l) => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(table.layer(l))) out[k] = results.get(`${l}.${k}`);
    return out as unknown as LayerWeights;
  });
  return {
    format,
    embed,
    layers,
    finalNorm: g('g.finalNorm'),
    lmHead: c.tieWordEmbeddings ? embed : g('g.lmHead'),
    bytes,
    buffers,
  };
}
