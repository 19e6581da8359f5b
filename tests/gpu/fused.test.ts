// The decode step's fused kernels against plain-TS references built from the unfused pieces:
// RMSNorm -> stacked q/k/v matmul (+bias) -> RoPE -> KV-cache write; RMSNorm -> gate/up -> SiLU;
// RMSNorm -> lm_head; and the prefill GEMM that splits a stacked projection into its outputs.
import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run, stepBuffer, packF16, unpackF16, roundF16 } from './harness';
import { uploadStorage, readF32, readBuffer } from '../../src/gpu/buffers';
import type { KvFormat } from '../../src/kernels/kv_cache';
import { Matmul } from '../../src/kernels/matmul';
import { QkvRope } from '../../src/kernels/gemv_qkv';
import { GateUpSilu } from '../../src/kernels/gemv_gate_up';
import { ropeInvFreq } from '../../src/kernels/rope';
import { uploadWeight } from '../../src/kernels/weights';
import type { GemvTuning } from '../../src/kernels/gemv';
import { packWeight, unpackWeight, type WeightFormat } from '../../src/kernels/formats';
import type { PipelineCache } from '../../src/gpu/pipelines';
import { parseConfig } from '../../src/model/config';
import { loadSyntheticEngine } from '../../src/bench/synthetic';

const SENTINEL = -12345.5;
const EPS = 1e-5;

function rmsnormRef(x: Float32Array, g: Float32Array): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + EPS);
  return Float64Array.from(x, (v, i) => v * inv * g[i]!);
}

/** y[n] = sum_k x[k] W[n, k] (+ b[n]) in float64. */
function gemvRef(x: ArrayLike<number>, w: Float32Array, b: Float32Array | undefined, n: number, k: number): Float64Array {
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = b ? b[j]! : 0;
    for (let c = 0; c < k; c++) s += x[c]! * w[j * k + c]!;
    y[j] = s;
  }
  return y;
}

/** HF rotate_half RoPE of one head vector at position pos. */
function ropeRef(v: Float64Array, off: number, hd: number, pos: number, inv: Float32Array): void {
  const half = hd / 2;
  for (let i = 0; i < half; i++) {
    const a = v[off + i]!;
    const b = v[off + i + half]!;
    const ang = Math.fround(pos * inv[i]!);
    v[off + i] = a * Math.cos(ang) - b * Math.sin(ang);
    v[off + i + half] = b * Math.cos(ang) + a * Math.sin(ang);
  }
}

const silu = (v: number) => v / (1 + Math.exp(-v));

