// Kernel lab: streaming-read bandwidth of the device, then each matmul variant timed on its own
// at decode (GEMV, rows = 1: bandwidth-bound, reported as GB/s of weight bytes and % of the
// measured read bandwidth) and prefill (GEMM, reported as TFLOP/s) shapes. Variants are entries
// of GEMV_VARIANTS / GEMM_VARIANTS: an optimized kernel is added there and is timed and checked
// against the reference side by side on the same weights and inputs.
import bandwidthCode from './bandwidth.wgsl';
import { subgroupMatrixI8, type GpuContext } from '../gpu/device';
import { createStorage, readF32, uploadStorage } from '../gpu/buffers';
import { PipelineCache } from '../gpu/pipelines';
import { StepBuffer } from '../gpu/step';
import { FillRandom } from '../kernels/fill_random';
import { Matmul, type MatmulOptions } from '../kernels/matmul';
import { tileName, type SgmatTile } from '../kernels/matmul_w8a8';
import { gemvDevice, type GemvTuning } from '../kernels/gemv';
import { weightBuffers, type GpuWeight } from '../kernels/weights';
import { formatSpec, type WeightFormat } from '../kernels/formats';
import { parseShape } from './args';
import { randomWeight } from './synthetic';
import { matrixLayout } from '../model/memory';
import { acquireBenchDevice, deviceFeatures } from './model_bench';
import { median } from './report';
import { DispatchTimer, defaultBandwidthBytes, measureBandwidth } from './bandwidth';
import { KERNEL_SCHEMA, type BandwidthResult, type GemmResult, type GemvResult, type KernelLabReport } from './kernel_report';

export interface KernelLabOptions {
  /** "NxK" (out x in) */
  shapes?: string[];
  formats?: WeightFormat[];
  /** least dispatches per timed pass (default 50; GEMM a fifth of it) */
  iters?: number;
  /** dispatches are added until one pass lasts this long (default 20 ms) */
  minPassMs?: number;
  trials?: number;
  /** size of the bandwidth probe buffer; default 1 GiB (32 MiB on a CPU adapter), capped by the limits */
  bandwidthBytes?: number;
  /** weight copies cycled through per shape add up to at least this (defeats the L2 cache); default min(bandwidth bytes, 512 MiB) */
  rotateBytes?: number;
  gemmRows?: number;
  /**
   * Variants by name: GEMV ones (default simple, engine) and GEMM ones (the engine's always, and
   * wide128, wide64, tiled, wide128-split, tiled-split when named); 'all' for every one of both.
   */
  variants?: string[];
  log?: (line: string) => void;
}

export interface LabContext {
  gpu: GpuContext;
  device: GPUDevice;
  cache: PipelineCache;
}

export interface MatmulIo {
  /** identical-shape copies of the weight (different random values), cycled through by `copy` */
  weights: GpuWeight[];
  x: GPUBuffer;
  y: GPUBuffer;
  /** when given, weight copy i writes ys[i] instead of y (no hazard between consecutive dispatches) */
  ys?: GPUBuffer[];
  /** step uniform already holding rows (GEMV: 1) */
  step: GPUBuffer;
  rows: number;
}

export interface PreparedMatmul {
  /** records one multiply of x by weight copy `copy` */
  encode(pass: GPUComputePassEncoder, copy: number): void;
  /** y as [rows, n] after one multiply, where the variant writes elsewhere than io.y */
  output?(): Promise<Float32Array>;
}

export interface MatmulVariant {
  name: string;
  /** RMSNorm (eps, weight of ones) fused into its input: checked against the reference / rms(x) */
  normEps?: number;
  supports(format: WeightFormat, ctx: LabContext): boolean;
  /** compiles for the weight shape and makes every bind group (nothing is created while timing) */
  prepare(ctx: LabContext, io: MatmulIo): Promise<PreparedMatmul>;
}

