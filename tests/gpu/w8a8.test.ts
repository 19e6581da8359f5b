// W8A8 (kernels/matmul_w8a8.ts): int8 weights against activations quantized to 8 bits per row and
// weight group. On SwiftShader this runs the dot4I8Packed GEMM, the reference of the
// subgroup-matrix one (scripts/check-w8a8.ts holds the two to each other on a GPU that has
// subgroup matrices). Checked here against plain TS: the quantizer value by value, the GEMM on the
// quantizer's own output (exact integer group sums, so only f32 rounding is left), and the whole
// against the f32-activation product within the bound the activations' rounding allows.
import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run, stepBuffer } from './harness';
import { uploadStorage, readF32 } from '../../src/gpu/buffers';
import { Matmul } from '../../src/kernels/matmul';
import { w8a8Scratch, w8a8RowsDefault, W8A8_ROWS_DEFAULT } from '../../src/kernels/matmul_w8a8';
import { Attention } from '../../src/kernels/attention';
import { createStorage } from '../../src/gpu/buffers';
import { RmsNorm } from '../../src/kernels/rmsnorm';
import { SiluMul } from '../../src/kernels/silu_mul';
import { uploadWeight } from '../../src/kernels/weights';
import { packWeight, unpackWeight } from '../../src/kernels/formats';
import { PipelineCache } from '../../src/gpu/pipelines';
import { Engine } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import { logitsAgreement } from '../../src/bench/metrics';
import { nrmseLimit } from '../../src/bench/verify';
import { modelDir, reference } from '../unit/fixtures';
import type { GpuContext } from '../../src/gpu/device';

const f = Math.fround;

/** Round half to even (WGSL's round). */
function roundEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The quantizer in plain TS: per row and group of G, s = max|x| / 127, q = round(x * 127 / max). */
function quantizeRef(x: Float32Array, rows: number, k: number, g: number): { q: Int8Array; s: Float32Array; edge: Uint8Array } {
  const groups = Math.ceil(k / g);
  const q = new Int8Array(rows * k);
  const s = new Float32Array(rows * groups);
  const edge = new Uint8Array(rows * k); // x * inv within rounding noise of a .5: either neighbour is right
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < groups; j++) {
      let m = 0;
      for (let c = j * g; c < Math.min(k, (j + 1) * g); c++) m = Math.max(m, Math.abs(x[r * k + c]!));
      const inv = m > 0 ? f(127 / m) : 0;
      s[r * groups + j] = f(m / 127);
      for (let c = j * g; c < Math.min(k, (j + 1) * g); c++) {
        const v = f(x[r * k + c]! * inv);
        q[r * k + c] = Math.max(-127, Math.min(127, roundEven(v)));
        edge[r * k + c] = Math.abs(Math.abs(v % 1) - 0.5) < 1e-4 ? 1 : 0;
      }
    }
  }
  return { q, s, edge };
}

interface Case {
  n: number;
  k: number;
  g: number;
  rows: number;
  bias?: boolean;
  accumulate?: boolean;
  split?: number[];
  /** bytes per weight buffer (the weight split by rows over several) */
  maxBytes?: number;
}

// K not a multiple of G (a short last group), K of 4s but not of 16s, odd N, a split output, bias,
// the residual add, rows from 2 up past a 64-row tile, and K past one chunk of the quantizer.
const CASES: Case[] = [
  { n: 37, k: 100, g: 32, rows: 7 },
  { n: 100, k: 300, g: 128, rows: 2, bias: true },
  { n: 57, k: 256, g: 128, rows: 33, accumulate: true, bias: true },
  { n: 96, k: 68, g: 32, rows: 70, split: [48, 32, 16] },
  { n: 24, k: 1100, g: 32, rows: 3 }, // the quantizer's rows in two chunks of 1,024 columns
  // Shapes the few-rows GEMM reads (K and G multiples of 16, at most 16 rows), each run through it
  // and through the reference: N not a multiple of 4 or of a workgroup's units, 2 to 16 rows (the
  // four rows-per-workgroup tiles, rows past a tile's end), bias and the residual add, a split
  // output, and the weight split over several buffers by rows.
  { n: 37, k: 256, g: 32, rows: 5 },
  { n: 130, k: 512, g: 128, rows: 16, bias: true, accumulate: true },
  { n: 64, k: 96, g: 16, rows: 9, split: [32, 16, 16] },
  { n: 21, k: 1024, g: 64, rows: 2 },
  { n: 70, k: 128, g: 128, rows: 3, maxBytes: 36 * 128 }, // two buffers of 36 and 34 rows
];