describe('fused decode kernels', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  // [format, group, heads, kv heads, head dim, D, pos, bias, tuning]: GQA 1, 2, 4 and 7, head dims
  // 8 to 128, positions past 0, and both lane reductions.
  // A ninth field splits the weight over buffers of that many rows (a binding limit lowered on purpose).
  const QKV: Array<[WeightFormat, number | undefined, number, number, number, number, number, boolean, Partial<GemvTuning>, number?]> = [
    ['f32', undefined, 4, 4, 8, 64, 3, false, {}],
    ['f16', undefined, 8, 4, 16, 96, 17, true, { tpr: 8, subgroups: false }],
    ['int8', 32, 8, 2, 12, 128, 40, false, { upt: 2, unpack: 'mantissa' }],
    ['int8', 128, 7, 1, 16, 112, 1000, true, { tpr: 4, unpack: 'magic', unroll: 2 }],
    ['f16', undefined, 2, 1, 128, 64, 250, false, { tpr: 2, upt: 3 }],
    // the thread schedule of software adapters ({} above is it, on SwiftShader)
    ['int8', 128, 7, 1, 16, 112, 1000, true, { schedule: 'thread' }],
    ['f16', undefined, 2, 1, 128, 64, 250, false, { schedule: 'thread', wg: 4 }],
    ['f32', undefined, 4, 4, 8, 64, 3, false, { schedule: 'lanes' }],
    ['int8', 32, 8, 2, 12, 128, 40, true, { schedule: 'thread' }, 56],
    ['f16', undefined, 8, 4, 16, 96, 17, false, { tpr: 8 }, 100],
    ['q4', 32, 8, 2, 12, 128, 40, true, { tpr: 4 }],
    ['q4', 32, 4, 4, 8, 64, 3, false, { schedule: 'thread' }],
  ];
  // Cases written again into an f16 cache (one u32 per pair of rows, kv_cache.ts).
  const F16_CACHE = new Set([1, 3, 5, 6, 10, 11]);
  for (const [i, [format, group, H, KVH, hd, D, pos, hasBias, tuning, partRows]] of QKV.entries()) for (const kv of (F16_CACHE.has(i) ? ['f32', 'f16'] : ['f32']) as KvFormat[]) {
    it(`qkv_rope ${format}${group ? ` g${group}` : ''} heads=${H}/${KVH} hd=${hd} D=${D} pos=${pos}${hasBias ? ' +bias' : ''} ${JSON.stringify(tuning)}${partRows ? ` split every ${partRows} rows` : ''}, ${kv} cache`, async () => {
      const Q = H * hd;
      const KV = KVH * hd;
      const N = Q + 2 * KV;
      const maxCtx = pos + 2;
      const seed = H * 100 + hd + D + pos;
      const w = randn(N * D, seed, 0.3);
      const x = randn(D, seed + 1, 2);
      const g = randn(D, seed + 2, 0.5).map((v) => 1 + v);
      const b = hasBias ? randn(N, seed + 3) : undefined;
      const invFreq = ropeInvFreq({ theta: 10000, type: 'default' }, hd);
      const packed = packWeight(w, N, D, format, group);
      const gw = uploadWeight(device, 'wqkv', packed, partRows ? partRows * packed.rowStride * 4 : undefined);
      if (partRows) expect(gw.more.length).toBe(Math.ceil(N / partRows) - 1);
      const shape = { nHeads: H, nKvHeads: KVH, headDim: hd, maxCtx, eps: EPS, bias: hasBias, kv };
      const k = await QkvRope.create(cache, gw, shape, tuning);
      const q = uploadStorage(device, 'q', new Float32Array(Q).fill(SENTINEL));
      const fill = new Float32Array(maxCtx * KV).fill(SENTINEL);
      const kCache = uploadStorage(device, 'kCache', kv === 'f16' ? packF16(fill) : fill);
      const vCache = uploadStorage(device, 'vCache', kv === 'f16' ? packF16(fill) : fill);
      const bg = k.bind(device, 't', {
        w: gw, x: uploadStorage(device, 'x', x), norm: uploadStorage(device, 'g', g), q, kCache, vCache,
        invFreq: QkvRope.invFreqUniform(device, invFreq), step: stepBuffer(device, 1, pos).buffer,
        bias: b ? uploadStorage(device, 'b', b) : undefined,
      });
      await run(device, (p) => k.encode(p, bg));

      const y = gemvRef(rmsnormRef(x, g), unpackWeight(packed), b, N, D);
      for (let h = 0; h < H + KVH; h++) ropeRef(y, h * hd, hd, pos, invFreq);
      const atol = 2e-4 * Math.sqrt(D / 64) * 3;
      expectClose(await readF32(device, q, Q), y.subarray(0, Q), atol, 1e-4, 'q');
      const readCache = async (b: GPUBuffer) =>
        kv === 'f16' ? unpackF16(new Uint32Array(await readBuffer(device, b, maxCtx * KV * 2))) : readF32(device, b, maxCtx * KV);
      const kc = await readCache(kCache);
      const vc = await readCache(vCache);
      // An f16 cache holds the values rounded to f16: one f16 ulp more of relative error.
      const rtol = kv === 'f16' ? 1e-4 + 2 ** -10 : 1e-4;
      expectClose(kc.subarray(pos * KV, (pos + 1) * KV), y.subarray(Q, Q + KV), atol, rtol, 'k at pos');
      expectClose(vc.subarray(pos * KV, (pos + 1) * KV), y.subarray(Q + KV), atol, rtol, 'v at pos');
      // Only row pos of each cache was written.
      for (const [name, c] of [['k', kc], ['v', vc]] as const) {
        const other = [...c.subarray(0, pos * KV), ...c.subarray((pos + 1) * KV)];
        const sentinel = kv === 'f16' ? roundF16([SENTINEL])[0] : SENTINEL;
        expect(other.every((v) => v === sentinel), `${name} cache rows other than ${pos} untouched`).toBe(true);
      }
    });
  }

  // GPT-2's decode q/k/v: no RMSNorm (x is ln_1's output) and no RoPE, k and v still into the cache at pos.
  for (const [format, H, hd, D, pos, tuning] of [['f32', 4, 16, 64, 5, {}], ['int8', 3, 12, 36 * 4, 0, { schedule: 'lanes', tpr: 4 }], ['q4', 2, 16, 64, 7, { schedule: 'thread' }]] as const) {
    it(`qkv without norm and RoPE ${format} heads=${H} hd=${hd} D=${D} pos=${pos} ${JSON.stringify(tuning)}`, async () => {
      const N = 3 * H * hd;
      const Q = H * hd;
      const maxCtx = pos + 1;
      const w = randn(N * D, D + pos, 0.3);
      const x = randn(D, D + pos + 1, 2);
      const b = randn(N, D + pos + 2);
      const packed = packWeight(w, N, D, format);
      const gw = uploadWeight(device, 'wqkv', packed);
      const k = await QkvRope.create(cache, gw, { nHeads: H, nKvHeads: H, headDim: hd, maxCtx, eps: EPS, bias: true, norm: false, rope: false }, tuning as Partial<GemvTuning>);
      const q = uploadStorage(device, 'q', new Float32Array(Q).fill(SENTINEL));
      const kCache = uploadStorage(device, 'kCache', new Float32Array(maxCtx * Q).fill(SENTINEL));
      const vCache = uploadStorage(device, 'vCache', new Float32Array(maxCtx * Q).fill(SENTINEL));
      // Frequencies that would rotate (were RoPE on, q and k would differ from the plain product).
      const invFreq = QkvRope.invFreqUniform(device, ropeInvFreq({ theta: 10000, type: 'default' }, hd));
      const bg = k.bind(device, 't', { w: gw, x: uploadStorage(device, 'x', x), q, kCache, vCache, invFreq, step: stepBuffer(device, 1, pos).buffer, bias: uploadStorage(device, 'b', b) });
      await run(device, (p) => k.encode(p, bg));
      const y = gemvRef(x, unpackWeight(packed), b, N, D);
      const atol = 2e-4 * Math.sqrt(D / 64) * 3;
      expectClose(await readF32(device, q, Q), y.subarray(0, Q), atol, 1e-4, 'q');
      expectClose((await readF32(device, kCache, maxCtx * Q)).subarray(pos * Q), y.subarray(Q, 2 * Q), atol, 1e-4, 'k at pos');
      expectClose((await readF32(device, vCache, maxCtx * Q)).subarray(pos * Q), y.subarray(2 * Q), atol, 1e-4, 'v at pos');
    });
  }

  const GATE_UP: Array<[WeightFormat, number | undefined, number, number, boolean, Partial<GemvTuning>, number?]> = [
    ['f32', undefined, 86, 64, false, {}],
    ['f16', undefined, 200, 120, true, { tpr: 16, upt: 2 }],
    ['int8', 128, 172, 64, false, { tpr: 1, unpack: 'mantissa' }],
    ['int8', 32, 350, 256, true, { tpr: 4, subgroups: false, unpack: 'magic', unroll: 3 }],
    ['int8', 32, 350, 256, true, { schedule: 'thread' }],
    ['f32', undefined, 86, 64, false, { schedule: 'lanes' }],
    ['f16', undefined, 200, 120, true, { schedule: 'thread' }, 96],
    ['int8', 32, 350, 256, false, { tpr: 4 }, 256],
    ['q4', 32, 172, 64, true, { tpr: 2, unpack: 'mul' }],
    ['q4', 64, 350, 256, false, { schedule: 'thread' }],
  ];
  for (const [format, group, I, D, hasBias, tuning, partRows] of GATE_UP) {
    it(`gate_up_silu ${format}${group ? ` g${group}` : ''} I=${I} D=${D}${hasBias ? ' +bias' : ''} ${JSON.stringify(tuning)}${partRows ? ` split every ${partRows} rows` : ''}`, async () => {
      const seed = I + D;
      const w = randn(2 * I * D, seed, 0.3);
      const x = randn(D, seed + 1, 2);
      const g = randn(D, seed + 2, 0.5).map((v) => 1 + v);
      const b = hasBias ? randn(2 * I, seed + 3) : undefined;
      const packed = packWeight(w, 2 * I, D, format, group);
      const gw = uploadWeight(device, 'wGateUp', packed, partRows ? partRows * packed.rowStride * 4 : undefined);
      if (partRows) expect(gw.more.length).toBe(Math.ceil((2 * I) / partRows) - 1);
      const k = await GateUpSilu.create(cache, gw, { eps: EPS, bias: hasBias }, tuning);
      const out = uploadStorage(device, 'act', new Float32Array(I + 1).fill(SENTINEL));
      const bg = k.bind(device, 't', {
        w: gw, x: uploadStorage(device, 'x', x), norm: uploadStorage(device, 'g', g), out, step: stepBuffer(device, 1, 0).buffer,
        bias: b ? uploadStorage(device, 'b', b) : undefined,
      });
      await run(device, (p) => k.encode(p, bg));
      const y = gemvRef(rmsnormRef(x, g), unpackWeight(packed), b, 2 * I, D);
      const want = Float64Array.from({ length: I }, (_, i) => silu(y[i]!) * y[I + i]!);
      const got = await readF32(device, out, I + 1);
      expectClose(got, want, 3e-4 * Math.sqrt(D / 64), 2e-4, 'act');
      expect(got[I]).toBe(SENTINEL);
    });
  }

  for (const schedule of ['lanes', 'thread'] as const) it(`lm_head with the final RMSNorm fused in (logit_rows, ${schedule})`, async () => {
    const [V, D] = [1001, 96];
    const w = randn(V * D, 5, 0.3);
    const x = randn(D, 6, 2);
    const g = randn(D, 7, 0.5).map((v) => 1 + v);
    const packed = packWeight(w, V, D, 'int8', 32);
    const gw = uploadWeight(device, 'lm', packed);
    const mm = await Matmul.create(cache, gw, { rowsFrom: 'logit_rows', normEps: EPS, only: 'gemv', tuning: { schedule } });
    const y = uploadStorage(device, 'y', new Float32Array(V).fill(SENTINEL));
    const bound = mm.bind(device, 't', { w: gw, x: uploadStorage(device, 'x', x), y, step: stepBuffer(device, 1, 9).buffer, norm: uploadStorage(device, 'g', g) });
    await run(device, (p) => mm.encode(p, bound, 1));
    expectClose(await readF32(device, y, V), gemvRef(rmsnormRef(x, g), unpackWeight(packed), undefined, V, D), 4e-4, 2e-4, 'logits');
  });

  for (const gemm of ['wide', 'tiled', 'thread'] as const) it(`prefill GEMM splits a stacked projection into its outputs (${gemm})`, async () => {
    const [rows, k] = [9, 40];
    const widths = [24, 8, 8];
    const n = widths.reduce((a, b) => a + b);
    const w = randn(n * k, 11, 0.3);
    const x = randn(rows * k, 12);
    const b = randn(n, 13);
    const packed = packWeight(w, n, k, 'f16');
    const gw = uploadWeight(device, 'wqkv', packed);
    const mm = await Matmul.create(cache, gw, { bias: true, split: widths, only: 'gemm', gemm });
    expect(mm.gemmVariant).toBe(gemm);
    const outs = widths.map((c, i) => uploadStorage(device, `y${i}`, new Float32Array((rows + 1) * c).fill(SENTINEL)));
    const bound = mm.bind(device, 't', { w: gw, x: uploadStorage(device, 'x', x), y: outs, step: stepBuffer(device, rows, 0).buffer, bias: uploadStorage(device, 'b', b) });
    await run(device, (p) => mm.encode(p, bound, rows));
    const wq = unpackWeight(packed);
    let col = 0;
    for (const [i, c] of widths.entries()) {
      const want = new Float64Array(rows * c);
      for (let r = 0; r < rows; r++) want.set(gemvRef(x.subarray(r * k, (r + 1) * k), wq.subarray(col * k, (col + c) * k), b.subarray(col, col + c), c, k), r * c);
      const got = await readF32(device, outs[i]!, (rows + 1) * c);
      expectClose(got, want, 2e-4, 1e-4, `output ${i}`);
      expect(got.subarray(rows * c).every((v) => v === SENTINEL)).toBe(true);
      col += c;
    }
  });

  it('refuses shapes the fused kernels cannot take', async () => {
    const w = uploadWeight(device, 'w', packWeight(new Float32Array(48 * 36), 48, 36, 'int8', 4));
    expect(QkvRope.applies(w, { headDim: 8 })).toBe(false); // K = 36 is not whole 16-byte loads
    await expect(QkvRope.create(cache, w, { nHeads: 4, nKvHeads: 1, headDim: 8, maxCtx: 4, eps: EPS, bias: false })).rejects.toThrow(/qkv_rope/);
    const w2 = uploadWeight(device, 'w2', packWeight(new Float32Array(48 * 32), 48, 32, 'f32'));
    await expect(QkvRope.create(cache, w2, { nHeads: 2, nKvHeads: 1, headDim: 10, maxCtx: 4, eps: EPS, bias: false })).rejects.toThrow(/head_dim/);
  });
});

