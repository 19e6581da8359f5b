// Linear layer y[r, n] = sum_k x[r, k] * W[n, k] (+ bias[n]) over a packed weight (any format of kernels/formats).
// Two pipelines per weight shape: a GEMV for one row (decode) and a tiled GEMM for many (prefill).
import gemvReferenceCode from './matmul_gemv.wgsl';
import gemmCode from './matmul_gemm.wgsl';
import gemmThreadCode from './matmul_gemm_thread.wgsl';
import gemmWideCode from './matmul_gemm_wide.wgsl';
import gemmRowsCode from './matmul_gemm_rows.wgsl';
import rowsLanesCode from './matmul_rows_lanes.wgsl';
import { rowsDispatch, rowsReduceEnable, rowsReduceLen, rowsReduceWgsl } from './rows_reduce';
import gemvRowsPlain from './gemv_rows_plain.wgsl';
import gemvRowsSplit from './gemv_rows_split.wgsl';
import gemvRowsUnits from './gemv_rows_units.wgsl';
import { STEP_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';
import { subgroupMatrixI8 } from '../gpu/device';
import { weightWgsl, weightConstants, biasWgsl, partsKey, scaleGroups, type GpuWeight } from './weights';
import { formatSpec, isQuantized, type WeightFormat } from './formats';
import { W8a8, w8a8RowsApplies, w8a8Unsupported, w8a8RowsDefault, type SgmatTile, type W8a8Binding, type W8a8Input, type W8a8InputBuffers, type W8a8Kernel, type W8a8RowsTuning } from './matmul_w8a8';
import { GEMV_WG, GEMV_INPUT_PLAIN, gemvCode, gemvConstants, gemvDevice, gemvEntries, gemvGrid, gemvReader, gemvTuning, gemvWeightAccess, sizeStorageArrays, tuningKey, vecChunk, vecGemvApplies, type GemvTuning } from './gemv';

export { vecGemvApplies } from './gemv';

export type WeightShape = Pick<GpuWeight, 'format' | 'n' | 'k' | 'rowStride' | 'groupSize' | 'partRows'>;

export interface MatmulOptions {
  bias?: boolean;
  /** Which Step field holds the row count: 'logit_rows' for the lm_head over the last rows. */
  rowsFrom?: 'rows' | 'logit_rows';
  /**
   * GEMV variant: 'vec' (16-byte loads; needs K a multiple of the format's vecChunk: 4 for f32 up to 32 for q4),
   * 'reference' (any shape, one u32 per load; the readable version), or 'auto' (default: 'vec'
   * whenever it applies).
   */
  gemv?: 'auto' | 'vec' | 'reference';
  /** y += x W^T (+ bias) instead of y = ...: the residual add, fused into the epilogue */
  accumulate?: boolean;
  /** vec GEMV only: overrides of the default tuning (the kernel lab sweeps these) */
  tuning?: Partial<GemvTuning>;
  /** reference GEMV only: threads per output row (power of two <= 256); default chosen from K */
  gemvThreadsPerRow?: number;
  /**
   * vec GEMV only: x is the raw residual stream and RMSNorm (this eps, the weight bound as `norm`)
   * is applied on the way in. The GEMM path never normalizes: build it with `only: 'gemv'`.
   */
  normEps?: number;
  /**
   * GEMM variant: 'wide' (matmul_gemm_wide.wgsl: TM x 128 tiles, 8 x TM/16 outputs per thread,
   * the next K-step loaded during this one's arithmetic), 'tiled' (matmul_gemm.wgsl: 64 x 64 tiles,
   * 4 x 4 outputs per thread; the readable one), 'thread' (matmul_gemm_thread.wgsl: no barriers,
   * for software adapters; needs the vec GEMV's K), or 'auto' (default: 'thread' on software
   * adapters where it applies, else 'wide').
   */
  gemm?: 'auto' | 'wide' | 'tiled' | 'thread';
  /** wide GEMM only: rows of x per tile, 64 or 128 (default WIDE_TILE_ROWS) */
  wideRows?: 64 | 128;
  /** GEMM only: the output columns go to several buffers of these widths (stacked projections) */
  split?: number[];
  /**
   * Passes of 2..SKINNY_ROWS rows: 'gemm' (matmul_gemm_rows.wgsl: each weight chunk loaded and
   * unpacked once for up to 16 rows), 'gemv' (the vectorized GEMV once per row, the rows of a
   * weight slice in neighbouring workgroups), or 'auto' (default: 'gemm' on GPUs where the
   * vectorized readers apply and a GEMM is built; software adapters run their thread GEMM).
   */
  fewRows?: 'auto' | 'gemm' | 'gemv';
  /**
   * few-rows GEMM only: groups of 32 invocations along K (KW) and along N (UG), KW * UG <= 8; x read
   * by each thread from memory ('chunk') or staged in workgroup memory a tile of K at a time ('tile',
   * KW lowered where the tile would not fit the device). Default per format and tile: rowsTuningFor.
   */
  rowsTuning?: Partial<RowsTuning>;
  /**
   * few-rows GEMM only: the tallest rows-per-workgroup tile (2, 4, 8 or 16; default 16; taller
   * passes take several row blocks) and whether the row blocks lie along the grid's x, so that
   * neighbouring workgroups read the same weights for different rows (default: along y)
   */
  rowsBlocks?: Partial<RowsBlocks>;
  /** build one path only (a norm-fused GEMV, or a split GEMM, has no twin on the other path) */
  only?: 'gemv' | 'gemm';
  /**
   * int8 weights, passes of at least `w8a8MinRows` rows: x quantized to 8 bits per row and weight
   * group, then an integer GEMM (matmul_w8a8.ts). 'sgmat' (subgroup matrices: tensor cores),
   * 'dp4a' (dot4I8Packed, any adapter: the reference), 'rows' (the few-rows dot4I8Packed GEMM
   * alone: passes of more than W8A8_ROWS_MAX rows keep f32 activations), 'off', or 'auto'
   * (default: the pipeline cache's setting; with its 'auto', 'sgmat' where the device has i8
   * subgroup matrices, else 'rows' on GPUs). Passes of up to 16 rows run the few-rows GEMM (w8a8Few).
   */
  w8a8?: 'auto' | 'sgmat' | 'dp4a' | 'rows' | 'off';
  /** 'sgmat' only: subgroup matrices per workgroup (default: SGMAT_TILE_FEW / SGMAT_TILE_MANY by rows) */
  w8a8Tile?: SgmatTile;
  /**
   * W8A8 passes of at most W8A8_ROWS_MAX rows: 'rows' (the dot4I8Packed few-rows GEMM, shaped by
   * `w8a8RowsTuning`) or 'kernel' (the W8A8 kernel itself). Default: 'kernel' where the pipeline
   * cache's setting is 'sgmat', else 'rows' where w8a8RowsApplies.
   */
  w8a8Few?: 'rows' | 'kernel';
  w8a8RowsTuning?: W8a8RowsTuning;
  /** the fewest rows the W8A8 path runs (default W8A8_MIN_ROWS) */
  w8a8MinRows?: number;
  /**
   * W8A8 only: the kernel before this matmul folded into its quantizer (RMSNorm, SiLU times up, or
   * decode attention's combine), for bindings given `w8a8Input` and passes that run encodeFused. Ignored where the W8A8
   * path is not built.
   */
  w8a8Input?: W8a8Input;
}

/**
 * Rows from which an automatic W8A8 path takes over: 2, i.e. every pass but the GEMV's (batched
 * decode and prefill). The int8 few-rows GEMM unpacks each weight to f32 once for up to 16 rows;
 * the tensor cores' integer MMA reads the weight once and multiplies without unpacking.
 */
export const W8A8_MIN_ROWS = 2;

export interface MatmulBinding {
  gemv?: GPUBindGroup;
  gemm?: GPUBindGroup;
  /** an automatic GEMM's smaller tiles (see WIDE128_MIN_GROUPS) */
  gemmWide64?: GPUBindGroup;
  gemmTiled?: GPUBindGroup;
  /** the W8A8 path's two dispatches */
  w8a8?: W8a8Binding;
  /** the same with the fused input (bind's w8a8Input) */
  w8a8Fused?: W8a8Binding;
  /** a split GEMM's few-rows GEMV */
  skinny?: GPUBindGroup;
  /** the few-rows GEMM, one per rows-per-workgroup variant (ROWS_TILES) */
  rowsGemm?: GPUBindGroup[];
}

// Bindings (gemvEntries): 0 W, 1 scales, 2 x, 3 y, 4 step, 5 bias, 6 RMSNorm weight.
const BIND_Y = 3;
/** The outputs of a split GEMM: y, then these two. */
const BIND_SPLIT = [BIND_Y, 6, 7];

const GEMM_TILE = 64; // TM = TN in matmul_gemm.wgsl
const WIDE_TILE_COLS = 128; // TN in matmul_gemm_wide.wgsl
export const WIDE_TILE_ROWS = 128;
/**
 * An automatic GEMM picks its tile from the grid a pass needs: 128-row wide tiles when they make
 * at least WIDE128_MIN_GROUPS workgroups, else 64-row wide tiles when those make at least
 * WIDE64_MIN_GROUPS, else the 64 x 64 tiles. A wide tile does more work per workgroup, so a grid
 * of a few of them leaves most of a large GPU idle. H200 (132 SMs), TFLOP/s at 512 rows
 * (wide128 / wide64 / tiled): 28672x4096 32 / 28 / 20, 6144x4096 25 / 22 / 19, 4096x4096 24.5 /
 * 27.6 / 18; at 128 rows 4096x4096 6.4 / 9.5 / 12.9 (bench/results/2026-12-01-h200-kernels-gemm-*.json).
 */
export const WIDE128_MIN_GROUPS = 160;
export const WIDE64_MIN_GROUPS = 96;
const THREAD_GEMM_WG = 16; // WG in matmul_gemm_thread.wgsl
const THREAD_GEMM_ROWS = 4; // TT: rows of x per thread
const THREAD_GEMM_COLS = 8; // outputs per thread (2 units of 4)
const MAX_GRID = 65535;
/**
 * Passes of 2..SKINNY_ROWS rows (a batched decode step, a short prompt) run the vectorized GEMV
 * once per row, the rows of a weight slice in neighbouring workgroups (each weight read from memory
 * once, from the cache for the other rows), where the GPU schedule has it: the tiled GEMM computes
 * whole 64-row tiles, 16 times the work at 4 rows.
 */
export const SKINNY_ROWS = 32;
/** Rows of x per workgroup of the few-rows GEMM: the smallest that holds a pass's rows (16 beyond). */
const ROWS_TILES = [2, 4, 8, 16] as const;
/** sgReduce: the lanes' sums through subgroup shuffles (rows_reduce.ts; default: where the adapter has subgroups) */
type RowsTuning = { kw: number; ug: number; inner: 'chunk' | 'tile'; sgReduce?: boolean };
type RowsBlocks = { maxTile: number; rowsFirst: boolean };
/** Workgroups a few-rows GEMM grid should have for 16 output columns per workgroup to pay (132 SMs). */
const ROWS_WIDE_MIN_GROUPS = 192;
const rowsWide = (n: number) => Math.ceil(Math.ceil(n / 4) / 16) >= ROWS_WIDE_MIN_GROUPS;
/**
 * The few-rows GEMM's row blocks: f16 and f32 weights on narrow outputs take 16-row passes as two
 * 8-row blocks along the grid's x (each weight's second read from L2 right after the first, half
 * the accumulators), in 4 x 2 tiles of x (rowsTuningFor). H100, 2026-12-07e, kernel lab at 16 rows
 * (bench/results/2026-12-07e-h100-lab-f16-*.json): f16 4096x14336 0.116 ms against 0.222 for one
 * 16-row block; on wide outputs (14336x4096) one 16-row block in 2 x 4 tiles stays faster (0.098
 * against 0.111). Llama-3.2-1B f16 B = 16 went from 2,858 to 3,856 tok/s with the blocks (8 x 1
 * chunks then).
 */
function rowsBlocksFor(format: WeightFormat, n: number): RowsBlocks {
  return (format === 'f16' || format === 'f32') && !rowsWide(n) ? { maxTile: 8, rowsFirst: true } : { maxTile: 16, rowsFirst: false };
}
/**
 * The few-rows GEMM's default shape per weight format, rows per workgroup and output width, from
 * the kernel lab on an H100 (2026-12-06, bench/results/2026-12-06-h100-kernels-rows*.json;
 * 4096x4096, 14336x4096, 4096x14336 at 8 and 16 rows). kw8-ug1 reading x from memory was the
 * fastest or within 10% everywhere but f16 at 8 and 16 rows. There x staged in workgroup memory
 * wins where the grid stays large: kw2-ug4 (16 units per workgroup) reached 19.5 TFLOP/s at
 * 14336x4096 x16 against 12.9 (kw4-ug2) and 12.9 (chunk), but on 4096 outputs (64 workgroups) it
 * lost a third. At 16 rows on narrower outputs kw4-ug2 tiles beat the chunk form by 0-30%; at 8
 * rows they lost 10%. int8 lost 7-50% in every tile shape (its tile is twice as wide in K).
 */
function rowsTuningFor(format: WeightFormat, mr: number, n: number): RowsTuning {
  if ((format === 'f16' || format === 'f32') && mr >= 8) {
    if (rowsWide(n)) return { kw: 2, ug: 4, inner: 'tile' };
    // 8-row tiles on narrow outputs also serve 16-row passes (rowsBlocksFor): kw4-ug2 tiles, which
    // at 8 rows alone measured 10% slower than chunks (2026-12-06).
    return { kw: 4, ug: 2, inner: 'tile' };
  }
  return { kw: 8, ug: 1, inner: 'chunk' };
}

/**
 * Workgroup bytes of the few-rows GEMM: the reduction's two regions, or the x tile where larger
 * (chunk > 0: the reader's weights per 16-byte chunk; 0 for the form without a tile).
 */
function rowsSharedBytes(mr: number, kw: number, ug: number, chunk: number): number {
  const red = 2 * 32 * kw * ug + 2 * 4 * ug * kw;
  const tile = chunk > 0 ? mr * 8 * kw * (chunk / 4) : 0;
  return 16 * Math.max(red, tile);
}

const REFERENCE_GRID_X = 1024;

/**
 * Threads that share one output row in the reference GEMV (TPR in matmul_gemv.wgsl): enough that
 * each walks about four 4-column steps of k.
 */
export function gemvThreadsPerRow(k: number): number {
  const steps = Math.ceil(Math.ceil(k / 4) / 4);
  let tpr = 1;
  while (tpr < steps && tpr < GEMV_WG) tpr *= 2;
  return tpr;
}

const PLAIN_STORE = /* wgsl */ `
@group(0) @binding(${BIND_Y}) var<storage, read_write> Y: array<f32>; // [rows, N]
override ACCUMULATE: bool = false; // y += x W^T: the residual add fused into the epilogue
fn store(m: u32, n: u32, v: f32) {
  var y = v;
  if (ACCUMULATE) { y += Y[m * N + n]; }
  Y[m * N + n] = y;
}
`;

/** GEMM output split by columns into outputs of widths `w` (Y, Y1, Y2 at bindings 3, 6, 7). */
function splitStore(w: number[]): string {
  const decl = w.map((_, i) => `@group(0) @binding(${BIND_SPLIT[i]}) var<storage, read_write> Y${i}: array<f32>; // [rows, ${w[i]}]`).join('\n');
  let start = 0;
  const branches = w.map((width, i) => {
    const body = `Y${i}[m * ${width}u + n - ${start}u] = v;`;
    const cond = i < w.length - 1 ? `if (n < ${start + width}u) { ${body} return; }` : body;
    start += width;
    return `  ${cond}`;
  });
  return `${decl}\nfn store(m: u32, n: u32, v: f32) {\n${branches.join('\n')}\n}\n`;
}

export class Matmul {
  readonly weightBytes: number;
  private readonly gemvGrid: [number, number];

  private constructor(
    private readonly w: WeightShape,
    private readonly o: MatmulOptions,
    private readonly gemv: GPUComputePipeline | null,
    private readonly gemm: GPUComputePipeline | null,
    gemvGrid: [number, number],
    /** which GEMV this Matmul runs */
    readonly gemvVariant: 'vec' | 'reference' | null,
    /** which GEMM this Matmul runs */
    readonly gemmVariant: 'wide' | 'tiled' | 'thread' | null,
    /** the GEMV that serves 2..SKINNY_ROWS rows (the plain GEMV itself, or a split one), or null */
    private readonly skinny: GPUComputePipeline | null = null,
    private readonly skinnyUnits: Pick<GemvTuning, 'wg' | 'tpr' | 'upt'> | null = null,
    /** the wide GEMM's rows per tile */
    private readonly wideRows: number = WIDE_TILE_ROWS,
    /** an automatic GEMM's smaller tiles: wide at 64 rows, and 64 x 64 (see WIDE128_MIN_GROUPS) */
    private readonly gemmSmaller: { wide64: GPUComputePipeline; tiled: GPUComputePipeline } | null = null,
    /** the few-rows GEMM per ROWS_TILES entry, and its units per workgroup */
    private readonly rowsGemm: { pipelines: GPUComputePipeline[]; units: number[]; rowsFirst: boolean } | null = null,
    /** int8 against 8-bit activations, for passes of at least w8a8MinRows rows */
    private readonly w8a8: W8a8 | null = null,
  ) {
    // rowStride counts floats (f32) or u32 words (packed formats): 4 bytes either way.
    this.weightBytes = w.n * (w.rowStride + scaleGroups(w)) * 4;
    this.gemvGrid = gemvGrid;
  }

  static async create(cache: PipelineCache, w: WeightShape, opts: MatmulOptions = {}): Promise<Matmul> {
    if (w.n < 1 || w.k < 1) throw new Error(`Matmul: empty weight ${w.n}x${w.k}`);
    const perWord = Math.max(4, formatSpec(w.format).perWord);
    if (isQuantized(w.format) && (w.groupSize <= 0 || w.groupSize % perWord !== 0)) {
      throw new Error(`Matmul: ${w.format} group size ${w.groupSize} must be a positive multiple of ${perWord}`);
    }
    if (Math.ceil(w.n / GEMM_TILE) > MAX_GRID || Math.ceil(w.n / REFERENCE_GRID_X) > MAX_GRID) {
      throw new Error(`Matmul: n=${w.n} needs more than ${MAX_GRID} workgroups per grid dimension`);
    }
    if (opts.split && opts.split.reduce((a, b) => a + b, 0) !== w.n) throw new Error(`Matmul: split ${opts.split} does not add up to n=${w.n}`);
    if (opts.split && (opts.split.length > BIND_SPLIT.length || opts.accumulate || opts.only !== 'gemm')) {
      throw new Error('Matmul: a split output is GEMM-only, without accumulate, into at most 3 buffers');
    }
    if (opts.normEps !== undefined && opts.only !== 'gemv') throw new Error('Matmul: a fused RMSNorm is GEMV-only');
    const hasBias = opts.bias ?? false;
    const variant = `${w.format}${hasBias ? '+bias' : ''}${partsKey(w)}`;
    const constants = {
      N: w.n,
      K: w.k,
      ...weightConstants(w),
      LOGIT_ROWS: (opts.rowsFrom ?? 'rows') === 'logit_rows',
    };
    const accumulate: Record<string, boolean> = opts.split ? {} : { ACCUMULATE: opts.accumulate ?? false };

    let gemv: Promise<GPUComputePipeline> | null = null;
    let grid: [number, number] = [0, 0];
    let gemvVariant: 'vec' | 'reference' | null = null;
    let skinny: Promise<GPUComputePipeline> | null = null;
    let skinnyTuning: GemvTuning | null = null;
    if (opts.only !== 'gemm') {
      const useVec = opts.gemv === 'vec' || ((opts.gemv ?? 'auto') === 'auto' && vecGemvApplies(w));
      if (useVec && !vecGemvApplies(w)) throw new Error(`Matmul: the vectorized GEMV cannot read ${w.format} K = ${w.k}`);
      if (opts.normEps !== undefined && !useVec) throw new Error('Matmul: a fused RMSNorm needs the vectorized GEMV');
      gemvVariant = useVec ? 'vec' : 'reference';
      if (useVec) {
        const units = Math.ceil(w.n / 4);
        const t = gemvTuning(w, units, gemvDevice(cache), opts.tuning);
        const norm = opts.normEps !== undefined;
        const code = gemvCode(w, { layout: biasWgsl(hasBias) + gemvRowsUnits + gemvRowsPlain, norm, tuning: t, outputs: { Y: w.n } });
        gemv = cache.get(`matmul_gemv_vec ${variant}${norm ? '+norm' : ''} ${tuningKey(t, w.format)}`, code, {
          ...constants, ...accumulate, ...gemvConstants(t), ...(norm ? { EPS: opts.normEps! } : {}),
        });
        grid = gemvGrid(units, t);
        // The lanes GEMV serves a few rows too (not with RMSNorm fused in: prefill normalizes first).
        if (t.schedule === 'lanes' && !norm) skinnyTuning = t;
      } else {
        const tpr = opts.gemvThreadsPerRow ?? gemvThreadsPerRow(w.k);
        if (!(tpr >= 1 && tpr <= GEMV_WG && (tpr & (tpr - 1)) === 0)) throw new Error(`Matmul: threads per row ${tpr} must be a power of two <= ${GEMV_WG}`);
        const code = STEP_WGSL + weightWgsl(w) + biasWgsl(hasBias) + gemvReferenceCode;
        gemv = cache.get(`matmul_gemv ${variant}`, code, { ...constants, ...accumulate, WG: GEMV_WG, TPR: tpr });
        const groups = Math.ceil(w.n / (GEMV_WG / tpr));
        const gx = Math.min(groups, REFERENCE_GRID_X);
        grid = [gx, Math.ceil(groups / gx)];
      }
    }
    let gemm: Promise<GPUComputePipeline> | null = null;
    let gemmSmaller: Promise<[GPUComputePipeline, GPUComputePipeline]> | null = null;
    let gemmVariant: 'wide' | 'tiled' | 'thread' | null = null;
    const wideRows = opts.wideRows ?? WIDE_TILE_ROWS;
    if (wideRows !== 64 && wideRows !== 128) throw new Error(`Matmul: wide GEMM rows per tile ${wideRows} must be 64 or 128`);
    if (opts.only !== 'gemv') {
      const store = opts.split ? splitStore(opts.split) : PLAIN_STORE;
      const split = opts.split ? ` split=${opts.split.join('+')}` : '';
      const wantThread = opts.gemm === 'thread' || ((opts.gemm ?? 'auto') === 'auto' && gemvDevice(cache).software && vecGemvApplies(w));
      if (wantThread && !vecGemvApplies(w)) throw new Error(`Matmul: the thread GEMM cannot read ${w.format} K = ${w.k}`);
      gemmVariant = wantThread ? 'thread' : opts.gemm === 'tiled' ? 'tiled' : 'wide';
      if (wantThread) {
        // The GEMV's 16-byte readers (integers unpacked by multiplications), with every weight-sized
        // array given its length (see gemvCode).
        const code = STEP_WGSL + gemvWeightAccess(w, true) + gemvReader(w.format, 'mul') + GEMV_INPUT_PLAIN + biasWgsl(hasBias) + store + gemmThreadCode;
        const sized = sizeStorageArrays(code, { B: w.n });
        gemm = cache.get(`matmul_gemm_thread ${variant}${split}`, sized, { ...constants, ...accumulate, WG: THREAD_GEMM_WG });
      } else {
        const tiled = () => cache.get(`matmul_gemm ${variant}${split}`, STEP_WGSL + weightWgsl(w) + biasWgsl(hasBias) + store + gemmCode, { ...constants, ...accumulate });
        const wide = (tm: number) => cache.get(`matmul_gemm_wide${tm} ${variant}${split}`, STEP_WGSL + weightWgsl(w) + biasWgsl(hasBias) + store + `const TM: u32 = ${tm}u;\n` + gemmWideCode, { ...constants, ...accumulate });
        if (gemmVariant === 'wide') {
          gemm = wide(wideRows);
          if ((opts.gemm ?? 'auto') === 'auto') gemmSmaller = Promise.all([wide(64), tiled()]);
        } else {
          gemm = tiled();
        }
      }
    }
    // A split GEMM (stacked q/k/v, gate/up) gets its few-rows GEMV of its own, on GPUs.
    if (opts.split && opts.only === 'gemm' && vecGemvApplies(w) && (opts.gemv ?? 'auto') !== 'reference') {
      const t = gemvTuning(w, Math.ceil(w.n / 4), gemvDevice(cache), opts.tuning);
      if (t.schedule === 'lanes') {
        const code = gemvCode(w, { layout: biasWgsl(hasBias) + splitStore(opts.split) + gemvRowsUnits + gemvRowsSplit, norm: false, tuning: t, outputs: {} });
        skinny = cache.get(`matmul_gemv_vec ${variant} split=${opts.split.join('+')} ${tuningKey(t, w.format)}`, code, { ...constants, ...gemvConstants(t) });
        skinnyTuning = t;
      }
    }
    // The few-rows GEMM: on GPUs by default, wherever a GEMM is built and the 16-byte readers apply.
    let rowsGemm: Promise<GPUComputePipeline[]> | null = null;
    let rowsUnits: number[] = [];
    let rowsBlocks: RowsBlocks = rowsBlocksFor(w.format, w.n);
    const fewRows = opts.fewRows ?? 'auto';
    if (fewRows === 'gemm' && (opts.only === 'gemv' || !vecGemvApplies(w))) throw new Error(`Matmul: the few-rows GEMM cannot read ${w.format} K = ${w.k}${opts.only === 'gemv' ? ' (GEMV-only matmul)' : ''}`);
    if (fewRows === 'gemm' || (fewRows === 'auto' && opts.only !== 'gemv' && vecGemvApplies(w) && !gemvDevice(cache).software && opts.gemv !== 'reference')) {
      const store = opts.split ? splitStore(opts.split) : PLAIN_STORE;
      const split = opts.split ? ` split=${opts.split.join('+')}` : '';
      const unpack = gemvTuning(w, Math.ceil(w.n / 4), { subgroupSize: 0, software: false }).unpack;
      const most = cache.device.limits.maxComputeWorkgroupStorageSize;
      rowsBlocks = { ...rowsBlocksFor(w.format, w.n), ...opts.rowsBlocks };
      if (!(ROWS_TILES as readonly number[]).includes(rowsBlocks.maxTile)) throw new Error(`Matmul: few-rows GEMM tile ${rowsBlocks.maxTile} is not one of ${ROWS_TILES.join(', ')}`);
      const maxTile = rowsBlocks.maxTile;
      const sgSize = gemvDevice(cache).subgroupSize;
      const tunings = ROWS_TILES.filter((mr) => mr <= maxTile).map((mr) => {
        const t = { ...rowsTuningFor(w.format, mr, w.n), ...opts.rowsTuning };
        if (![1, 2, 4, 8].includes(t.kw) || ![1, 2, 4, 8].includes(t.ug) || t.kw * t.ug > 8) throw new Error(`Matmul: few-rows GEMM groups kw=${t.kw} ug=${t.ug} must be powers of two with kw * ug <= 8`);
        // The tile form lowers KW (a narrower tile of K) until the tile fits the adapter.
        const chunk = t.inner === 'tile' ? vecChunk(w.format) : 0;
        while (chunk && t.kw > 1 && rowsSharedBytes(mr, t.kw, t.ug, chunk) > most) t.kw /= 2;
        if (rowsSharedBytes(mr, t.kw, t.ug, chunk) > most) throw new Error(`Matmul: the few-rows GEMM (${mr} rows, kw=${t.kw} ug=${t.ug}, ${t.inner}) needs more workgroup memory than this adapter's ${most} bytes`);
        // The lanes' sums through subgroup shuffles wherever the adapter has subgroups and the
        // reduction fits (`sgReduce: false` asks for workgroup memory). H100, 2026-12-08
        // (scripts/device/batch-sg2.sh, bench/results/2026-12-08-h100-batch-*-f16-*.json): f16 B = 16
        // steps Mistral-7B 16.10 -> 14.13 ms, Llama-3.2-1B 3.77 -> 3.33 ms (the W8A8 GEMM's: 9.37 -> 7.25).
        const fits = sgSize > 0 && 16 * rowsReduceLen(true, mr, t.kw, t.ug, sgSize) <= most;
        const sgReduce = (t.sgReduce ?? true) && fits;
        if (t.sgReduce && !sgReduce) throw new Error(`Matmul: the few-rows GEMM's shuffle reduction needs subgroups and ${16 * rowsReduceLen(true, mr, t.kw, t.ug, Math.max(1, sgSize))} bytes of workgroup memory`);
        return { mr, ...t, sgReduce };
      });
      rowsUnits = tunings.map((t) => 4 * t.ug);
      rowsGemm = Promise.all(tunings.map(({ mr, kw, ug, inner, sgReduce }) => {
        const code = rowsReduceEnable(sgReduce) + STEP_WGSL + `const MR: u32 = ${mr}u;\nconst ROWS_X: bool = ${rowsBlocks.rowsFirst};\n` + gemvWeightAccess(w, false) + gemvReader(w.format, unpack) + GEMV_INPUT_PLAIN + biasWgsl(hasBias) + store + rowsLanesCode + rowsReduceWgsl(sgReduce, sgSize) + gemmRowsCode;
        return cache.get(`matmul_gemm_rows${mr} ${variant}${split} kw=${kw} ug=${ug}${inner === 'tile' ? ' tile' : ''}${rowsBlocks.rowsFirst ? ' rows-first' : ''}${sgReduce ? ' sg-reduce' : ''}`, code,
          { ...constants, ...accumulate, KW: kw, UG: ug, TILED: inner === 'tile', SG_LEN: rowsReduceLen(sgReduce, mr, kw, ug, sgSize) });
      }));
    }
    // W8A8 (int8 weights, 8-bit activations): passes of many rows, where the device can.
    let w8a8: Promise<W8a8 | null> | null = null;
    const w8Option = opts.w8a8 ?? 'auto';
    // 'auto' follows the cache's setting; its own 'auto' takes subgroup matrices where the device
    // has them (the few-rows GEMM below 17 rows, and alone where the probe rejects them), else the
    // few-rows GEMM alone on GPUs (not on software adapters).
    const setting = w8Option === 'auto' ? cache.w8a8 : w8Option;
    const autoSgmat = w8Option === 'auto' && cache.w8a8 === 'auto';
    let w8Kernel: W8a8Kernel | null = setting === 'off' ? null
      : setting !== 'auto' ? setting
      : subgroupMatrixI8(cache.device) ? 'sgmat'
      : gemvDevice(cache).software ? null : 'rows';
    // A weight the tensor-core kernel does not take (split over buffers, N not of 16s) still gets
    // the few-rows GEMM under 'auto'.
    if (autoSgmat && w8Kernel === 'sgmat' && w8a8Unsupported(w, 'sgmat', cache.device) && !w8a8Unsupported(w, 'rows', cache.device)) w8Kernel = 'rows';
    if (w8Kernel && w.format === 'int8' && opts.only !== 'gemv') {
      const why = w8a8Unsupported(w, w8Kernel, cache.device);
      if (why && w8Option !== 'auto') throw new Error(`Matmul: ${why}`);
      if (!why) {
        const store = opts.split ? splitStore(opts.split) : PLAIN_STORE;
        const split = opts.split ? ` split=${opts.split.join('+')}` : '';
        const few = w8Kernel === 'rows' ? 'rows' : opts.w8a8Few ?? (cache.w8a8 === 'sgmat' || !w8a8RowsApplies(w) ? 'kernel' : 'rows');
        const rows = few === 'rows' ? opts.w8a8RowsTuning ?? w8a8RowsDefault(gemvDevice(cache).subgroupSize) : null;
        w8a8 = W8a8.create(cache, w, w8Kernel, { code: biasWgsl(hasBias) + store, key: ` ${variant}${split}`, constants: accumulate }, { tile: opts.w8a8Tile, input: opts.w8a8Input, rows, rowsIfRejected: autoSgmat, logitRows: opts.rowsFrom === 'logit_rows' });
      }
    } else if (w8Option !== 'auto' && w8Option !== 'off') {
      throw new Error(`Matmul: W8A8 runs int8 weights in a GEMM (${w.format}${opts.only === 'gemv' ? ', GEMV-only' : ''})`);
    }
    const [gv, gm, sk, gs, rg, w8] = await Promise.all([gemv, gemm, skinny, gemmSmaller, rowsGemm, w8a8]);
    if (w8Option !== 'auto' && w8Option !== 'off' && w8a8 && !w8) throw new Error(`Matmul: the ${w8Option} W8A8 GEMM failed its probe on this device`);
    return new Matmul(w, opts, gv, gm, grid, gemvVariant, gemmVariant, sk ?? (skinnyTuning ? gv : null), skinnyTuning, wideRows, gs ? { wide64: gs[0], tiled: gs[1] } : null,
      rg ? { pipelines: rg, units: rowsUnits, rowsFirst: rowsBlocks.rowsFirst } : null, w8 ?? null);
  }

  /**
   * `y` is one buffer, or one per part of a split GEMM; `norm` is the RMSNorm weight of a
   * norm-fused GEMV; `w8a8Input` the buffers of the fused W8A8 input (the w8a8Input option), which
   * encodeFused reads instead of x.
   */
  bind(device: GPUDevice, label: string, b: { w: GpuWeight; x: GPUBuffer; y: GPUBuffer | GPUBuffer[]; step: GPUBuffer; bias?: GPUBuffer; norm?: GPUBuffer; w8a8Input?: W8a8InputBuffers }): MatmulBinding {
    if ((this.o.normEps !== undefined) !== !!b.norm) throw new Error(`${label}: norm weight ${b.norm ? 'given to a plain' : 'missing for a norm-fused'} matmul`);
    const ys = Array.isArray(b.y) ? b.y : [b.y];
    if (ys.length !== (this.o.split?.length ?? 1)) throw new Error(`${label}: ${ys.length} output buffers for ${this.o.split?.length ?? 1} outputs`);
    const entries: GPUBindGroupEntry[] = [
      ...gemvEntries(label, { w: this.w, bias: !!this.o.bias }, { ...b, y: ys[0]! }),
      // A split GEMM's further outputs (never with a norm weight: that is GEMV-only).
      ...ys.slice(1).map((y, i) => ({ binding: BIND_SPLIT[i + 1]!, resource: { buffer: y } })),
    ];
    const group = (p: GPUComputePipeline | null, kind: string) =>
      p ? device.createBindGroup({ label: `${label} ${kind}`, layout: p.getBindGroupLayout(0), entries }) : undefined;
    return {
      gemv: group(this.gemv, 'gemv'),
      gemm: group(this.gemm, 'gemm'),
      gemmWide64: this.gemmSmaller ? group(this.gemmSmaller.wide64, 'gemm wide64') : undefined,
      gemmTiled: this.gemmSmaller ? group(this.gemmSmaller.tiled, 'gemm tiled') : undefined,
      skinny: this.skinny && this.skinny !== this.gemv ? group(this.skinny, 'gemv rows') : undefined,
      rowsGemm: this.rowsGemm?.pipelines.map((p, i) => group(p, `gemm rows${ROWS_TILES[i]}`)!),
      // With a fused input, passes that run W8A8 go through encodeFused: no scratch for x itself.
      w8a8: b.w8a8Input && this.o.w8a8Input ? undefined : this.w8a8?.bind(device, label, { w: b.w, x: b.x, step: b.step, bias: b.bias, outputs: ys.map((y, i) => ({ binding: BIND_SPLIT[i]!, resource: { buffer: y } })) }),
      w8a8Fused: this.w8a8 && this.o.w8a8Input && b.w8a8Input
        ? this.w8a8.bind(device, label, { w: b.w, x: b.x, step: b.step, bias: b.bias, outputs: ys.map((y, i) => ({ binding: BIND_SPLIT[i]!, resource: { buffer: y } })), input: b.w8a8Input })
        : undefined,
    };
  }

  /**
   * Where a pass of `rows` rows runs W8A8 and the binding has the fused input: quantizes that input
   * (the kernel before this matmul folded in) and multiplies, and returns true. Else records
   * nothing and returns false: the caller runs that kernel, then encode().
   */
  encodeFused(pass: GPUComputePassEncoder, b: MatmulBinding, rows: number): boolean {
    if (!this.fusesInput(b, rows)) return false;
    this.w8a8!.encode(pass, b.w8a8Fused!, rows);
    return true;
  }

  /** Whether encodeFused runs a pass of `rows` rows through this binding's fused input. */
  fusesInput(b: MatmulBinding, rows: number): boolean {
    return !!b.w8a8Fused && !!this.w8a8For(rows);
  }

  /** The W8A8 GEMM a pass of `rows` rows runs (the few-rows one, or the kernel), or null (f32 activations). */
  w8a8For(rows: number): 'rows' | 'sgmat' | 'dp4a' | null {
    return this.w8a8 && rows >= (this.o.w8a8MinRows ?? W8A8_MIN_ROWS) ? this.w8a8.gemmFor(rows) : null;
  }

  /** The few-rows GEMM when built (else passes of a few rows run the GEMV per row, or a GEMM). */
  get fewRowsVariant(): 'gemm' | null {
    return this.rowsGemm ? 'gemm' : null;
  }

  /** Workgroups of a GEMM over `rows` rows with tiles of `tm` x `tn`. */
  private groups(rows: number, tm: number, tn: number): number {
    return Math.ceil(this.w.n / tn) * Math.ceil(rows / tm);
  }

  /** The GEMM kernel (and its rows per tile) a pass of `rows` rows runs, past the GEMV and few-rows paths. */
  gemmFor(rows: number): { kind: 'wide' | 'tiled' | 'thread'; tm: number } | null {
    if (!this.gemmVariant) return null;
    if (this.gemmVariant === 'thread') return { kind: 'thread', tm: THREAD_GEMM_ROWS };
    if (this.gemmVariant === 'tiled') return { kind: 'tiled', tm: GEMM_TILE };
    if (!this.gemmSmaller || this.groups(rows, this.wideRows, WIDE_TILE_COLS) >= WIDE128_MIN_GROUPS) return { kind: 'wide', tm: this.wideRows };
    if (this.groups(rows, 64, WIDE_TILE_COLS) >= WIDE64_MIN_GROUPS) return { kind: 'wide', tm: 64 };
    return { kind: 'tiled', tm: GEMM_TILE };
  }

  /** rows == 1 -> GEMV pipeline, else GEMM pipeline. `rows` must equal the step buffer's rows (or logit_rows). */
  encode(pass: GPUComputePassEncoder, b: MatmulBinding, rows: number): void {
    if (rows <= 0) return;
    if (rows === 1 && this.gemv) {
      pass.setPipeline(this.gemv);
      pass.setBindGroup(0, b.gemv!);
      pass.dispatchWorkgroups(this.gemvGrid[0], this.gemvGrid[1]);
    } else if (this.w8a8For(rows)) {
      if (!b.w8a8) throw new Error('Matmul: a binding with a fused W8A8 input runs its W8A8 passes through encodeFused');
      this.w8a8!.encode(pass, b.w8a8, rows);
    } else if (rows <= SKINNY_ROWS && this.rowsGemm) {
      // The few-rows GEMM with the smallest tile of rows that holds them (the tallest built beyond).
      const built = this.rowsGemm.pipelines.length;
      const i = ROWS_TILES.slice(0, built).findIndex((mr) => rows <= mr);
      const tile = i < 0 ? built - 1 : i;
      pass.setPipeline(this.rowsGemm.pipelines[tile]!);
      pass.setBindGroup(0, b.rowsGemm![tile]!);
      const unitBlocks = Math.ceil(Math.ceil(this.w.n / 4) / this.rowsGemm.units[tile]!);
      const rowBlocks = Math.ceil(rows / ROWS_TILES[tile]!);
      rowsDispatch(pass, rowBlocks, unitBlocks, this.rowsGemm.rowsFirst);
    } else if (rows <= SKINNY_ROWS && this.skinny && this.skinnyUnits) {
      // One GEMV workgroup per (weight slice, row), the rows of a slice side by side.
      const t = this.skinnyUnits;
      const groups = Math.ceil(Math.ceil(Math.ceil(this.w.n / 4) / t.upt) / (t.wg / t.tpr)) * rows;
      const gx = Math.min(groups, 1024);
      pass.setPipeline(this.skinny);
      pass.setBindGroup(0, this.skinny === this.gemv ? b.gemv! : b.skinny!);
      pass.dispatchWorkgroups(gx, Math.ceil(groups / gx));
    } else if (this.gemm) {
      const { kind, tm } = this.gemmFor(rows)!;
      // An automatic GEMM's smaller tiles run their own pipelines.
      const smaller = this.gemmSmaller && (kind === 'tiled' || tm !== this.wideRows);
      const [pipeline, group] = !smaller ? [this.gemm, b.gemm!] : kind === 'tiled' ? [this.gemmSmaller!.tiled, b.gemmTiled!] : [this.gemmSmaller!.wide64, b.gemmWide64!];
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      if (kind === 'thread') pass.dispatchWorkgroups(Math.ceil(this.w.n / THREAD_GEMM_COLS / THREAD_GEMM_WG), Math.ceil(rows / THREAD_GEMM_ROWS));
      else if (kind === 'wide') pass.dispatchWorkgroups(Math.ceil(this.w.n / WIDE_TILE_COLS), Math.ceil(rows / tm));
      else pass.dispatchWorkgroups(Math.ceil(this.w.n / GEMM_TILE), Math.ceil(rows / GEMM_TILE));
    } else {
      throw new Error(`Matmul: built GEMV-only, cannot run ${rows} rows`);
    }
  }
}