/** Whether the few-rows GEMM runs a case (matmul_w8a8.ts: w8a8RowsApplies, W8A8_ROWS_MAX). */
const rowsRun = (c: Case) => c.k % 16 === 0 && c.g % 16 === 0 && c.rows <= 16;
/**
 * The few-rows GEMM's other form: chunk pairing and the conversion each the opposite of the
 * default's, and at most 4 rows per workgroup (passes of 5 to 16 rows take several along y).
 */
const ROWS_ALT = { ...W8A8_ROWS_DEFAULT, pair: !W8A8_ROWS_DEFAULT.pair, magic: !W8A8_ROWS_DEFAULT.magic, maxTile: 4 };
/** A third: 8 x 1 groups, unpaired with one weight chunk in flight per step, 16-row tiles, the row blocks along the grid's other axis. */
const ROWS_ALT2 = { kw: 8, ug: 1, pair: false, inflight: 1 as const, maxTile: 16, rowsFirst: !W8A8_ROWS_DEFAULT.rowsFirst };
/**
 * A fourth: 2 x 4 groups, unpaired with four weight chunks in flight per step, tiles of at most 8
 * rows along x, the lanes' sums through subgroup shuffles (here SwiftShader's subgroups of 4: two
 * partials per unit meet in workgroup memory).
 */
const ROWS_ALT3 = { kw: 2, ug: 4, pair: false, inflight: 4 as const, maxTile: 8, rowsFirst: true, sgReduce: true };