describe('decode without the fused kernels', () => {
  // hidden 70 is not whole 16-byte loads, so the fused decode kernels cannot run: a decode step
  // takes the many-row schedule with one row. Its greedy tokens must be the argmax of the logits
  // that one prefill pass over the same sequence computes.
  it('odd shapes fall back to the many-row schedule, with the same tokens as a full pass', async () => {
    const { ctx } = await gpu();
    const config = parseConfig({ model_type: 'qwen2', hidden_size: 70, intermediate_size: 98, num_hidden_layers: 2, num_attention_heads: 5, num_key_value_heads: 1, vocab_size: 37, tie_word_embeddings: true, max_position_embeddings: 64 });
    const engine = await loadSyntheticEngine(ctx, { name: 'odd', config }, 'f32', { contextLength: 32, maxLogitRows: 32, maxRows: 32 });
    try {
      expect(engine.forward.fusedDecode).toBe(false);
      const prompt = [3, 14, 15, 9];
      const ids: number[] = [];
      for await (const t of engine.generate(prompt, { maxNewTokens: 6, stopIds: [] })) ids.push(t.id);
      const all = [...prompt, ...ids];
      const logits = await engine.logits(all.slice(0, -1));
      const V = config.vocabSize;
      const argmaxAt = (row: number) => {
        let best = 0;
        for (let i = 1; i < V; i++) if (logits[row * V + i]! > logits[row * V + best]!) best = i;
        return best;
      };
      expect(ids).toEqual(ids.map((_, i) => argmaxAt(prompt.length - 1 + i)));
    } finally {
      engine.destroy();
    }
  });
});