function matmulVariant(name: string, opts: MatmulOptions, supports: MatmulVariant['supports'] = () => true): MatmulVariant {
  return {
    name,
    supports,
    normEps: opts.normEps,
    async prepare(ctx, io) {
      // Every variant but the engine's own keeps f32 activations unless it names a W8A8 kernel.
      const m = await Matmul.create(ctx.cache, io.weights[0]!, { ...(name === 'engine' ? {} : { w8a8: 'off' as const }), ...opts });
      // A norm-fused GEMV (the decode kernels' input transform) reads an RMSNorm weight of ones.
      const norm = opts.normEps === undefined ? undefined : uploadStorage(ctx.device, 'lab norm', new Float32Array(io.weights[0]!.k).fill(1));
      const bound = io.weights.map((w, i) => m.bind(ctx.device, `lab w${i}`, { w, x: io.x, y: io.ys?.[i] ?? io.y, step: io.step, norm }));
      return { encode: (pass, copy) => m.encode(pass, bound[copy % bound.length]!, io.rows) };
    },
  };
}

/** The readable one-u32-per-load GEMV: the correctness reference of every other variant. */
const simple = matmulVariant('simple', { gemv: 'reference' });
/** The engine's own Matmul with its default tuning (GEMV at rows = 1, tiled GEMM otherwise). */
const engine = matmulVariant('engine', {});

/** Every tuning worth a look on a large GPU: threads per row group x units per thread, etc. */
const TUNED: Array<[string, Partial<GemvTuning>]> = [
  ...[16, 32, 64, 128, 256].flatMap((tpr) =>
    [1, 2, 4].flatMap((unroll) =>
      (['shift', 'magic', 'mantissa'] as const).map((unpack): [string, Partial<GemvTuning>] => [`tpr${tpr}-u${unroll}${unpack === 'shift' ? '' : `-${unpack}`}`, { schedule: 'lanes', tpr, upt: 1, unroll, unpack }]),
    ),
  ),
  ...[16, 32, 64].map((wg): [string, Partial<GemvTuning>] => [`thread-wg${wg}`, { schedule: 'thread', wg }]),
  ['lanes', { schedule: 'lanes' }],
  ['tpr32-u2-shared', { schedule: 'lanes', tpr: 32, upt: 1, unroll: 2, subgroups: false }],
  // Units per thread: each load of x (and of a fused norm's weight) feeds 4 * upt rows.
  ...[8, 16, 32, 64].flatMap((tpr) =>
    [2, 4].flatMap((upt) => [1, 2].map((unroll): [string, Partial<GemvTuning>] => [`tpr${tpr}-upt${upt}-u${unroll}`, { schedule: 'lanes', tpr, upt, unroll }])),
  ),
];