describe('W8A8 matmul (dot4I8Packed)', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  let ctx: GpuContext;
  beforeAll(async () => ({ device, cache, ctx } = await gpu()));

  it('few-rows GEMM default: the shuffle reduction only where the adapter has subgroups', () => {
    expect(W8A8_ROWS_DEFAULT.sgReduce).toBe(true);
    expect(w8a8RowsDefault(32)).toEqual(W8A8_ROWS_DEFAULT);
    expect(w8a8RowsDefault(4).sgReduce).toBe(true);
    expect(w8a8RowsDefault(0)).toEqual({ ...W8A8_ROWS_DEFAULT, sgReduce: false });
  });

  it('is off by default on an adapter without subgroup matrices, and runs from 2 rows when asked', async () => {
    const w = uploadWeight(device, 'w', packWeight(randn(64 * 64, 1), 64, 64, 'int8', 32));
    const auto = await Matmul.create(cache, w, {});
    expect(ctx.features.subgroupMatrixI8).toBeNull();
    expect(auto.w8a8For(512)).toBeNull();
    const dp4a = await Matmul.create(cache, w, { w8a8: 'dp4a' });
    // Up to 16 rows the few-rows GEMM, beyond them the kernel; 'kernel' keeps the kernel throughout.
    expect([1, 2, 16, 17, 512].map((r) => dp4a.w8a8For(r))).toEqual([null, 'rows', 'rows', 'dp4a', 'dp4a']);
    const ref = await Matmul.create(cache, w, { w8a8: 'dp4a', w8a8Few: 'kernel' });
    expect([2, 16].map((r) => ref.w8a8For(r))).toEqual(['dp4a', 'dp4a']);
    // On a GPU without subgroup matrices (here: the GPU kernel set forced), 'auto' runs the few-rows
    // GEMM alone: passes past 16 rows keep f32 activations, as does a software adapter throughout.
    const gpuCache = new PipelineCache(device, { software: false });
    const autoGpu = await Matmul.create(gpuCache, w, {});
    expect([1, 2, 16, 17, 512].map((r) => autoGpu.w8a8For(r))).toEqual([null, 'rows', 'rows', null, null]);
    const rowsOnly = await Matmul.create(cache, w, { w8a8: 'rows' });
    expect([2, 17].map((r) => rowsOnly.w8a8For(r))).toEqual(['rows', null]);
    expect((await Matmul.create(new PipelineCache(device, { software: false, w8a8: 'off' }), w, {})).w8a8For(4)).toBeNull();
    const odd = uploadWeight(device, 'w odd', packWeight(randn(8 * 128, 1), 8, 128, 'int8', 8));
    expect((await Matmul.create(cache, odd, { w8a8: 'dp4a' })).w8a8For(4), 'groups of 8: the kernel').toBe('dp4a');
    await expect(Matmul.create(cache, odd, { w8a8: 'dp4a', w8a8Few: 'rows' })).rejects.toThrow(/multiples of 16/);
    await expect(Matmul.create(cache, w, { w8a8: 'sgmat' })).rejects.toThrow(/no i8 subgroup matrices/);
    const f16 = uploadWeight(device, 'w16', packWeight(randn(64 * 64, 1), 64, 64, 'f16'));
    await expect(Matmul.create(cache, f16, { w8a8: 'dp4a' })).rejects.toThrow(/int8/);
  });

  for (const [c, few] of CASES.flatMap((c) => (rowsRun(c) ? (['kernel', 'rows', 'rows-alt', 'rows-alt2', 'rows-alt3'] as const) : (['kernel'] as const)).map((few) => [c, few] as const))) {
    const name = `${few === 'rows' ? 'few-rows GEMM' : few === 'rows-alt' ? `few-rows GEMM ${ROWS_ALT.pair ? 'paired' : 'unpaired'}, ${ROWS_ALT.magic ? 'bit' : 'instruction'} conversion, tiles of 4 rows` : few === 'rows-alt2' ? `few-rows GEMM 8 x 1, one chunk in flight, tiles of 16 rows along ${ROWS_ALT2.rowsFirst ? 'x' : 'y'}` : few === 'rows-alt3' ? 'few-rows GEMM 2 x 4, four chunks in flight, tiles of 8 rows along x, shuffle reduction' : 'reference'}: ${c.n}x${c.k} g${c.g}, ${c.rows} rows${c.bias ? ', bias' : ''}${c.accumulate ? ', accumulate' : ''}${c.split ? `, split ${c.split.join('+')}` : ''}${c.maxBytes ? ', weight in parts' : ''}`;
    it(name, async () => {
      const { n, k, g, rows } = c;
      const wf = randn(n * k, 11 + n, 0.5);
      wf.fill(0, 2 * k, 2 * k + g); // an all-zero weight group
      const x = randn(rows * k, 5 + k);
      x.fill(0, k, k + Math.min(k, g)); // an all-zero activation group (scale 0)
      x[3] = 40; // an outlier: its group's other values round coarsely
      const packed = packWeight(wf, n, k, 'int8', g);
      const wdq = unpackWeight(packed);
      const ws = packed.scales!;
      const groups = Math.ceil(k / g);
      const bias = c.bias ? randn(n, 3) : undefined;
      const y0 = randn((rows + 1) * n, 9);
      const gw = uploadWeight(device, 'w', packed, c.maxBytes);
      if (c.maxBytes) expect(gw.partRows).toBeLessThan(n);
      const xb = uploadStorage(device, 'x', x);
      const fewOpts = few === 'kernel' ? { w8a8Few: few } : { w8a8Few: 'rows' as const, w8a8RowsTuning: few === 'rows' ? W8A8_ROWS_DEFAULT : few === 'rows-alt' ? ROWS_ALT : few === 'rows-alt2' ? ROWS_ALT2 : ROWS_ALT3 };
      const mm = await Matmul.create(cache, gw, { w8a8: 'dp4a', ...fewOpts, bias: !!bias, accumulate: !!c.accumulate, ...(c.split ? { split: c.split, only: 'gemm' as const } : {}) });
      expect(mm.w8a8For(rows)).toBe(few === 'kernel' ? 'dp4a' : 'rows');
      const parts = c.split ?? [n];
      const ys = parts.map((p) => uploadStorage(device, 'y', y0.subarray(0, (rows + 1) * p)));
      const step = stepBuffer(device, rows, 0);
      const b = mm.bind(device, 'w8a8', { w: gw, x: xb, y: ys.length > 1 ? ys : ys[0]!, step: step.buffer, bias: bias && uploadStorage(device, 'bias', bias) });
      await run(device, (p) => mm.encode(p, b, rows));

      // 1. The quantizer.
      const scratch = w8a8Scratch(xb, k)!;
      const gq = new Int8Array((await readF32(device, scratch.xq, (rows * k) / 4)).buffer);
      const gs = await readF32(device, scratch.xs, rows * groups);
      const want = quantizeRef(x, rows, k, g);
      expectClose(gs, want.s, 0, 1e-6, 'activation scales');
      let off = 0;
      for (let i = 0; i < rows * k; i++) {
        const d = Math.abs(gq[i]! - want.q[i]!);
        if (d > 1 || (d === 1 && !want.edge[i])) off++;
      }
      expect(off, '8-bit activations off the reference').toBe(0);

      // 2. The GEMM on the quantizer's own output, group sums exact, scaled and added in group order.
      const got = new Float32Array(rows * n);
      let col = 0;
      for (const [i, buf] of ys.entries()) {
        const part = await readF32(device, buf, (rows + 1) * parts[i]!);
        for (let r = 0; r < rows; r++) got.set(part.subarray(r * parts[i]!, (r + 1) * parts[i]!), r * n + col);
        // The row past the pass is untouched.
        expect(Array.from(part.subarray(rows * parts[i]!)), 'row past the pass').toEqual(Array.from(y0.subarray(rows * parts[i]!, (rows + 1) * parts[i]!)));
        col += parts[i]!;
      }
      const wq = new Int8Array(n * k);
      for (let j = 0; j < n; j++) for (let c2 = 0; c2 < k; c2++) {
        const s = ws[j * groups + Math.floor(c2 / g)]!;
        wq[j * k + c2] = s === 0 ? 0 : Math.round(wdq[j * k + c2]! / s);
      }
      const exact = new Float32Array(rows * n);
      const bound = new Float64Array(rows * n);
      const f32act = new Float64Array(rows * n);
      for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) {
        let acc = 0;
        let slack = 0;
        let ref = 0;
        for (let t = 0; t < groups; t++) {
          let sum = 0;
          let absW = 0;
          for (let c2 = t * g; c2 < Math.min(k, (t + 1) * g); c2++) {
            sum += gq[r * k + c2]! * wq[j * k + c2]!;
            absW += Math.abs(wdq[j * k + c2]!);
            ref += x[r * k + c2]! * wdq[j * k + c2]!;
          }
          acc = f(acc + f(sum * f(gs[r * groups + t]! * ws[j * groups + t]!)));
          slack += (gs[r * groups + t]! / 2) * absW;
        }
        const extra = (bias ? bias[j]! : 0) + (c.accumulate ? y0[r * n + j]! : 0);
        exact[r * n + j] = f(acc + extra);
        f32act[r * n + j] = ref + extra;
        bound[r * n + j] = slack;
      }
      expectClose(got, exact, 2e-5, 2e-6, 'W8A8 GEMM vs TS on the same 8-bit activations');

      // 3. Against f32 activations: within half a step of each group's scale times its |weights|.
      let worst = 0;
      let moved = 0;
      for (let i = 0; i < rows * n; i++) {
        const d = Math.abs(got[i]! - f32act[i]!);
        worst = Math.max(worst, d / (bound[i]! + 1e-4));
        if (d > 1e-4) moved++;
      }
      expect(worst, 'error over the rounding bound').toBeLessThanOrEqual(1);
      expect(moved, 'the 8-bit activations changed something (the path ran)').toBeGreaterThan(0);
    });
  }
});

