// The Llama block as kernels, top to bottom, in two schedules of the same layer. A pass over many
// rows (prefill) runs each step as its own kernel (RMSNorm, one GEMM for the stacked q/k/v, RoPE with
// the KV append, attention, ...); a decode step (one row) fuses RMSNorm, RoPE, the KV append and SiLU
// into the matmuls around them, so a layer is six dispatches and the step is bound by reading
// weights rather than by launching kernels.
import type { BlockBuilder, Op } from './program';
import type { GpuWeight } from '../../kernels/weights';
import { uploadStorage } from '../../gpu/buffers';
import { Embedding } from '../../kernels/embedding';
import { RmsNorm } from '../../kernels/rmsnorm';
import { Matmul, vecGemvApplies } from '../../kernels/matmul';
import { attnCombineUnsupported } from '../../kernels/matmul_w8a8';
import { Rope, ropeInvFreq } from '../../kernels/rope';
import { KvAppend } from '../../kernels/kv_append';
import { RopeKv } from '../../kernels/rope_kv';
import { Attention } from '../../kernels/attention';
import { SiluMul } from '../../kernels/silu_mul';
import { QkvRope } from '../../kernels/gemv_qkv';
import { GateUpSilu } from '../../kernels/gemv_gate_up';

/** A Llama layer's weights, by the names of its table (q/k/v and gate/up stacked). */
interface LlamaLayer {
  attnNorm: GPUBuffer; // [D]
  wqkv: GpuWeight; // [H*hd + 2*KV*hd, D]
  bqkv?: GPUBuffer;
  wo: GpuWeight; // [D, H*hd]
  bo?: GPUBuffer;
  mlpNorm: GPUBuffer; // [D]
  wGateUp: GpuWeight; // [2*I, D]
  bGateUp?: GPUBuffer;
  wDown: GpuWeight; // [D, I]
  bDown?: GPUBuffer;
}