export const GEMV_VARIANTS: MatmulVariant[] = [
  simple,
  engine,
  ...TUNED.map(([name, tuning]) =>
    matmulVariant(name, { gemv: 'vec', tuning }, (format, ctx) => {
      if (tuning.unpack !== undefined && !formatSpec(format).unpacks.includes(tuning.unpack)) return false;
      // A subgroup reduction is the default where a row group fits one subgroup.
      return tuning.subgroups !== true || gemvDevice(ctx.cache).subgroupSize >= (tuning.tpr ?? 1);
    }),
  ),
];
// The default tuning with RMSNorm fused into the input, as the decode kernels read x.
GEMV_VARIANTS.push(matmulVariant('engine-norm', { normEps: 1e-5, only: 'gemv' }, (format) => formatSpec(format).vecChunk > 0));
for (const [name, tuning] of TUNED.filter(([n]) => n.includes('-upt'))) {
  GEMV_VARIANTS.push(matmulVariant(`${name}-norm`, { gemv: 'vec', tuning, normEps: 1e-5, only: 'gemv' }));
}
export const GEMM_VARIANTS: MatmulVariant[] = [
  engine,
  // Each GEMM kernel alone (the engine picks the wide one or, on small grids, the tiled one).
  matmulVariant('wide128', { gemm: 'wide', wideRows: 128 }),
  matmulVariant('wide64', { gemm: 'wide', wideRows: 64 }),
  matmulVariant('tiled', { gemm: 'tiled' }),
  // Output split over three buffers (half, quarter, quarter), as the stacked q/k/v and gate/up are.
  splitVariant('wide128-split', { gemm: 'wide', wideRows: 128 }),
  splitVariant('tiled-split', { gemm: 'tiled' }),
  // Passes of a few rows (--gemm-rows 2..32): the few-rows GEMM by its workgroup shape (groups of
  // 32 along K x along N), and the GEMV once per row it replaced.
  ...([[4, 2], [2, 2], [8, 1], [2, 4], [1, 4], [4, 1], [2, 1]] as const).map(([kw, ug]) => matmulVariant(`rows-kw${kw}-ug${ug}`, { fewRows: 'gemm', rowsTuning: { kw, ug } })),
  // The same with x staged in workgroup memory a tile of K at a time.
  ...([[8, 1], [4, 2], [2, 4], [4, 1], [2, 2], [1, 4], [1, 8]] as const).map(([kw, ug]) => matmulVariant(`rows-kw${kw}-ug${ug}-tile`, { fewRows: 'gemm', rowsTuning: { kw, ug, inner: 'tile' } })),
  // Tiles of at most 8 rows with the row blocks along the grid's x (-t8x: a 16-row pass reads each
  // weight twice, the second time from L2 right after the first, with half the accumulators).
  ...([[8, 1, 'chunk'], [4, 2, 'chunk'], [4, 2, 'tile'], [2, 4, 'tile']] as const).map(([kw, ug, inner]) =>
    matmulVariant(`rows-kw${kw}-ug${ug}${inner === 'tile' ? '-tile' : ''}-t8x`, { fewRows: 'gemm', rowsTuning: { kw, ug, inner }, rowsBlocks: { maxTile: 8, rowsFirst: true } })),
  // The lanes' sums through subgroup shuffles (-sg; the W8A8 GEMM's default).
  ...([[2, 4, 'tile', 16], [4, 2, 'tile', 8], [8, 1, 'chunk', 16]] as const).map(([kw, ug, inner, maxTile]) =>
    matmulVariant(`rows-kw${kw}-ug${ug}${inner === 'tile' ? '-tile' : ''}-sg${maxTile === 8 ? '-t8x' : ''}`, { fewRows: 'gemm', rowsTuning: { kw, ug, inner, sgReduce: true }, ...(maxTile === 8 ? { rowsBlocks: { maxTile, rowsFirst: true } } : {}) })),
  matmulVariant('rows-gemv', { fewRows: 'gemv' }),
  splitVariant('rows-split', { fewRows: 'gemm' }),
  // int8 against activations quantized to 8 bits (matmul_w8a8.ts): the dot4I8Packed reference, and
  // the subgroup-matrix GEMM by tile (matrices along rows x along outputs). Their error column is
  // what the activations' rounding costs against the f32-activation reference.
  matmulVariant('engine-f32act', { w8a8: 'off' }),
  matmulVariant('w8a8-dp4a', { w8a8: 'dp4a', w8a8Few: 'kernel', only: 'gemm' }, (format) => format === 'int8'),
  // The few-rows dot4I8Packed GEMM (passes of up to 16 rows; beyond, the reference), by workgroup
  // shape (groups of 32 along K x along N), on any adapter.
  ...([[8, 1], [4, 2], [2, 4], [4, 1], [2, 2], [1, 8]] as const).map(([kw, ug]) =>
    matmulVariant(`w8a8-rows-kw${kw}-ug${ug}`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw, ug }, only: 'gemm' }, (format) => format === 'int8')),
  // The same with two chunks per step summed in i32 (-p) and the bit-trick conversion (-m).
  ...([[8, 1], [4, 2], [4, 1], [2, 2]] as const).flatMap(([kw, ug]) => ([[true, false], [false, true], [true, true]] as const).map(([pair, magic]) =>
    matmulVariant(`w8a8-rows-kw${kw}-ug${ug}-${pair ? 'p' : ''}${magic ? 'm' : ''}`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw, ug, pair, magic }, only: 'gemm' }, (format) => format === 'int8'))),
  // Diagnostics (wrong sums): the products replaced by exclusive ors (-dp0) or done twice (-dp2).
  ...([0, 2] as const).map((d) => matmulVariant(`w8a8-rows-kw8-ug1-dp${d}`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw: 8, ug: 1, diagDp: d }, only: 'gemm' }, (format) => format === 'int8')),
  // At most 8 rows per workgroup (-t8: a 16-row pass reads each weight twice, with half the accumulators).
  ...([[8, 1], [4, 2]] as const).map(([kw, ug]) => matmulVariant(`w8a8-rows-kw${kw}-ug${ug}-pm-t8`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw, ug, pair: true, magic: true, maxTile: 8 }, only: 'gemm' }, (format) => format === 'int8')),
  // At most 8 or 4 rows per workgroup with the row blocks along the grid's x (-t8x, -t4x): a weight's
  // later reads, for the other rows, come from L2 right after the first (-t8x is the default's).
  ...([[8, 1], [4, 2], [2, 4], [4, 1], [2, 2], [1, 8]] as const).flatMap(([kw, ug]) => ([8, 4] as const).map((maxTile) =>
    matmulVariant(`w8a8-rows-kw${kw}-ug${ug}-t${maxTile}x`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw, ug, maxTile, rowsFirst: true }, only: 'gemm' }, (format) => format === 'int8'))),
  ...([[4, 2], [2, 4]] as const).flatMap(([kw, ug]) => ([[true, false], [false, true], [true, true]] as const).map(([pair, magic]) =>
    matmulVariant(`w8a8-rows-kw${kw}-ug${ug}-${pair ? 'p' : ''}${magic ? 'm' : ''}-t8x`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw, ug, pair, magic, maxTile: 8, rowsFirst: true }, only: 'gemm' }, (format) => format === 'int8'))),
  // One chunk of the weight rows in flight per step (-1: fewer live registers) or four (-4), as
  // 16-row blocks and as the default's 8-row blocks along x.
  ...([[8, 1], [4, 2]] as const).flatMap(([kw, ug]) => ([1, 4] as const).flatMap((inflight) => [
    matmulVariant(`w8a8-rows-kw${kw}-ug${ug}-${inflight}`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw, ug, inflight }, only: 'gemm' }, (format) => format === 'int8'),
    matmulVariant(`w8a8-rows-kw${kw}-ug${ug}-${inflight}-t8x`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw, ug, inflight, maxTile: 8, rowsFirst: true }, only: 'gemm' }, (format) => format === 'int8'),
  ])),
  // The lanes' sums through subgroup shuffles (-sg), one barrier for all rows.
  ...([[4, 2, 8], [8, 1, 8], [8, 1, 16], [2, 4, 8]] as const).map(([kw, ug, maxTile]) =>
    matmulVariant(`w8a8-rows-kw${kw}-ug${ug}-sg${maxTile === 8 ? '-t8x' : ''}`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw, ug, sgReduce: true, ...(maxTile === 8 ? { maxTile, rowsFirst: true } : {}) }, only: 'gemm' }, (format) => format === 'int8')),
  ...([1, 4] as const).map((inflight) => matmulVariant(`w8a8-rows-kw4-ug2-${inflight}-sg-t8x`, { w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: { kw: 4, ug: 2, inflight, sgReduce: true, maxTile: 8, rowsFirst: true }, only: 'gemm' }, (format) => format === 'int8')),
  splitVariant('w8a8-rows-split', { w8a8: 'dp4a', w8a8Few: 'rows' }, (format) => format === 'int8'),
  // Tiles: one subgroup's TM x TN matrices, sm x sn subgroups per workgroup, K split over ks of them.
  ...([
    { tm: 1, tn: 1 }, { tm: 1, tn: 2 }, { tm: 1, tn: 4 }, { tm: 2, tn: 2 }, { tm: 2, tn: 4 }, { tm: 4, tn: 2 }, { tm: 4, tn: 4 },
    { tm: 1, tn: 1, ks: 4 }, { tm: 1, tn: 2, ks: 2 }, { tm: 1, tn: 2, ks: 4 }, { tm: 1, tn: 2, ks: 8 }, { tm: 1, tn: 4, ks: 4 },
    { tm: 2, tn: 2, sm: 2, sn: 2 }, { tm: 2, tn: 4, sm: 2, sn: 2 }, { tm: 2, tn: 4, sm: 2, sn: 1 }, { tm: 4, tn: 2, sm: 1, sn: 4 }, { tm: 2, tn: 2, sm: 1, sn: 4 },
    { tm: 2, tn: 2, sm: 2, sn: 2, staged: true }, { tm: 1, tn: 2, sm: 4, sn: 2, staged: true }, { tm: 2, tn: 4, sm: 2, sn: 1, staged: true },
    { tm: 1, tn: 4, sm: 4, sn: 1, staged: true }, { tm: 2, tn: 1, sm: 2, sn: 4, staged: true }, { tm: 2, tn: 4, sm: 2, sn: 2, staged: true },
    { tm: 2, tn: 4, unroll: true }, { tm: 2, tn: 2, unroll: true }, { tm: 1, tn: 2, ks: 8, unroll: true }, { tm: 1, tn: 2, ks: 4, unroll: true }, { tm: 1, tn: 1, ks: 8, unroll: true },
    // Diagnostics (their error column is large by design): the same without the per-group epilogue.
    { tm: 2, tn: 4, diagOneScale: true }, { tm: 1, tn: 2, ks: 8, diagOneScale: true }, { tm: 1, tn: 2, ks: 4, diagOneScale: true },
  ] as SgmatTile[]).map((tile) =>
    matmulVariant(`w8a8-${tileName(tile)}`, { w8a8: 'sgmat', w8a8Tile: tile, w8a8Few: 'kernel', only: 'gemm' }, (format, ctx) => format === 'int8' && subgroupMatrixI8(ctx.device) !== null)),
  splitVariant('w8a8-split', { w8a8: 'sgmat', w8a8Few: 'kernel' }, (format, ctx) => format === 'int8' && subgroupMatrixI8(ctx.device) !== null),
];