describe('W8A8 with the kernel before it folded into the quantizer', () => {
  // The fused quantizer reads RMSNorm(x) * weight, or silu(gate) * up, where the separate path
  // runs the norm (rmsnorm_vec4.wgsl) or silu_mul.wgsl and quantizes what they wrote: the 8-bit
  // activations and scales must be the same, and so the outputs.
  const n = 40;
  const k = 1288; // 322 vec4s: a row is two chunks of the quantizer, the second partly empty
  const g = 8;
  const rows = 6;
  for (const kind of ['rmsnorm', 'silu_mul'] as const) {
    it(kind, async () => {
      const { device, cache } = await gpu();
      const packed = packWeight(randn(n * k, 31, 0.5), n, k, 'int8', g);
      const gw = uploadWeight(device, 'w', packed);
      const a = randn(rows * k, 32, 3); // raw x, or gate
      const b2 = kind === 'rmsnorm' ? randn(k, 33) : randn(rows * k, 34); // norm weight, or up
      const aBuf = uploadStorage(device, 'a', a);
      const bBuf = uploadStorage(device, 'b', b2);
      const mid = uploadStorage(device, 'mid', new Float32Array(rows * k)); // what the separate kernel writes
      const input = kind === 'rmsnorm' ? { kind, eps: 1e-5 } as const : { kind } as const;
      const mm = await Matmul.create(cache, gw, { w8a8: 'dp4a', w8a8Input: input });
      const plainMm = await Matmul.create(cache, gw, { w8a8: 'off' });
      const step = stepBuffer(device, rows, 0);
      const yFused = uploadStorage(device, 'yf', new Float32Array(rows * n));
      const ySep = uploadStorage(device, 'ys', new Float32Array(rows * n));
      const fused = mm.bind(device, 'fused', { w: gw, x: mid, y: yFused, step: step.buffer, w8a8Input: { x: aBuf, aux: bBuf } });
      const sep = mm.bind(device, 'separate', { w: gw, x: mid, y: ySep, step: step.buffer });
      const plain = plainMm.bind(device, 'plain', { w: gw, x: mid, y: ySep, step: step.buffer, w8a8Input: { x: aBuf, aux: bBuf } });
      // Fused only where W8A8 runs: not for one row (the GEMV), not without W8A8.
      await run(device, (p) => {
        expect(mm.encodeFused(p, fused, 1)).toBe(false);
        expect(plainMm.encodeFused(p, plain, rows)).toBe(false);
        expect(() => mm.encode(p, fused, rows), 'a fused binding keeps no scratch for x itself').toThrow(/encodeFused/);
        expect(mm.encodeFused(p, fused, rows)).toBe(true);
      });
      if (kind === 'rmsnorm') {
        const norm = await RmsNorm.create(cache, k, 1e-5, 'workgroup'); // the reduction the fused form repeats
        const nb = norm.bind(device, 'norm', { x: aBuf, weight: bBuf, out: mid });
        await run(device, (p) => { norm.encode(p, nb, rows); mm.encode(p, sep, rows); });
      } else {
        const silu = await SiluMul.create(cache, { dim: k });
        const sb = silu.bind(device, 'silu', { gate: aBuf, up: bBuf, out: mid });
        await run(device, (p) => { silu.encode(p, sb, rows); mm.encode(p, sep, rows); });
      }
      const groups = k / g;
      const fq = w8a8Scratch(aBuf, k)!;
      const sq = w8a8Scratch(mid, k)!;
      expect(fq.xq).not.toBe(sq.xq);
      const qa = new Int8Array((await readF32(device, fq.xq, (rows * k) / 4)).buffer);
      const qb = new Int8Array((await readF32(device, sq.xq, (rows * k) / 4)).buffer);
      expect(Array.from(qa), '8-bit activations').toEqual(Array.from(qb));
      expectClose(await readF32(device, fq.xs, rows * groups), await readF32(device, sq.xs, rows * groups), 0, 0, 'activation scales');
      const got = await readF32(device, yFused, rows * n);
      expectClose(got, await readF32(device, ySep, rows * n), 0, 0, 'outputs');
      expect(got.some((v) => v !== 0), 'the fused pass wrote its outputs').toBe(true);
    });
  }
});

