import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run, stepBuffer } from './harness';
import { uploadStorage, createStorage, readF32 } from '../../src/gpu/buffers';
import { Matmul, SKINNY_ROWS, WIDE128_MIN_GROUPS, WIDE64_MIN_GROUPS, vecGemvApplies } from '../../src/kernels/matmul';
import { gemvDevice, gemvTuning, type GemvTuning } from '../../src/kernels/gemv';
import { uploadWeight } from '../../src/kernels/weights';
import { packWeight, unpackWeight, type WeightFormat } from '../../src/kernels/formats';
import { PipelineCache } from '../../src/gpu/pipelines';

const SENTINEL = -12345.5;

/** The value of a half's bit pattern (finite patterns only). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 31;
  const man = h & 1023;
  return sign * (exp === 0 ? man * 2 ** -24 : (1 + man / 1024) * 2 ** (exp - 15));
}

/** y = x . w^T (+ bias), accumulated in float64. */
function matmulRef(x: Float32Array, w: Float32Array, bias: Float32Array | undefined, rows: number, n: number, k: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j]! : 0;
      for (let c = 0; c < k; c++) s += x[r * k + c]! * w[j * k + c]!;
      y[r * n + j] = s;
    }
  }
  return y;
}

/** Random weights with one all-zero run (row 3's first 8 columns: an all-zero int8 group when the group is small). */
function makeWeight(n: number, k: number, seed: number): Float32Array {
  const w = randn(n * k, seed, 0.5);
  if (n > 3) w.fill(0, 3 * k, 3 * k + Math.min(8, k));
  return w;
}

// f32 accumulation error grows roughly with sqrt(k) for random-signed terms.
const atolFor = (k: number) => 1e-4 * Math.max(1, Math.sqrt(k / 64));

interface Fmt {
  format: WeightFormat;
  group?: number;
}
const fmtName = (f: Fmt) => (f.group ? `${f.format} g${f.group}` : f.format);
const FORMATS: Fmt[] = [{ format: 'f32' }, { format: 'f16' }, { format: 'int8', group: 128 }, { format: 'int8', group: 32 }, { format: 'q4', group: 32 }];
// [n, k, bias]. Pipelines are compiled per shape (N, K are override constants) and each costs ~1 s
// on SwiftShader, so the bias is a property of the shape: every format still runs GEMV and GEMM
// both with and without bias.
const SHAPES: Array<[number, number, boolean]> = [[37, 19, false], [100, 130, true], [257, 300, false]];
const ROWS = [1, 2, 7, 33];

