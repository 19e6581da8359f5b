// The GPT-2 block as kernels, top to bottom: LayerNorm, one GEMM for c_attn's q/k/v (+bias), the
// KV append, attention, c_proj (+bias) added into the residual stream, LayerNorm, c_fc (+bias),
// GELU, the MLP's c_proj (+bias) added into the residual stream. No RoPE: positions are learned and
// added to the token embedding. A decode row runs the same dispatches (the matmuls pick a GEMV for
// one row), except that q/k/v is one GEMV that also appends k and v to the cache (Llama's fused
// q/k/v kernel without RoPE and without a norm: its input is ln_1's output).
import type { BlockBuilder, Op } from './program';
import type { GpuWeight } from '../../kernels/weights';
import { Embedding } from '../../kernels/embedding';
import { PositionAdd } from '../../kernels/position_add';
import { LayerNorm } from '../../kernels/layernorm';
import { Matmul } from '../../kernels/matmul';
import { KvAppend } from '../../kernels/kv_append';
import { Attention } from '../../kernels/attention';
import { Gelu } from '../../kernels/gelu';
import { QkvRope } from '../../kernels/gemv_qkv';
import { createUniform } from '../../gpu/buffers';

/** A GPT-2 layer's weights, by the names of its table. */
interface Gpt2Layer {
  attnNorm: GPUBuffer; // ln_1 [D]
  attnNormBias: GPUBuffer;
  wqkv: GpuWeight; // c_attn, transposed: [3D, D]
  bqkv: GPUBuffer; // [3D]
  wo: GpuWeight; // attn.c_proj [D, D]
  bo: GPUBuffer;
  mlpNorm: GPUBuffer; // ln_2 [D]
  mlpNormBias: GPUBuffer;
  wUp: GpuWeight; // c_fc [I, D]
  bUp: GPUBuffer;
  wDown: GpuWeight; // mlp.c_proj [D, I]
  bDown: GPUBuffer;
}