describe("decode attention's combine folded into o_proj's quantizer", () => {
  // A batched decode step: rows of three sequences at their own positions and cache regions (1 to
  // 6 live splits of 64 keys, a window). The split kernel's results merged by the quantizer itself
  // must give the 8-bit activations and outputs that attention's combine and the plain quantizer
  // give: one dispatch fewer per layer.
  const cases = [
    { nHeads: 4, nKv: 2, hd: 64, g: 32, window: 0, few: 'rows' as const },
    { nHeads: 3, nKv: 1, hd: 128, g: 128, window: 0, few: 'kernel' as const }, // K = 384: part of one chunk
    { nHeads: 16, nKv: 4, hd: 128, g: 128, window: 90, few: 'rows' as const }, // K = 2,048: two chunks
  ];
  for (const c of cases) {
    it(`${c.nHeads} heads of ${c.hd}, group ${c.g}${c.window ? `, window ${c.window}` : ''}, ${c.few === 'rows' ? 'few-rows GEMM' : 'reference GEMM'}`, async () => {
      const { device, cache } = await gpu();
      const C = 400;
      const positions = [5, 130, 399];
      const regions = [2, 0, 1];
      const rows = positions.length;
      const k = c.nHeads * c.hd;
      const n = 40;
      const kvDim = c.nKv * c.hd;
      const shape = { nHeads: c.nHeads, nKvHeads: c.nKv, headDim: c.hd, maxCtx: 3 * C, window: c.window, decodeRows: rows };
      const attn = await Attention.create(cache, shape, 'split', true);
      const parts = { nHeads: c.nHeads, headDim: c.hd, window: c.window, splits: Attention.decodeSplits(shape), batched: true };
      const packed = packWeight(randn(n * k, 51, 0.5), n, k, 'int8', c.g);
      const gw = uploadWeight(device, 'w', packed);
      const fewOpts = c.few === 'rows' ? { w8a8Few: 'rows' as const, w8a8RowsTuning: W8A8_ROWS_DEFAULT } : { w8a8Few: 'kernel' as const };
      const mm = await Matmul.create(cache, gw, { w8a8: 'dp4a', ...fewOpts, accumulate: true, w8a8Input: { kind: 'attn_combine', parts } });
      const step = stepBuffer(device, rows, 0);
      step.writeRows(positions.map((pos, i) => ({ kvBase: regions[i]! * C, pos })), rows);
      const q = uploadStorage(device, 'q', randn(rows * k, 52, 1));
      const kCache = uploadStorage(device, 'kCache', randn(3 * C * kvDim, 53, 2));
      const vCache = uploadStorage(device, 'vCache', randn(3 * C * kvDim, 54, 1));
      const att = createStorage(device, 'att', rows * k * 4);
      const ab = attn.bind(device, 'attention', { q, kCache, vCache, out: att, step: step.buffer });
      const y0 = randn(rows * n, 55);
      const ySep = uploadStorage(device, 'ySep', y0);
      const yFused = uploadStorage(device, 'yFused', y0);
      const sep = mm.bind(device, 'separate', { w: gw, x: att, y: ySep, step: step.buffer });
      expect(attn.partsBuffer).not.toBeNull();
      const fused = mm.bind(device, 'fused', { w: gw, x: att, y: yFused, step: step.buffer, w8a8Input: { x: attn.partsBuffer! } });
      expect(attn.splitDecodes(rows)).toBe(true);
      expect(mm.fusesInput(fused, rows)).toBe(true);
      const pos = Math.max(...positions);
      // The separate path: split, combine (att), the quantizer of att, the GEMM.
      await run(device, (p) => { attn.encode(p, ab, rows, pos); mm.encode(p, sep, rows); });
      const attSep = await readF32(device, att, rows * k);
      // The fused path, with att cleared: the split kernel alone, then the merging quantizer.
      device.queue.writeBuffer(att, 0, new Float32Array(rows * k));
      await run(device, (p) => { attn.encode(p, ab, rows, pos, false); expect(mm.encodeFused(p, fused, rows)).toBe(true); });
      expect((await readF32(device, att, rows * k)).every((v) => v === 0), 'no combine ran').toBe(true);
      const groups = k / c.g;
      const qs = w8a8Scratch(att, k)!;
      const qf = w8a8Scratch(attn.partsBuffer!, k)!;
      const a8 = new Int8Array((await readF32(device, qs.xq, (rows * k) / 4)).buffer);
      const b8 = new Int8Array((await readF32(device, qf.xq, (rows * k) / 4)).buffer);
      // The same merge in another order of sums: a value may land one step off at a rounding edge.
      const want = quantizeRef(attSep, rows, k, c.g);
      let off = 0;
      for (let i = 0; i < rows * k; i++) {
        const d = Math.abs(a8[i]! - b8[i]!);
        expect(d, `8-bit activation ${i}`).toBeLessThanOrEqual(1);
        if (d === 1) off++;
      }
      expect(off, 'activations one step off').toBeLessThanOrEqual(Math.ceil(rows * k * 0.002));
      expect(Array.from(a8), 'the separate path quantizes as the reference').toEqual(Array.from(want.q).map((v, i) => (want.edge[i] ? a8[i]! : v)));
      expectClose(await readF32(device, qf.xs, rows * groups), await readF32(device, qs.xs, rows * groups), 0, 1e-5, 'activation scales');
      const got = await readF32(device, yFused, rows * n);
      expectClose(got, await readF32(device, ySep, rows * n), 2e-3, 2e-3, 'outputs');
      expect(got.some((v, i) => v !== y0[i]), 'the fused pass wrote its outputs').toBe(true);
    });
  }

  it('needs heads of a power of two that tile the quantizer, and K = heads x head dim', async () => {
    const { device, cache } = await gpu();
    const gw = (k: number) => uploadWeight(device, 'w', packWeight(randn(8 * k, 56, 0.5), 8, k, 'int8', 16));
    const parts = (nHeads: number, headDim: number) => ({ kind: 'attn_combine' as const, parts: { nHeads, headDim, window: 0, splits: 2, batched: true } });
    await expect(Matmul.create(cache, gw(192), { w8a8: 'dp4a', w8a8Input: parts(2, 96) })).rejects.toThrow(/power of two/);
    await expect(Matmul.create(cache, gw(256), { w8a8: 'dp4a', w8a8Input: parts(2, 64) })).rejects.toThrow(/heads x head dim/);
    const mm = await Matmul.create(cache, gw(128), { w8a8: 'dp4a', w8a8Input: parts(2, 64) });
    const buf = (n: number) => createStorage(device, 'b', n);
    expect(() => mm.bind(device, 'aux', { w: gw(128), x: buf(512), y: buf(32), step: stepBuffer(device, 1, 0).buffer, w8a8Input: { x: buf(4096), aux: buf(512) } })).toThrow(/takes no aux/);
  });
});