describe('matmul kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  /**
   * Runs one matmul with `rows` rows (from the step field the options pick) and returns y, after
   * checking that the rows of y past `rows` (which the buffer holds up to `yRows`) were not written.
   */
  async function gpuMatmul(o: {
    fmt: Fmt; n: number; k: number; w: Float32Array; x: Float32Array; rows: number; bias?: Float32Array;
    stepRows?: number; logitRows?: number; rowsFrom?: 'rows' | 'logit_rows'; yRows?: number;
    gemv?: 'vec' | 'reference'; tpr?: number; tuning?: Partial<GemvTuning>; gemm?: 'wide' | 'tiled' | 'thread'; wideRows?: 64 | 128; accumulate?: Float32Array;
    fewRows?: 'gemm' | 'gemv'; rowsTuning?: { kw?: number; ug?: number; inner?: 'chunk' | 'tile'; sgReduce?: boolean }; rowsBlocks?: { maxTile?: number; rowsFirst?: boolean };
    /** split the weight over buffers of this many rows */
    partRows?: number;
  }): Promise<Float32Array> {
    const { fmt, n, k, rows } = o;
    const packed = packWeight(o.w, n, k, fmt.format, fmt.group);
    const gw = uploadWeight(device, 'w', packed, o.partRows ? o.partRows * packed.rowStride * 4 : undefined);
    if (o.partRows) expect(gw.more.length).toBe(Math.ceil(n / o.partRows) - 1);
    const mm = await Matmul.create(cache, gw, { bias: !!o.bias, rowsFrom: o.rowsFrom, gemv: o.gemv ?? 'reference', gemvThreadsPerRow: o.tpr, tuning: o.tuning, gemm: o.gemm, wideRows: o.wideRows, accumulate: !!o.accumulate, fewRows: o.fewRows, rowsTuning: o.rowsTuning, rowsBlocks: o.rowsBlocks });
    if (o.gemv) expect(mm.gemvVariant).toBe(o.gemv);
    if (o.gemm) expect(mm.gemmVariant).toBe(o.gemm);
    const yRows = o.yRows ?? rows + 1;
    const yInit = new Float32Array(yRows * n).fill(SENTINEL);
    if (o.accumulate) yInit.set(o.accumulate);
    const y = uploadStorage(device, 'y', yInit);
    const step = stepBuffer(device, o.stepRows ?? rows, 5, o.logitRows ?? 1);
    const bound = mm.bind(device, 't', {
      w: gw,
      x: uploadStorage(device, 'x', o.x),
      y,
      step: step.buffer,
      bias: o.bias ? uploadStorage(device, 'bias', o.bias) : undefined,
    });
    await run(device, (p) => mm.encode(p, bound, rows));
    const all = await readF32(device, y, yRows * n);
    const extra = all.subarray(rows * n);
    const written = extra.findIndex((v) => v !== SENTINEL);
    if (written >= 0) throw new Error(`y row ${rows + Math.floor(written / n)} written past the ${rows} active rows`);
    return all.slice(0, rows * n);
  }

  for (const fmt of FORMATS) {
    for (const [n, k, hasBias] of SHAPES) {
      for (const rows of ROWS) {
        it(`${fmtName(fmt)} n=${n} k=${k} rows=${rows}${hasBias ? ' +bias' : ''}`, async () => {
          const seed = n * 1000 + k * 10 + rows;
          const w = makeWeight(n, k, seed);
          const x = randn(rows * k, seed + 1);
          const bias = hasBias ? randn(n, seed + 2) : undefined;
          const got = await gpuMatmul({ fmt, n, k, w, x, rows, bias });
          const wq = unpackWeight(packWeight(w, n, k, fmt.format, fmt.group));
          expectClose(got, matmulRef(x, wq, bias, rows, n, k), atolFor(k), 1e-4, 'y');
        });
      }
    }
  }

  // The vectorized GEMV (16-byte loads) runs whenever K allows it, i.e. on every real model. The
  // cases cover one thread per row group up to 64 (odd trailing loads), 1 to 3 four-row units per
  // thread (row counts not a multiple of 4 * units), batches of 1 to 4 loads whose tail runs past
  // K, both lane reductions (subgroup shuffles where the adapter has them and a row group fits a
  // subgroup; workgroup memory otherwise), and the three int8 unpackings.
  const VEC_CASES: Array<[Fmt, number, number, boolean, Partial<GemvTuning>]> = [
    [{ format: 'f32' }, 37, 64, false, { tpr: 1 }],
    [{ format: 'f32' }, 129, 100, true, { tpr: 8, upt: 2, unroll: 3 }],
    [{ format: 'f16' }, 37, 64, false, { tpr: 4, subgroups: false, unroll: 2 }],
    [{ format: 'f16' }, 300, 248, true, { tpr: 64, upt: 3 }],
    [{ format: 'int8', group: 128 }, 37, 64, false, { tpr: 2, unroll: 4 }],
    [{ format: 'int8', group: 32 }, 300, 272, true, { tpr: 32, unpack: 'magic' }],
    [{ format: 'int8', group: 128 }, 1030, 400, false, { tpr: 16, upt: 2, unroll: 2, unpack: 'mantissa' }],
    [{ format: 'int8', group: 32 }, 77, 512, true, { tpr: 8, unroll: 4, unpack: 'mantissa' }],
    [{ format: 'int8', group: 64 }, 203, 192, true, { tpr: 4, upt: 2, subgroups: false, unpack: 'magic', unroll: 3 }],
    // The thread schedule (software adapters): one thread per 4-row unit, workgroups of 4 to 64.
    [{ format: 'f32' }, 37, 64, false, { schedule: 'thread' }],
    [{ format: 'f16' }, 300, 248, true, { schedule: 'thread', wg: 8 }],
    [{ format: 'int8', group: 128 }, 1030, 400, false, { schedule: 'thread' }],
    [{ format: 'int8', group: 128 }, 37, 64, false, { schedule: 'thread', unpack: 'shift' }],
    [{ format: 'int8', group: 32 }, 129, 96, true, { tpr: 8, unpack: 'mul' }],
    [{ format: 'f16' }, 131, 80, true, { tpr: 4, unpack: 'mul' }],
    [{ format: 'f16' }, 64, 96, false, { schedule: 'thread', unpack: 'shift' }],
    [{ format: 'int8', group: 32 }, 77, 512, true, { schedule: 'thread', wg: 4, unpack: 'magic' }],
    [{ format: 'int8', group: 64 }, 203, 192, true, { schedule: 'thread', unpack: 'mantissa' }],
    // q4: 32 nibbles per 16-byte load, both unpackings on both schedules, groups of 32 and 64.
    [{ format: 'q4', group: 32 }, 37, 64, false, { tpr: 2, unroll: 4 }],
    [{ format: 'q4', group: 32 }, 300, 288, true, { tpr: 8, upt: 2, unpack: 'mul' }],
    [{ format: 'q4', group: 64 }, 203, 192, true, { tpr: 4, subgroups: false, unroll: 3 }],
    [{ format: 'q4', group: 32 }, 129, 96, true, { schedule: 'thread' }],
    [{ format: 'q4', group: 64 }, 77, 512, false, { schedule: 'thread', wg: 4, unpack: 'shift' }],
  ];
  VEC_CASES.forEach(([fmt, n, k, hasBias, tuning], i) => {
    it(`vec GEMV ${fmtName(fmt)} n=${n} k=${k} ${JSON.stringify(tuning)}${hasBias ? ' +bias' : ''}`, async () => {
      const w = makeWeight(n, k, n + k + i);
      const x = randn(k, i + 3);
      const bias = hasBias ? randn(n, 5) : undefined;
      const got = await gpuMatmul({ fmt, n, k, w, x, rows: 1, bias, gemv: 'vec', tuning });
      const wq = unpackWeight(packWeight(w, n, k, fmt.format, fmt.group));
      expectClose(got, matmulRef(x, wq, bias, 1, n, k), atolFor(k), 1e-4, 'y');
    });
  });

  it('the schedule: thread on software adapters by default, lanes on GPUs and whenever lane parameters are given', () => {
    const w = { format: 'f16' as const, k: 256 };
    const soft = { subgroupSize: 4, software: true };
    const hard = { subgroupSize: 32, software: false };
    expect(gemvTuning(w, 1000, soft).schedule).toBe('thread');
    expect(gemvTuning(w, 1000, hard).schedule).toBe('lanes');
    expect(gemvTuning(w, 1000, soft, { tpr: 4 }).schedule).toBe('lanes');
    expect(gemvTuning(w, 1000, hard, { schedule: 'thread' }).schedule).toBe('thread');
    // Small matrices get smaller workgroups, so even 64 rows make 16 workgroups for the CPU cores.
    expect(gemvTuning(w, 16, soft).wg).toBe(4);
    expect(gemvTuning(w, 100_000, soft).wg).toBe(16);
    expect(() => gemvTuning(w, 16, soft, { schedule: 'thread', tpr: 4 })).toThrow(/thread schedule/);
    // This suite's adapter: SwiftShader in CI, which must be recognized as software; a pipeline
    // cache can force either kernel set on any adapter.
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    if (info?.architecture === 'swiftshader') expect(gemvDevice(cache).software).toBe(true);
    expect(gemvDevice(new PipelineCache(device, { software: false })).software).toBe(false);
    expect(gemvDevice(new PipelineCache(device, { software: true })).software).toBe(true);
  });

  // Subgroup shuffles need the adapter's subgroups (SwiftShader has them, 4 wide); where it has
  // them, the default tuning must use them for small row groups and a request beyond the subgroup
  // size must be refused rather than silently sum the wrong lanes.
  it('subgroup reduction: used by default where it fits, refused where it cannot', async () => {
    const dev = gemvDevice(cache);
    const w = { format: 'int8' as const, k: 64 };
    if (dev.subgroupSize === 0) {
      expect(gemvTuning(w, 10, dev).subgroups).toBe(false);
      return;
    }
    expect(gemvTuning(w, 10, dev, { tpr: dev.subgroupSize }).subgroups).toBe(true);
    expect(gemvTuning(w, 10, dev, { tpr: dev.subgroupSize * 2 }).subgroups).toBe(false);
    expect(() => gemvTuning(w, 10, dev, { tpr: dev.subgroupSize * 2, subgroups: true })).toThrow(/subgroup/);
  });

  // The lanes GEMV also serves 2..SKINNY_ROWS rows (a batched decode step, a short prompt): one
  // workgroup per (weight slice, row). Each row must equal the reference, with the residual add
  // and through logit_rows, and no row past the active ones may be written.
  const SKINNY_CASES: Array<[Fmt, number, number, Partial<GemvTuning>, number]> = [
    [{ format: 'f32' }, 129, 100, { tpr: 8, upt: 2, unroll: 3 }, 3],
    [{ format: 'f16' }, 300, 248, { tpr: 64, upt: 3 }, 17],
    [{ format: 'int8', group: 128 }, 1030, 400, { tpr: 16, upt: 2, unroll: 2, unpack: 'mantissa' }, 5],
    [{ format: 'q4', group: 32 }, 100, 96, { tpr: 4 }, SKINNY_ROWS],
  ];
  SKINNY_CASES.forEach(([fmt, n, k, tuning, rows], i) => {
    it(`vec GEMV over ${rows} rows ${fmtName(fmt)} n=${n} k=${k} ${JSON.stringify(tuning)}`, async () => {
      const w = makeWeight(n, k, 90 + i);
      const x = randn(rows * k, 100 + i);
      const bias = randn(n, 110 + i);
      const wq = unpackWeight(packWeight(w, n, k, fmt.format, fmt.group));
      const want = matmulRef(x, wq, bias, rows, n, k);
      expectClose(await gpuMatmul({ fmt, n, k, w, x, rows, bias, gemv: 'vec', tuning }), want, atolFor(k), 1e-4, 'y');
      const y0 = randn(rows * n, 120 + i);
      const acc = await gpuMatmul({ fmt, n, k, w, x, rows, bias, gemv: 'vec', tuning, accumulate: y0 });
      expectClose(acc, want.map((v, j) => v + y0[j]!), atolFor(k), 1e-4, 'y += ');
      const last = await gpuMatmul({ fmt, n, k, w, x: x.slice(0, 2 * k), rows: 2, bias, gemv: 'vec', tuning, stepRows: rows + 4, logitRows: 2, rowsFrom: 'logit_rows', yRows: rows + 4 });
      expectClose(last, want.slice(0, 2 * n), atolFor(k), 1e-4, 'logit rows');
    });
  });

  // The few-rows GEMM (matmul_gemm_rows.wgsl, the GPU default for 2..SKINNY_ROWS rows): a weight
  // chunk loaded once for 2, 4, 8 or 16 rows of x. Rows that fill no tile (1, 3, 5, 17: two 16-row tiles),
  // outputs not a multiple of a unit or of a workgroup's units, K not a multiple of the lanes'
  // stride (so lanes end on different chunks, and some get none), every format, several
  // workgroup shapes; with bias, the residual add and through logit_rows, and no row past the
  // active ones written; x read from memory by each thread ('chunk': int8's and q4's default) and
  // staged in workgroup memory a tile of K at a time ('tile': f16's and f32's default at 16 rows,
  // and at 8 on wide outputs; K not a multiple of the tile, lanes past the end of K in the last
  // tile, every reader's chunk width); tiles capped below the pass's rows, so that it takes several
  // row blocks, along y or along the grid's x; the lanes' sums through subgroup shuffles (the
  // default where the adapter has subgroups: here SwiftShader's subgroups of 4, two partials per
  // unit) and through workgroup memory (sgReduce: false).
  const ROWS_GEMM_CASES: Array<[Fmt, number, number, number, { kw?: number; ug?: number; inner?: 'chunk' | 'tile'; sgReduce?: boolean }, { maxTile?: number; rowsFirst?: boolean }?]> = [
    [{ format: 'f32' }, 129, 100, 3, { sgReduce: false }],
    [{ format: 'f16' }, 300, 248, 17, { kw: 1, ug: 1, sgReduce: false }],
    [{ format: 'int8', group: 128 }, 1030, 400, 5, { sgReduce: false }],
    [{ format: 'int8', group: 32 }, 70, 2080, 16, { kw: 8, ug: 1, sgReduce: false }],
    [{ format: 'int8', group: 64 }, 37, 64, 1, { kw: 2, ug: 4, sgReduce: false }],
    [{ format: 'q4', group: 32 }, 100, 96, SKINNY_ROWS, { sgReduce: false }],
    [{ format: 'f32' }, 70, 100, 3, { inner: 'tile', sgReduce: false }],
    [{ format: 'f16' }, 300, 248, 17, {}], // f16's default on narrow outputs: 8-row blocks along x, tiles of kw4-ug2
    [{ format: 'f16' }, 12290, 200, 7, {}], // and on wide outputs at 8 rows: tiles of kw2-ug4
    [{ format: 'int8', group: 128 }, 130, 400, 5, { inner: 'tile', sgReduce: false }],
    [{ format: 'int8', group: 32 }, 70, 2080, 16, { kw: 4, ug: 1, inner: 'tile', sgReduce: false }],
    [{ format: 'q4', group: 64 }, 36, 192, 9, { kw: 8, ug: 1, inner: 'tile', sgReduce: false }],
    [{ format: 'f16' }, 300, 248, 17, { sgReduce: false }, { maxTile: 8, rowsFirst: true }],
    [{ format: 'int8', group: 32 }, 70, 2080, 16, { kw: 4, ug: 2, sgReduce: false }, { maxTile: 4, rowsFirst: true }],
    [{ format: 'f32' }, 70, 100, SKINNY_ROWS, { inner: 'tile', sgReduce: false }, { maxTile: 8 }],
    [{ format: 'int8', group: 32 }, 70, 2080, 16, { kw: 8, ug: 1, sgReduce: true }],
    [{ format: 'q4', group: 32 }, 100, 96, SKINNY_ROWS, { kw: 2, ug: 4, sgReduce: true }],
    [{ format: 'f32' }, 70, 100, 9, { inner: 'tile', sgReduce: true }],
  ];
  ROWS_GEMM_CASES.forEach(([fmt, n, k, rows, rowsTuning, rowsBlocks], i) => {
    it(`few-rows GEMM over ${rows} rows ${fmtName(fmt)} n=${n} k=${k} ${JSON.stringify(rowsTuning)}${rowsBlocks ? ` ${JSON.stringify(rowsBlocks)}` : ''}`, async () => {
      const w = makeWeight(n, k, 190 + i);
      const x = randn(rows * k, 200 + i);
      const bias = i % 2 ? randn(n, 210 + i) : undefined;
      const wq = unpackWeight(packWeight(w, n, k, fmt.format, fmt.group));
      const want = matmulRef(x, wq, bias, rows, n, k);
      const o = { fmt, n, k, w, x, rows, bias, gemv: 'vec' as const, fewRows: 'gemm' as const, rowsTuning, rowsBlocks };
      expectClose(await gpuMatmul(o), want, atolFor(k), 1e-4, 'y');
      const y0 = randn(rows * n, 220 + i);
      expectClose(await gpuMatmul({ ...o, accumulate: y0 }), want.map((v, j) => v + y0[j]!), atolFor(k), 1e-4, 'y += ');
      const last = await gpuMatmul({ ...o, x: x.slice(0, Math.min(2, rows) * k), rows: Math.min(2, rows), stepRows: rows + 4, logitRows: Math.min(2, rows), rowsFrom: 'logit_rows', yRows: rows + 4 });
      expectClose(last, want.slice(0, Math.min(2, rows) * n), atolFor(k), 1e-4, 'logit rows');
    });
  });

  it('few-rows GEMM: the default on GPUs, never on software adapters; refused where it cannot read the weight', async () => {
    const gw = uploadWeight(device, 'w', packWeight(makeWeight(8, 24, 1), 8, 24, 'int8', 8));
    // int8 K = 24 is not whole 16-byte loads
    await expect(Matmul.create(cache, gw, { fewRows: 'gemm' })).rejects.toThrow(/few-rows GEMM cannot read/);
    const ok = uploadWeight(device, 'w', packWeight(makeWeight(8, 32, 1), 8, 32, 'int8', 16));
    await expect(Matmul.create(cache, ok, { fewRows: 'gemm', only: 'gemv' })).rejects.toThrow(/GEMV-only/);
    await expect(Matmul.create(cache, ok, { fewRows: 'gemm', rowsTuning: { kw: 4, ug: 4 } })).rejects.toThrow(/kw \* ug <= 8/);
    const dflt = await Matmul.create(cache, ok, {});
    expect(dflt.fewRowsVariant).toBe(gemvDevice(cache).software ? null : 'gemm');
  });

  // Three GEMMs: the wide one (TM x 128 tiles, the next K-step prefetched; for GPUs), the tiled
  // one (64 x 64 tiles; the readable one) and the thread one (no barriers, for software adapters;
  // K in whole 16-byte loads). Rows not a multiple of any tile or of 4 rows per thread, outputs not
  // a multiple of 8 or 128, K not a multiple of a 16-column K-step (and one shorter than it), all
  // with the residual add and through logit_rows.
  const GEMM_CASES: Array<[Fmt, number, number, number, boolean]> = [
    [{ format: 'f32' }, 37, 64, 5, false],
    [{ format: 'f32' }, 130, 12, 3, false],
    [{ format: 'f16' }, 100, 128, 33, true],
    [{ format: 'int8', group: 32 }, 257, 96, 7, false],
    [{ format: 'int8', group: 32 }, 300, 160, 150, true],
    [{ format: 'int8', group: 128 }, 70, 256, 2, true],
    [{ format: 'q4', group: 32 }, 100, 96, 7, true],
    [{ format: 'q4', group: 64 }, 129, 192, 70, false],
  ];
  const GEMMS = [['wide', 128], ['wide', 64], ['tiled'], ['thread']] as Array<['wide', 64 | 128] | ['tiled' | 'thread']>;
  GEMM_CASES.forEach(([fmt, n, k, rows, hasBias], i) => {
    for (const [gemm, wideRows] of GEMMS) {
      // The thread GEMM reads whole 16-byte loads of K.
      if (gemm === 'thread' && !vecGemvApplies({ format: fmt.format, k, groupSize: fmt.group ?? 0 })) continue;
      // (64-row wide tiles on the cases with more rows than a few: its code differs only in the tile's height)
      if (gemm === 'wide' && wideRows === 64 && rows < 30) continue;
      it(`${gemm}${wideRows ?? ''} GEMM ${fmtName(fmt)} n=${n} k=${k} rows=${rows}${hasBias ? ' +bias' : ''}`, async () => {
        const w = makeWeight(n, k, 50 + i);
        const x = randn(rows * k, 60 + i);
        const bias = hasBias ? randn(n, 70 + i) : undefined;
        const wq = unpackWeight(packWeight(w, n, k, fmt.format, fmt.group));
        const want = matmulRef(x, wq, bias, rows, n, k);
        expectClose(await gpuMatmul({ fmt, n, k, w, x, rows, bias, gemm, wideRows }), want, atolFor(k), 1e-4, 'y');
        const y0 = randn(rows * n, 80 + i);
        const acc = await gpuMatmul({ fmt, n, k, w, x, rows, bias, gemm, wideRows, accumulate: y0 });
        expectClose(acc, want.map((v, j) => v + y0[j]!), atolFor(k), 1e-4, 'y += ');
        const last = await gpuMatmul({ fmt, n, k, w, x: x.slice(0, 2 * k), rows: 2, bias, gemm, wideRows, stepRows: rows + 4, logitRows: 2, rowsFrom: 'logit_rows', yRows: rows + 4 });
        expectClose(last, want.slice(0, 2 * n), atolFor(k), 1e-4, 'logit rows');
      });
    }
  });

  // An automatic GEMM on a GPU (here: a K the thread GEMM cannot read) picks its tile from the
  // grid: 64 x 64 for few rows, 64-row wide tiles from WIDE64_MIN_GROUPS of them, 128-row wide
  // tiles from WIDE128_MIN_GROUPS. Each pick must give the same y.
  it('automatic GEMM: the tile follows the grid, every pick exact', async () => {
    const [n, k] = [130, 6];
    const fmt: Fmt = { format: 'f32' };
    const w = makeWeight(n, k, 31);
    const wq = unpackWeight(packWeight(w, n, k, 'f32'));
    const at64 = WIDE64_MIN_GROUPS / Math.ceil(n / 128) * 64;
    const at128 = WIDE128_MIN_GROUPS / Math.ceil(n / 128) * 128;
    for (const [rows, kind, tm] of [[100, 'tiled', 64], [at64, 'wide', 64], [at128, 'wide', 128]] as const) {
      const x = randn(rows * k, 32 + rows);
      const packed = packWeight(w, n, k, fmt.format);
      const gw = uploadWeight(device, 'w', packed);
      const mm = await Matmul.create(cache, gw, { gemv: 'reference' });
      expect(mm.gemmVariant).toBe('wide');
      expect(mm.gemmFor(rows)).toEqual({ kind, tm });
      const y = createStorage(device, 'y', rows * n * 4);
      const bound = mm.bind(device, 'auto', { w: gw, x: uploadStorage(device, 'x', x), y, step: stepBuffer(device, rows, 0).buffer });
      await run(device, (p) => mm.encode(p, bound, rows));
      expectClose(await readF32(device, y, rows * n), matmulRef(x, wq, undefined, rows, n, k), atolFor(k), 1e-4, `y (${kind} ${tm})`);
    }
  });

  // Software adapters read halves without unpack2x16float (gemv_f16_mul.wgsl): every finite half,
  // subnormals and both zeros included, must come out exactly. W holds all 63,488 of them (the
  // 2,048 infinities and NaNs, which weights never hold, are zeros), and x is the identity, so the
  // thread GEMM's y is W transposed.
  it('f16 without shifts reads every finite half exactly (thread GEMM, identity x)', async () => {
    const [n, k] = [8192, 8];
    const halves = new Uint16Array(n * k).map((_, i) => ((i >> 10) & 31) === 31 ? 0 : i);
    const w = new Float32Array(n * k).map((_, i) => halfToFloat(halves[i]!));
    const x = new Float32Array(k * k).map((_, i) => Number(i % (k + 1) === 0));
    const got = await gpuMatmul({ fmt: { format: 'f16' }, n, k, w, x, rows: k, gemm: 'thread' });
    let bad = 0;
    for (let r = 0; r < k; r++) for (let j = 0; j < n; j++) if (!Object.is(got[r * n + j]! + 0, w[j * k + r]! + 0)) bad++;
    expect(bad).toBe(0);
  });

  // A weight larger than one binding is split by rows over buffers (here every 64 rows: 4 parts,
  // the last short); every GEMV and GEMM reads across the parts.
  for (const [fmt, path] of [
    [{ format: 'f32' }, { gemv: 'reference' }],
    [{ format: 'int8', group: 32 }, { gemv: 'vec', tuning: { schedule: 'lanes' } }],
    [{ format: 'f16' }, { gemv: 'vec', tuning: { schedule: 'thread' } }],
    [{ format: 'int8', group: 64 }, { gemm: 'tiled' }],
    [{ format: 'f16' }, { gemm: 'thread' }],
    [{ format: 'q4', group: 32 }, { gemv: 'vec', tuning: { schedule: 'thread' } }],
    [{ format: 'q4', group: 64 }, { gemm: 'tiled' }],
  ] as Array<[Fmt, { gemv?: 'vec' | 'reference'; tuning?: Partial<GemvTuning>; gemm?: 'tiled' | 'thread' }]>) {
    it(`${fmtName(fmt)} weight split over 4 buffers: ${JSON.stringify(path)}`, async () => {
      const [n, k] = [230, 128];
      const rows = path.gemm ? 6 : 1;
      const w = makeWeight(n, k, 90 + n);
      const x = randn(rows * k, 91);
      const bias = randn(n, 92);
      const got = await gpuMatmul({ fmt, n, k, w, x, rows, bias, ...path, partRows: 64 });
      const wq = unpackWeight(packWeight(w, n, k, fmt.format, fmt.group));
      expectClose(got, matmulRef(x, wq, bias, rows, n, k), atolFor(k), 1e-4, 'y');
    });
  }

  // The residual add is fused into the epilogue: y += x W^T (+ bias), for every path.
  for (const [gemv, rows, k] of [['reference', 1, 30], ['vec', 1, 64], ['reference', 5, 64]] as const) {
    it(`accumulate (residual add) int8 ${rows === 1 ? `GEMV ${gemv}` : 'GEMM'} rows=${rows} k=${k} +bias`, async () => {
      const n = 45;
      const w = makeWeight(n, k, 21);
      const x = randn(rows * k, 22);
      const bias = randn(n, 23);
      const y0 = randn(rows * n, 24);
      const gw = uploadWeight(device, 'w', packWeight(w, n, k, 'int8', 32));
      const mm = await Matmul.create(cache, gw, { bias: true, accumulate: true, gemv });
      const y = uploadStorage(device, 'y', y0);
      const bound = mm.bind(device, 't', { w: gw, x: uploadStorage(device, 'x', x), y, step: stepBuffer(device, rows, 0).buffer, bias: uploadStorage(device, 'b', bias) });
      await run(device, (p) => mm.encode(p, bound, rows));
      const want = matmulRef(x, unpackWeight(packWeight(w, n, k, 'int8', 32)), bias, rows, n, k).map((v, i) => v + y0[i]!);
      expectClose(await readF32(device, y, rows * n), want, atolFor(k), 1e-4, 'y');
    });
  }

  it('auto picks the vec GEMV exactly when K allows it', async () => {
    const pick = async (format: WeightFormat, k: number) => {
      const gw = uploadWeight(device, 'w', packWeight(new Float32Array(8 * k), 8, k, format));
      return (await Matmul.create(cache, gw)).gemvVariant;
    };
    expect(await pick('int8', 64)).toBe('vec');
    expect(await pick('int8', 72)).toBe('reference');
    expect(await pick('q4', 96)).toBe('vec');
    expect(await pick('q4', 80)).toBe('reference');
    expect(await pick('f16', 72)).toBe('vec');
    expect(await pick('f16', 68)).toBe('reference');
  });

  it('f16 n=70 k=45 rows=70 (two row tiles)', async () => {
    const [n, k, rows] = [70, 45, 70];
    const w = makeWeight(n, k, 7);
    const x = randn(rows * k, 8);
    const got = await gpuMatmul({ fmt: { format: 'f16' }, n, k, w, x, rows });
    const wq = unpackWeight(packWeight(w, n, k, 'f16'));
    expectClose(got, matmulRef(x, wq, undefined, rows, n, k), atolFor(k), 1e-4, 'y');
  });

  // The lm_head runs over the last logit_rows rows of a pass with more rows: the shader must bound
  // rows by step.logit_rows, so y rows 3..6 (inside the buffer) stay untouched.
  for (const logitRows of [3, 1]) {
    it(`int8 g32 n=101 k=66 rowsFrom=logit_rows step.rows=7 logit_rows=${logitRows} +bias`, async () => {
      const [n, k] = [101, 66];
      const fmt: Fmt = { format: 'int8', group: 32 };
      const w = makeWeight(n, k, 11);
      const x = randn(logitRows * k, 12);
      const b = randn(n, 13);
      const got = await gpuMatmul({ fmt, n, k, w, x, rows: logitRows, bias: b, stepRows: 7, logitRows, rowsFrom: 'logit_rows', yRows: 7 });
      const wq = unpackWeight(packWeight(w, n, k, 'int8', 32));
      expectClose(got, matmulRef(x, wq, b, logitRows, n, k), atolFor(k), 1e-4, 'y');
    });
  }

  // Past 1024 GEMV workgroups (4 outputs each) the grid wraps onto a second dimension, with 1023
  // trailing workgroups past N here.
  it('f32 n=4099 k=3 rows=1 (2-D GEMV grid)', async () => {
    const [n, k] = [4099, 3];
    const w = makeWeight(n, k, 21);
    const x = randn(k, 22);
    const got = await gpuMatmul({ fmt: { format: 'f32' }, n, k, w, x, rows: 1 });
    expectClose(got, matmulRef(x, w, undefined, 1, n, k), 1e-5, 1e-5, 'y');
  });

  // Against the ORIGINAL f32 weights: the quantization error must stay within the format's bound.
  // f16: round-to-nearest gives |dw| <= 2^-11 |w| (plus 2^-25 absolute for subnormals);
  // int8: |dw| <= scale / 2 = maxabs(group) / 254.
  for (const fmt of [{ format: 'f32' }, { format: 'f16' }, { format: 'int8', group: 32 }] as Fmt[]) {
    it(`${fmtName(fmt)} n=257 k=300 rows=1,5 vs original f32 weights`, async () => {
      const [n, k] = [257, 300];
      const w = makeWeight(n, k, 31);
      // One outlier per row so int8's per-group scale matters.
      for (let j = 0; j < n; j++) w[j * k + ((j * 7) % k)] = 4;
      for (const rows of [1, 5]) {
        const x = randn(rows * k, 32 + rows);
        const got = await gpuMatmul({ fmt, n, k, w, x, rows });
        const want = matmulRef(x, w, undefined, rows, n, k);
        const g = fmt.group ?? 1;
        let maxErr = 0;
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < n; j++) {
            let bound = 0;
            for (let c = 0; c < k; c++) {
              const ax = Math.abs(x[r * k + c]!);
              if (fmt.format === 'f16') bound += ax * (Math.abs(w[j * k + c]!) * 2 ** -11 + 2 ** -25);
              if (fmt.format === 'int8') {
                const gi = Math.floor(c / g);
                let maxAbs = 0;
                for (let cc = gi * g; cc < Math.min(k, gi * g + g); cc++) maxAbs = Math.max(maxAbs, Math.abs(w[j * k + cc]!));
                bound += (ax * maxAbs) / 254;
              }
            }
            const err = Math.abs(got[r * n + j]! - want[r * n + j]!);
            maxErr = Math.max(maxErr, err / (bound + 1e-9));
            if (err > bound * 1.001 + atolFor(k)) {
              throw new Error(`${fmtName(fmt)} rows=${rows} y[${r},${j}]: error ${err} exceeds the quantization bound ${bound}`);
            }
          }
        }
        // The comparison must see some quantization error, or it checked nothing.
        if (fmt.format !== 'f32') expect(maxErr).toBeGreaterThan(0);
      }
    });
  }

  it('second create of the same shape compiles nothing', async () => {
    const packed = packWeight(makeWeight(37, 19, 1), 37, 19, 'int8', 32);
    const gw = uploadWeight(device, 'w', packed);
    await Matmul.create(cache, gw);
    const before = cache.compiled;
    const mm = await Matmul.create(cache, gw);
    expect(cache.compiled).toBe(before);
    expect(mm.weightBytes).toBe(37 * 5 * 4 + 37 * 1 * 4);
    expect(mm.weightBytes).toBe(gw.bytes);
  });
});