export const buildGpt2Block: BlockBuilder = async ({ device, cache, c, w, maxCtx: C, step: s, a, kCache, vCache, kv, keep, batched, maxBatch }) => {
  const D = c.hiddenSize;
  const layersW = w.layers as unknown as Gpt2Layer[];
  const l0 = layersW[0]!;
  const positions = w.globals.positions as GPUBuffer;
  const finalNormBias = w.globals.finalNormBias as GPUBuffer;

  const qkvShape = { nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim, maxCtx: C, kv, eps: c.normEps, bias: true, norm: false, rope: false };
  const fused = QkvRope.applies(l0.wqkv, qkvShape);
  // The kernels that place rows (learned positions, the KV append, attention), plain or batched
  // (each row placed by the step's row table).
  const placing = async (rowTable: boolean) => {
    const [posAdd, kvAppend, attention] = await Promise.all([
      PositionAdd.create(cache, { dim: D, positions: c.maxPositionEmbeddings, batched: rowTable }),
      KvAppend.create(cache, { kvDim: D, maxCtx: C, batched: rowTable, kv }),
      Attention.create(cache, { nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim, maxCtx: C, window: 0, kv, decodeRows: rowTable ? maxBatch : 1 }, undefined, rowTable),
    ]);
    return { posAdd, kvAppend, attention };
  };
  const [embed, plain, batch, norm, mqkv, mo, mup, mdown, lmHead, gelu, qkvDecode] = await Promise.all([
    Embedding.create(cache, w.embed),
    placing(false),
    batched ? placing(true) : null,
    LayerNorm.create(cache, D, c.normEps),
    Matmul.create(cache, l0.wqkv, { bias: true, split: [D, D, D], only: 'gemm' }),
    // The two c_proj add into the residual stream x in their epilogue (y += x W^T + b).
    Matmul.create(cache, l0.wo, { bias: true, accumulate: true }),
    Matmul.create(cache, l0.wUp, { bias: true }),
    Matmul.create(cache, l0.wDown, { bias: true, accumulate: true }),
    Matmul.create(cache, w.lmHead, { rowsFrom: 'logit_rows' }),
    Gelu.create(cache, { dim: c.intermediateSize }),
    fused ? QkvRope.create(cache, l0.wqkv, qkvShape) : null,
  ]);
  // The fused q/k/v kernel binds RoPE frequencies; without RoPE it never reads them.
  const noFreq = qkvDecode ? createUniform(device, 'no rope', 512) : null;
  if (noFreq) keep(noFreq);
  const { posAdd, kvAppend, attention } = plain;
  const { x, h, q, k, v, att, up, act, lastX, lastH, logits, ids } = a as Record<string, GPUBuffer>;

  const layers = layersW.map((lw, l) => {
    const ln1 = norm.bind(device, `L${l}.ln_1`, { x, weight: lw.attnNorm, bias: lw.attnNormBias, out: h });
    const qkv = mqkv.bind(device, `L${l}.c_attn`, { w: lw.wqkv, x: h, y: [q, k, v], step: s, bias: lw.bqkv });
    const append = kvAppend.bind(device, `L${l}.kvAppend`, { k, v, kCache: kCache[l]!, vCache: vCache[l]!, step: s });
    const attB = attention.bind(device, `L${l}.attention`, { q, kCache: kCache[l]!, vCache: vCache[l]!, out: att, step: s });
    const o = mo.bind(device, `L${l}.attn.c_proj`, { w: lw.wo, x: att, y: x, step: s, bias: lw.bo });
    const ln2 = norm.bind(device, `L${l}.ln_2`, { x, weight: lw.mlpNorm, bias: lw.mlpNormBias, out: h });
    const fc = mup.bind(device, `L${l}.c_fc`, { w: lw.wUp, x: h, y: up, step: s, bias: lw.bUp });
    const g = gelu.bind(device, `L${l}.gelu`, { x: up, out: act });
    const down = mdown.bind(device, `L${l}.mlp.c_proj`, { w: lw.wDown, x: act, y: x, step: s, bias: lw.bDown });
    // Attention block: x += c_proj(attention(q, k, v)) over ln_1(x); then the MLP block:
    // x += c_proj(gelu(c_fc(ln_2(x)))).
    const attnNorm: Op = (p, rows) => norm.encode(p, ln1, rows);
    const qkvAppend: Op[] = [
      (p, rows) => mqkv.encode(p, qkv, rows), // q, k, v from one GEMM over c_attn
      (p, rows) => kvAppend.encode(p, append, rows),
    ];
    const rest: Op[] = [
      (p, rows, pos) => attention.encode(p, attB, rows, pos),
      (p, rows) => mo.encode(p, o, rows), // x += c_proj(att)
      (p, rows) => norm.encode(p, ln2, rows),
      (p, rows) => mup.encode(p, fc, rows),
      (p, rows) => gelu.encode(p, g, rows),
      (p, rows) => mdown.encode(p, down, rows), // x += c_proj(act)
    ];
    const ops = [attnNorm, ...qkvAppend, ...rest];
    // The batched pass: the same dispatches with the batched KV append and attention.
    let batchOps: Op[] | undefined;
    if (batch) {
      const appendB = batch.kvAppend.bind(device, `L${l}.kvAppend batched`, { k, v, kCache: kCache[l]!, vCache: vCache[l]!, step: s });
      const attBB = batch.attention.bind(device, `L${l}.attention batched`, { q, kCache: kCache[l]!, vCache: vCache[l]!, out: att, step: s });
      batchOps = [
        attnNorm,
        qkvAppend[0]!,
        (p, rows) => batch.kvAppend.encode(p, appendB, rows),
        (p, rows, pos) => batch.attention.encode(p, attBB, rows, pos),
        ...rest.slice(1),
      ];
    }
    if (!qkvDecode) return { rows: ops, decode: ops, batch: batchOps };
    // Decode: q/k/v as one GEMV that also writes k and v into the cache at pos.
    const qkvD = qkvDecode.bind(device, `L${l}.c_attn decode`, { w: lw.wqkv, x: h, q, kCache: kCache[l]!, vCache: vCache[l]!, invFreq: noFreq!, step: s, bias: lw.bqkv });
    return { rows: ops, decode: [attnNorm, (p: GPUComputePassEncoder) => qkvDecode.encode(p, qkvD), ...rest], batch: batchOps };
  });
  for (const b of attention.buffers) keep(b);

  const embedB = embed.bind(device, 'wte', { w: w.embed, ids, out: x });
  const posB = posAdd.bind(device, 'wpe', { x, table: positions, step: s });
  const posBatchB = batch?.posAdd.bind(device, 'wpe batched', { x, table: positions, step: s });
  const lnF = norm.bind(device, 'ln_f', { x: lastX, weight: w.finalNorm, bias: finalNormBias, out: lastH });
  const lnFDecode = norm.bind(device, 'ln_f decode', { x, weight: w.finalNorm, bias: finalNormBias, out: lastH });
  const headB = lmHead.bind(device, 'lm_head', { w: w.lmHead, x: lastH, y: logits, step: s });
  return {
    embed: [(p, rows) => embed.encode(p, embedB, rows), (p, rows) => posAdd.encode(p, posB, rows)],
    embedBatch: batch ? [(p, rows) => embed.encode(p, embedB, rows), (p, rows) => batch.posAdd.encode(p, posBatchB!, rows)] : undefined,
    layers,
    head: [(p, rows) => norm.encode(p, lnF, rows), (p, rows) => lmHead.encode(p, headB, rows)],
    headDecode: [(p) => norm.encode(p, lnFDecode, 1), (p) => lmHead.encode(p, headB, 1)],
    fusedDecode: qkvDecode !== null,
    separateDecodeNorm: true,
  };
};