/** A GEMM whose output columns go to three buffers (half, quarter, quarter of N). */
function splitVariant(name: string, opts: MatmulOptions, supports: MatmulVariant['supports'] = () => true): MatmulVariant {
  return {
    name,
    supports,
    async prepare(ctx, io) {
      const n = io.weights[0]!.n;
      const parts = [n / 2, n / 4, n / 4];
      const m = await Matmul.create(ctx.cache, io.weights[0]!, { w8a8: 'off', ...opts, split: parts, only: 'gemm' });
      const extra = [createStorage(ctx.device, 'lab y1', io.rows * n), createStorage(ctx.device, 'lab y2', io.rows * n)];
      const bound = io.weights.map((w, i) => m.bind(ctx.device, `lab w${i}`, { w, x: io.x, y: [io.y, ...extra], step: io.step }));
      return {
        encode: (pass, copy) => m.encode(pass, bound[copy % bound.length]!, io.rows),
        // The three outputs put back side by side, as one [rows, n].
        async output() {
          const y = new Float32Array(io.rows * n);
          let col = 0;
          for (const [i, b] of [io.y, ...extra].entries()) {
            const part = await readF32(ctx.device, b, io.rows * parts[i]!);
            for (let r = 0; r < io.rows; r++) y.set(part.subarray(r * parts[i]!, (r + 1) * parts[i]!), r * n + col);
            col += parts[i]!;
          }
          return y;
        },
      };
    },
  };
}