export const buildLlamaBlock: BlockBuilder = async ({ device, cache, c, w, maxCtx: C, step: s, a, kCache, vCache, kv, separateNorm, keep, batched, maxBatch }) => {
  const D = c.hiddenSize;
  const Q = c.numHeads * c.headDim;
  const KV = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const layersW = w.layers as unknown as LlamaLayer[];
  const l0 = layersW[0]!;
  const rope = c.rope!;
  const invFreq = uploadStorage(device, 'rope.invFreq', ropeInvFreq(rope, c.headDim)); // [hd/2]
  keep(invFreq);

  // Kernels, compiled once per shape (the pipeline cache dedupes equal shapes).
  const bias = (b?: GPUBuffer) => ({ bias: !!b });
  const windows = [...new Set(c.layerWindows)];
  const qkvShape = { nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim, maxCtx: C, kv, eps: c.normEps, bias: !!l0.bqkv, norm: !separateNorm };
  const fused = QkvRope.applies(l0.wqkv, qkvShape) && GateUpSilu.applies(l0.wGateUp) && vecGemvApplies(w.lmHead);
  const decodeKernels = async () => {
    if (!fused) return null;
    const [qkvRope, gateUpSilu, lmHead] = await Promise.all([
      QkvRope.create(cache, l0.wqkv, qkvShape),
      GateUpSilu.create(cache, l0.wGateUp, { eps: c.normEps, bias: !!l0.bGateUp, norm: !separateNorm }),
      // lm_head with the final RMSNorm fused in, reading the residual stream directly
      separateNorm ? null : Matmul.create(cache, w.lmHead, { rowsFrom: 'logit_rows', normEps: c.normEps, only: 'gemv' }),
    ]);
    return { qkvRope, gateUpSilu, lmHead };
  };
  // The batched step's split attention results, where o_proj's quantizer can merge them (one
  // window for every layer: the quantizer is compiled for one).
  const batchShape = { nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim, maxCtx: C, window: windows[0]!, kv, decodeRows: maxBatch };
  const oFoldParts = batched && windows.length === 1 ? Attention.partsOf(cache, batchShape, true) : null;
  const oFold = oFoldParts && !attnCombineUnsupported(oFoldParts, Q) ? oFoldParts : null;
  // The kernels that place rows in the KV cache, as a plain pass (one sequence from position pos)
  // or a batched one (each row placed by the step's row table).
  const placing = async (rowTable: boolean) => {
    // RoPE on q and k and the KV append as one dispatch where the head dimension allows, else three.
    const fusedPlace = RopeKv.applies(c.headDim);
    const [ropeKv, ropeQ, ropeK, kvAppend, ...attn] = await Promise.all([
      fusedPlace ? RopeKv.create(cache, { nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim, maxCtx: C, batched: rowTable, kv }) : null,
      fusedPlace ? null : Rope.create(cache, { nHeads: c.numHeads, headDim: c.headDim, batched: rowTable }),
      fusedPlace ? null : Rope.create(cache, { nHeads: c.numKvHeads, headDim: c.headDim, batched: rowTable }),
      fusedPlace ? null : KvAppend.create(cache, { kvDim: KV, maxCtx: C, batched: rowTable, kv }),
      ...windows.map((window) => Attention.create(cache, { nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim, maxCtx: C, window, kv, decodeRows: rowTable ? maxBatch : 1 }, undefined, rowTable)),
    ]);
    return { ropeKv, ropeQ, ropeK, kvAppend, attention: c.layerWindows.map((win) => attn[windows.indexOf(win)]!) };
  };
  const [embed, norm, mqkv, mo, mgu, mdown, lmHead, plain, batch, siluMul, decode] = await Promise.all([
    Embedding.create(cache, w.embed),
    RmsNorm.create(cache, D, c.normEps),
    // With W8A8 the norm before q/k/v and gate/up and the SiLU product before down_proj fold into
    // the quantizer of their activations (encodeFused).
    Matmul.create(cache, l0.wqkv, { ...bias(l0.bqkv), split: [Q, KV, KV], only: 'gemm', w8a8Input: { kind: 'rmsnorm', eps: c.normEps } }),
    // o_proj and down_proj add into the residual stream x in their epilogue (y += x W^T). With
    // W8A8, a batched decode step folds attention's combine into o_proj's quantizer.
    Matmul.create(cache, l0.wo, { ...bias(l0.bo), accumulate: true, ...(oFold ? { w8a8Input: { kind: 'attn_combine', parts: oFold } } : {}) }),
    Matmul.create(cache, l0.wGateUp, { ...bias(l0.bGateUp), split: [I, I], only: 'gemm', w8a8Input: { kind: 'rmsnorm', eps: c.normEps } }),
    Matmul.create(cache, l0.wDown, { ...bias(l0.bDown), accumulate: true, w8a8Input: { kind: 'silu_mul' } }),
    // lm_head over the rows that get logits; with W8A8 the final norm folds into its quantizer.
    Matmul.create(cache, w.lmHead, { rowsFrom: 'logit_rows', w8a8Input: { kind: 'rmsnorm', eps: c.normEps } }),
    placing(false),
    batched ? placing(true) : null,
    SiluMul.create(cache, { dim: I }),
    decodeKernels(),
  ]);
  const { attention } = plain;
  const invFreqUniform = decode ? QkvRope.invFreqUniform(device, ropeInvFreq(rope, c.headDim)) : null;
  if (invFreqUniform) keep(invFreqUniform);
  const { x, h, q, k, v, att, gate, up, act, lastX, lastH, logits, ids } = a as Record<string, GPUBuffer>;

  // Bind groups once, and each layer's dispatches in order.
  const layers = layersW.map((lw, l) => {
    const attnNorm = norm.bind(device, `L${l}.attnNorm`, { x, weight: lw.attnNorm, out: h });
    const qkv = mqkv.bind(device, `L${l}.qkv`, { w: lw.wqkv, x: h, y: [q, k, v], step: s, bias: lw.bqkv, w8a8Input: { x, aux: lw.attnNorm } });
    const o = mo.bind(device, `L${l}.o`, { w: lw.wo, x: att, y: x, step: s, bias: lw.bo });
    const mlpNorm = norm.bind(device, `L${l}.mlpNorm`, { x, weight: lw.mlpNorm, out: h });
    const gu = mgu.bind(device, `L${l}.gateUp`, { w: lw.wGateUp, x: h, y: [gate, up], step: s, bias: lw.bGateUp, w8a8Input: { x, aux: lw.mlpNorm } });
    const silu = siluMul.bind(device, `L${l}.siluMul`, { gate, up, out: act });
    const down = mdown.bind(device, `L${l}.down`, { w: lw.wDown, x: act, y: x, step: s, bias: lw.bDown, w8a8Input: { x: gate, aux: up } });
    // The pass over many rows, with the plain or the batched placing kernels.
    const rowsWith = (pk: Awaited<ReturnType<typeof placing>>, tag: string) => {
      const place: Op[] = [];
      if (pk.ropeKv) {
        const ropeKv = pk.ropeKv;
        const rkv = ropeKv.bind(device, `L${l}.ropeKv${tag}`, { q, k, v, kCache: kCache[l]!, vCache: vCache[l]!, invFreq, step: s });
        place.push((p, rows) => ropeKv.encode(p, rkv, rows));
      } else {
        const { ropeQ, ropeK, kvAppend } = pk as { ropeQ: Rope; ropeK: Rope; kvAppend: KvAppend };
        const rq = ropeQ.bind(device, `L${l}.ropeQ${tag}`, { x: q, invFreq, step: s });
        const rk = ropeK.bind(device, `L${l}.ropeK${tag}`, { x: k, invFreq, step: s });
        const append = kvAppend.bind(device, `L${l}.kvAppend${tag}`, { k, v, kCache: kCache[l]!, vCache: vCache[l]!, step: s });
        place.push((p, rows) => ropeQ.encode(p, rq, rows), (p, rows) => ropeK.encode(p, rk, rows), (p, rows) => kvAppend.encode(p, append, rows));
      }
      const attn = pk.attention[l]!;
      const attB = attn.bind(device, `L${l}.attention${tag}`, { q, kCache: kCache[l]!, vCache: vCache[l]!, out: att, step: s });
      // o_proj's binding that merges the splits itself (W8A8 passes on the split decode path).
      const parts = pk === batch && oFold ? attn.partsBuffer : null;
      const oMerge = parts ? mo.bind(device, `L${l}.o (attention merged in)`, { w: lw.wo, x: att, y: x, step: s, bias: lw.bo, w8a8Input: { x: parts } }) : null;
      const merged = (rows: number) => !!oMerge && attn.splitDecodes(rows) && mo.fusesInput(oMerge, rows);
      const attend: Op = (p, rows, pos) => attn.encode(p, attB, rows, pos, !merged(rows));
      const ops: Op[] = [
        // Attention block: x += o_proj(attention(rope(q), rope(k), v)) over the normed input.
        (p, rows) => { // q, k, v from one GEMM over the stacked weight, of h = norm(x)
          if (mqkv.encodeFused(p, qkv, rows)) return;
          norm.encode(p, attnNorm, rows);
          mqkv.encode(p, qkv, rows);
        },
        ...place, // rope(q), rope(k); k, v into the cache
        attend,
        (p, rows) => { // x += o_proj(att)
          if (merged(rows) && mo.encodeFused(p, oMerge!, rows)) return;
          mo.encode(p, o, rows);
        },
        // MLP block: x += down(silu(gate(h)) * up(h)).
        (p, rows) => { // gate, up from one GEMM, of h = norm(x)
          if (mgu.encodeFused(p, gu, rows)) return;
          norm.encode(p, mlpNorm, rows);
          mgu.encode(p, gu, rows);
        },
        (p, rows) => { // x += down(act), act = silu(gate) * up
          if (mdown.encodeFused(p, down, rows)) return;
          siluMul.encode(p, silu, rows);
          mdown.encode(p, down, rows);
        },
      ];
      return { ops, attend };
    };
    const { ops: rowsOps, attend } = rowsWith(plain, '');
    const batchOps = batch ? rowsWith(batch, ' batched').ops : undefined;
    if (!decode) return { rows: rowsOps, decode: rowsOps, batch: batchOps };
    // With a separate norm, the fused kernels read h, which the norm dispatch before them wrote.
    const qkvRope = decode.qkvRope.bind(device, `L${l}.qkvRope`, {
      w: lw.wqkv, x: separateNorm ? h : x, norm: separateNorm ? undefined : lw.attnNorm, q, kCache: kCache[l]!, vCache: vCache[l]!, invFreq: invFreqUniform!, step: s, bias: lw.bqkv,
    });
    const gateUpSilu = decode.gateUpSilu.bind(device, `L${l}.gateUpSilu`, { w: lw.wGateUp, x: separateNorm ? h : x, norm: separateNorm ? undefined : lw.mlpNorm, out: act, step: s, bias: lw.bGateUp });
    // Six dispatches per layer with RMSNorm fused in, eight with RMSNorm on its own.
    const decodeOps: Op[] = [
      ...(separateNorm ? [(p: GPUComputePassEncoder) => norm.encode(p, attnNorm, 1)] : []), // h = norm(x)
      (p) => decode.qkvRope.encode(p, qkvRope), // q = rope(q(norm(x))); k, v into the cache at pos
      attend,
      (p) => mo.encode(p, o, 1), // x += o_proj(att)
      ...(separateNorm ? [(p: GPUComputePassEncoder) => norm.encode(p, mlpNorm, 1)] : []),
      (p) => decode.gateUpSilu.encode(p, gateUpSilu), // act = silu(gate(norm(x))) * up(norm(x))
      (p) => mdown.encode(p, down, 1), // x += down(act)
    ];
    return { rows: rowsOps, decode: decodeOps, batch: batchOps };
  });
  // The attention kernels make their decode scratch while binding.
  for (const b of new Set(attention.flatMap((k) => k.buffers))) keep(b);

  const embedB = embed.bind(device, 'embed', { w: w.embed, ids, out: x });
  const finalNorm = norm.bind(device, 'finalNorm', { x: lastX, weight: w.finalNorm, out: lastH });
  const headB = lmHead.bind(device, 'lmHead', { w: w.lmHead, x: lastH, y: logits, step: s, w8a8Input: { x: lastX, aux: w.finalNorm } });
  const head: Op[] = [(p, rows) => { // logits = lm_head(norm(x)) over the logit rows
    if (lmHead.encodeFused(p, headB, rows)) return;
    norm.encode(p, finalNorm, rows);
    lmHead.encode(p, headB, rows);
  }];
  let headDecode: Op[];
  if (decode?.lmHead) {
    const fusedHead = decode.lmHead.bind(device, 'lmHead decode', { w: w.lmHead, x, y: logits, step: s, norm: w.finalNorm });
    headDecode = [(p) => decode.lmHead!.encode(p, fusedHead, 1)]; // logits = lm_head(norm(x))
  } else {
    const finalNormDecode = norm.bind(device, 'finalNorm decode', { x, weight: w.finalNorm, out: lastH });
    headDecode = [(p) => norm.encode(p, finalNormDecode, 1), (p) => lmHead.encode(p, headB, 1)];
  }
  return {
    embed: [(p, rows) => embed.encode(p, embedB, rows)],
    layers,
    head,
    headDecode,
    fusedDecode: decode !== null,
    separateDecodeNorm: decode !== null && separateNorm,
  };
};