describe('W8A8 over the logit rows (the lm_head)', () => {
  // A pass of 7 rows of which the last 3 get logits (step.logit_rows): every W8A8 kernel, the
  // quantizer with the final norm folded in, must count 3 rows, and give what the same matmul over
  // step.rows gives for a 3-row pass; rows past them stay untouched.
  const n = 52;
  const k = 256;
  const g = 32;
  const logitRows = 3;
  for (const few of ['rows', 'kernel'] as const) {
    it(few === 'rows' ? 'few-rows GEMM' : 'reference kernel', async () => {
      const { device, cache } = await gpu();
      const gw = uploadWeight(device, 'w', packWeight(randn(n * k, 41, 0.5), n, k, 'int8', g));
      const x = uploadStorage(device, 'x', randn(7 * k, 42, 2));
      const normW = uploadStorage(device, 'norm', randn(k, 43));
      const h = uploadStorage(device, 'h', new Float32Array(7 * k));
      const input = { kind: 'rmsnorm', eps: 1e-5 } as const;
      const y0 = randn(7 * n, 44);
      const outs: Float32Array[] = [];
      for (const rowsFrom of ['logit_rows', 'rows'] as const) {
        const mm = await Matmul.create(cache, gw, { w8a8: 'dp4a', w8a8Few: few, rowsFrom, w8a8Input: input });
        expect(mm.w8a8For(logitRows)).toBe(few === 'rows' ? 'rows' : 'dp4a');
        const y = uploadStorage(device, 'y', y0);
        const step = rowsFrom === 'logit_rows' ? stepBuffer(device, 7, 0, logitRows) : stepBuffer(device, logitRows, 0, 1);
        const b = mm.bind(device, rowsFrom, { w: gw, x: h, y, step: step.buffer, w8a8Input: { x, aux: normW } });
        await run(device, (p) => expect(mm.encodeFused(p, b, logitRows)).toBe(true));
        const got = await readF32(device, y, 7 * n);
        expect(Array.from(got.subarray(logitRows * n)), 'rows past the logit rows').toEqual(Array.from(y0.subarray(logitRows * n)));
        expect(got.subarray(0, logitRows * n).some((v, i) => v !== y0[i]), 'the logit rows were written').toBe(true);
        outs.push(got);
      }
      expectClose(outs[0]!, outs[1]!, 0, 0, 'logit rows vs a pass of as many rows');
    });
  }
});