const GB = 1e9;
const MAX_COPIES = 64;

/**
 * Streaming read of the weight copies themselves (the data buffers, rotated like the GEMV's): the
 * best the hardware and the API do for one dispatch of exactly this many bytes, launch and drain
 * included. A small matrix cannot stream at the rate of a 1 GiB read; this is its fair ceiling.
 */
async function sameSizeRead(ctx: LabContext, timer: DispatchTimer, buffers: GPUBuffer[], bytes: number, iters: number, trials: number): Promise<number> {
  const { device } = ctx;
  const p = await ctx.cache.get('lab_read', bandwidthCode, { WG: 256 }, 'read_main');
  const dst = createStorage(device, 'lab read dst', 4096);
  try {
    const bound = buffers.map((b) =>
      device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: b, size: bytes } }, { binding: 1, resource: { buffer: dst } }] }),
    );
    const groups = Math.min(65535, Math.max(1, Math.ceil(bytes / 16 / 256 / 8)));
    const t = await timer.time('same-size read', iters, trials, (pass, i) => {
      pass.setPipeline(p);
      pass.setBindGroup(0, bound[i % bound.length]!);
      pass.dispatchWorkgroups(groups);
    });
    return bytes / (median(t.ms) / 1000) / GB;
  } finally {
    dst.destroy();
  }
}

/** max |a - b| / max |b| */
function relError(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m > 0 ? d / m : d;
}

interface Timed {
  variant: string;
  iters: number;
  times: number[];
  err: number;
}

/** Prepares, checks (against the first variant) and times every supported variant on the same io. */
async function runVariants(ctx: LabContext, timer: DispatchTimer, variants: MatmulVariant[], format: WeightFormat, io: MatmulIo, iters: number, trials: number, label: string): Promise<Timed[]> {
  const { device } = ctx;
  const n = io.weights[0]!.n;
  let ref: Float32Array | null = null;
  let sumSquares: number | null = null;
  const out: Timed[] = [];
  for (const v of variants.filter((x) => x.supports(format, ctx))) {
    let m: Awaited<ReturnType<MatmulVariant['prepare']>>;
    try {
      m = await v.prepare(ctx, io);
    } catch (e) {
      // One variant this device cannot build (workgroup memory, an experimental feature) does not end the run.
      console.error(`[lab] ${label} ${v.name}: not built: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    const enc = device.createCommandEncoder();
    enc.clearBuffer(io.y);
    const pass = enc.beginComputePass();
    m.encode(pass, 0);
    pass.end();
    device.queue.submit([enc.finish()]);
    const y = m.output ? await m.output() : await readF32(device, io.y, io.rows * n);
    ref ??= y;
    let want = ref;
    if (v.normEps !== undefined) {
      // y = W x / rms(x) with a norm weight of ones (rows = 1: x's first row).
      const k = io.weights[0]!.k;
      sumSquares ??= (await readF32(device, io.x, k)).reduce((a, b) => a + b * b, 0);
      const scale = 1 / Math.sqrt(sumSquares / k + v.normEps);
      want = ref.map((r) => r * scale);
    }
    const t = await timer.time(`${label} ${v.name}`, iters, trials, (p, i) => m.encode(p, i));
    out.push({ variant: v.name, iters: t.iters, times: t.ms, err: relError(y, want) });
  }
  return out;
}

export async function runKernelLab(o: KernelLabOptions = {}, gpu?: GpuContext): Promise<KernelLabReport> {
  const log = o.log ?? (() => {});
  gpu ??= await acquireBenchDevice();
  const { device } = gpu;
  const ctx: LabContext = { gpu, device, cache: new PipelineCache(device) };
  const shapes = o.shapes ?? ['4096x4096', '14336x4096', '4096x14336', '2048x8192'];
  const formats = o.formats ?? ['f16', 'int8'];
  const iters = o.iters ?? 50;
  const minPassMs = o.minPassMs ?? 20;
  const trials = o.trials ?? 5;
  const gemmRows = o.gemmRows ?? 512;
  const wanted = o.variants ?? ['simple', 'engine'];
  const unknown = wanted.filter((v) => v !== 'all' && !GEMV_VARIANTS.some((g) => g.name === v) && !GEMM_VARIANTS.some((g) => g.name === v));
  if (unknown.length) throw new RangeError(`kernel lab: unknown variant ${unknown.join(', ')} (known: ${[...GEMV_VARIANTS, ...GEMM_VARIANTS.slice(1)].map((g) => g.name).join(', ')}, all)`);
  // The engine's GEMM always runs first (every other GEMM is checked against it), the others when named.
  const gemmVariants = GEMM_VARIANTS.filter((g) => g === engine || wanted.includes('all') || wanted.includes(g.name));
  // The first variant is every other's correctness reference, so 'simple' always runs first.
  const gemvVariants = wanted.includes('all') ? GEMV_VARIANTS : GEMV_VARIANTS.filter((g) => g.name === 'simple' || wanted.includes(g.name));
  const bandwidthBytes = o.bandwidthBytes ?? defaultBandwidthBytes(gpu);
  const rotateBytes = o.rotateBytes ?? Math.min(bandwidthBytes, 512 << 20);
  const fill = await FillRandom.create(ctx.cache);
  const timer = new DispatchTimer(device, minPassMs);
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const gemv: GemvResult[] = [];
  const gemm: GemmResult[] = [];
  let bandwidth: BandwidthResult[] = [];
  let failure: unknown;
  try {
    bandwidth = await measureBandwidth(gpu, ctx.cache, fill, timer, bandwidthBytes, trials);
    log(`[lab] ${bandwidth.map((b) => `${b.kernel} ${b.gbPerSecond.toFixed(1)} GB/s`).join(', ')}`);
    const readBw = bandwidth.find((b) => b.kernel === 'read')!.gbPerSecond;
    for (const shape of shapes) {
      const [n, k] = parseShape(shape);
      for (const format of formats) {
        const copies = Math.max(1, Math.min(MAX_COPIES, Math.ceil(rotateBytes / matrixLayout(n, k, format).bytes)));
        const weights = Array.from({ length: copies }, (_, i) => randomWeight(device, fill, `lab ${shape} ${format} #${i}`, n, k, format, 1000 + i));
        const x = createStorage(device, 'lab x', gemmRows * k * 4);
        const y = createStorage(device, 'lab y', gemmRows * n * 4);
        const steps = [new StepBuffer(device, 'lab step gemv'), new StepBuffer(device, 'lab step gemm')];
        try {
          fill.fill(device, x, { mode: 'f32', seed: 99, words: gemmRows * k, rowWords: k, cols: k, lo: -1, hi: 1 });
          steps[0]!.write({ rows: 1, pos: 0 });
          steps[1]!.write({ rows: gemmRows, pos: 0 });
          const weightBytes = weights[0]!.bytes;
          const rate = (ms: number) => ({ msMedian: ms, gbPerSecond: weightBytes / (ms / 1000) / GB, rooflinePercent: (100 * weightBytes) / (ms / 1000) / GB / readBw });
          for (const t of await runVariants(ctx, timer, gemvVariants, format, { weights, x, y, step: steps[0]!.buffer, rows: 1 }, iters, trials, `gemv ${shape} ${format}`)) {
            const r = rate(median(t.times));
            gemv.push({ variant: t.variant, format, shape, n, k, weightBytes, copies, iters: t.iters, ...r, msMin: Math.min(...t.times), maxRelErrorVsReference: t.err });
            log(`[lab] gemv ${shape} ${format} ${t.variant}: ${(r.msMedian * 1000).toFixed(1)} us, ${r.gbPerSecond.toFixed(1)} GB/s (${r.rooflinePercent.toFixed(0)}% of read)`);
          }
          const dataBytes = weights[0]!.n * weights[0]!.rowStride * 4;
          const sizedGbPerSecond = await sameSizeRead(ctx, timer, weights.map((w) => w.data), dataBytes, iters, trials);
          for (const g of gemv.filter((r) => r.shape === shape && r.format === format)) g.sameSizeReadPercent = (100 * g.gbPerSecond) / sizedGbPerSecond;
          log(`[lab] read of ${dataBytes} B (one matrix): ${sizedGbPerSecond.toFixed(1)} GB/s`);
          const engineRow = gemv.find((g) => g.variant === 'engine' && g.shape === shape && g.format === format);
          if (engineRow) {
            const ys = weights.map((_, i) => createStorage(device, `lab y${i}`, n * 4));
            try {
              const m = await engine.prepare(ctx, { weights, x, y, ys, step: steps[0]!.buffer, rows: 1 });
              const t = await timer.time(`gemv ${shape} ${format} engine overlapped`, iters, trials, (p, i) => m.encode(p, i));
              engineRow.overlapped = rate(median(t.ms));
            } finally {
              for (const b of ys) b.destroy();
            }
          }
          const gemmIters = Math.max(1, Math.ceil(iters / 5));
          for (const t of await runVariants(ctx, timer, gemmVariants, format, { weights, x, y, step: steps[1]!.buffer, rows: gemmRows }, gemmIters, trials, `gemm ${shape} ${format}`)) {
            const ms = median(t.times);
            const tflops = (2 * gemmRows * n * k) / (ms / 1000) / 1e12;
            gemm.push({ variant: t.variant, format, shape, n, k, rows: gemmRows, iters: t.iters, msMedian: ms, msMin: Math.min(...t.times), tflops, maxRelErrorVsReference: t.err });
            log(`[lab] gemm ${shape} x${gemmRows} ${format} ${t.variant}: ${ms.toFixed(3)} ms, ${tflops.toFixed(2)} TFLOP/s`);
          }
        } finally {
          for (const w of weights) {
            for (const b of weightBuffers(w)) b.destroy();
          }
          x.destroy();
          y.destroy();
          for (const s of steps) s.buffer.destroy();
        }
      }
    }
  } catch (e) {
    failure = e;
  } finally {
    timer.destroy();
    await device.queue.onSubmittedWorkDone();
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const err = oom ?? validation;
    if (err && !failure) failure = new Error(`kernel lab: WebGPU ${oom ? 'out-of-memory' : 'validation'} error: ${err.message}`);
  }
  if (failure) throw failure;
  return {
    schema: KERNEL_SCHEMA,
    date: new Date().toISOString(),
    adapter: { ...gpu.adapterInfo },
    features: deviceFeatures(gpu),
    settings: {
      shapes, formats, iters, trials, minPassMs, rotateBytes, gemmRows,
      bandwidthBytes: bandwidth.find((b) => b.kernel === 'read')?.bytes ?? bandwidthBytes,
      timing: timer.source,
      timestampQuantumNs: timer.quantumNs,
    },
    bandwidth,
    gemv,
    gemm,
  };
}