describe('W8A8 in the int8 engine (pycode-20M, dot4I8Packed)', () => {
  it('prefill logits stay within the int8 golden bound of HF, and differ from f32 activations', async () => {
    const { ctx } = await gpu();
    const { ref, logits: want } = reference('pycode-20M');
    const [T, V] = ref.logits_shape;
    const source = await folderSource(modelDir('pycode-20M'));
    const outs: Float32Array[] = [];
    const activations: number[] = [];
    for (const w8a8 of ['dp4a', 'off'] as const) {
      const e = await Engine.load(ctx, source, { format: 'int8', maxRows: T, maxLogitRows: T, contextLength: 128, w8a8 });
      try {
        expect(e.w8a8).toBe(w8a8 === 'off' ? null : 'dp4a');
        activations.push(e.forward.activationBytes);
        outs.push(await e.logits(ref.input_ids));
      } finally {
        e.destroy();
      }
    }
    const a = logitsAgreement(outs[0]!, want, T, V);
    const base = logitsAgreement(outs[1]!, want, T, V);
    console.log(`pycode-20M int8 prefill vs HF: nRMSE ${a.nrmse.toExponential(2)} with 8-bit activations, ${base.nrmse.toExponential(2)} without; top-1 ${a.agree}/${a.clear}`);
    expect(a.nrmse).toBeLessThanOrEqual(nrmseLimit('int8'));
    expect(a.agree).toBe(a.clear);
    expect(logitsAgreement(outs[0]!, outs[1]!, T, V).nrmse).toBeGreaterThan(0);
    // The 8-bit copies of the activations are the engine's memory too (counted, destroyed with it):
    // one per activation buffer and K that W8A8 quantizes (x for q/k/v and gate/up: D = 256; att
    // for o_proj: 256; gate for down_proj: 768; lastX for the head: 256), each T rows padded to 64,
    // a byte per value and an f32 scale per group of 128.
    const rows = Math.ceil(T / 64) * 64;
    expect(activations[0]! - activations[1]!).toBe([256, 256, 768, 256].reduce((a, k) => a + rows * (k + 4 * (k / 128)), 0));
  });
});
