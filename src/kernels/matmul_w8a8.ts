// W8A8: int8 weights against activations quantized to 8 bits, for passes of many rows (prefill,
// batched decode) where the tensor cores pay. Two dispatches per linear layer:
//   1. quantize_rows.wgsl: x [rows, K] -> 8-bit values and one f32 scale per row and weight group
//      (symmetric, as the int8 weights are: the same G columns share a scale on both sides);
//   2. a GEMM that sums each group's products exactly in i32 and scales the sum once:
//      y[m, n] = sum_g f32(sum_{k in g} xq[m, k] wq[n, k]) * (xs[m, g] * ws[n, g]) (+ bias),
//      - 'sgmat': subgroup matrices (chromium_experimental_subgroup_matrix, i8 x i8 -> i32: on
//        NVIDIA the tensor cores' integer MMA), one subgroup per workgroup computing TM x TN
//        matrices of SM x SN outputs; after each group its i32 results pass through workgroup
//        memory, where each invocation scales its share into f32 accumulators;
//      - 'dp4a': one invocation per output with dot4I8Packed (any adapter; the readable reference,
//        tested on SwiftShader in CI);
//      - and for passes of up to W8A8_ROWS_MAX rows (a batched decode step), beside either:
//        matmul_w8a8_rows.wgsl, dot4I8Packed with each weight chunk loaded once for all the rows
//        (the f32 few-rows GEMM's lanes and reduction, without unpacking a weight).
// What it costs in accuracy is the activations' rounding: at most half a step of max|x| / 127
// per group of G values, on top of the weights' own (llama.cpp quantizes activations the same way,
// in blocks of 32, for its integer matrix kernels). The GEMV (one row) keeps f32 activations.
import quantizeCode from './quantize_rows.wgsl';
import siluCode from './silu.wgsl';
import rmsRowCode from './rmsnorm_row.wgsl';
import dp4aCode from './matmul_w8a8_dp4a.wgsl';
import rowsCode from './matmul_w8a8_rows.wgsl';
import attnInputCode from './quantize_input_attn.wgsl';
import partsCode from './attention_parts.wgsl';
import rowsLanesCode from './matmul_rows_lanes.wgsl';
import { rowsDispatch, rowsReduceEnable, rowsReduceLen, rowsReduceWgsl } from './rows_reduce';
import { STEP_ROWS_WGSL, STEP_WGSL, StepBuffer } from '../gpu/step';
import { createStorage, readF32, uploadStorage } from '../gpu/buffers';
import { subgroupMatrixI8, type SubgroupMatrixShape } from '../gpu/device';
import type { PipelineCache } from '../gpu/pipelines';
import { weightConstants, weightEntries, weightWgsl, type GpuWeight } from './weights';
import { gemvDevice, gemvWeightAccess } from './gemv';
import type { AttentionParts } from './attention';

/**
 * The GEMM of passes past W8A8_ROWS_MAX rows: 'sgmat' (subgroup matrices), 'dp4a' (the reference),
 * or 'rows': none (those passes keep f32 activations; only the few-rows GEMM runs W8A8).
 */
export type W8a8Kernel = 'sgmat' | 'dp4a' | 'rows';
/**
 * A workgroup of the 'sgmat' GEMM: each subgroup computes TM x TN matrices (TM along the rows of
 * x, TN along the outputs); `sm` x `sn` subgroups (default 1 x 1) cover a larger tile, and `ks`
 * subgroups (default 1) split the K groups of each tile between them and add their sums at the end
 * (few rows: a 16-row pass has N / 16 / TN tiles, too few subgroups to keep the GPU's memory busy).
 */
export interface SgmatTile {
  tm: number;
  tn: number;
  sm?: number;
  sn?: number;
  ks?: number;
  /**
   * x's and W's slabs of a K group staged in workgroup memory by the whole workgroup (coalesced
   * word loads, rows padded against bank conflicts), the subgroups' matrices loaded from there
   * (sgmatStagedCode; not with ks)
   */
  staged?: boolean;
  /** write a whole K group's steps out (loads first) where K is a multiple of the group (not with staged) */
  unroll?: boolean;
  /**
   * kernel lab diagnostic, wrong sums: the i32 results scaled once at the end instead of once per
   * K group (times what the per-group epilogue costs)
   */
  diagOneScale?: boolean;
}

type WeightShape = Pick<GpuWeight, 'format' | 'n' | 'k' | 'rowStride' | 'groupSize' | 'partRows'>;

/**
 * The few-rows W8A8 GEMM (matmul_w8a8_rows.wgsl): groups of 32 invocations along K (kw) and along
 * the outputs (ug), kw * ug <= 8, as the f32 few-rows GEMM's (matmul.ts: RowsTuning).
 */
export interface W8a8RowsTuning {
  kw: number;
  ug: number;
  /** two neighbouring chunks per step, summed in i32 before scaling (where K and the group are multiples of 32) */
  pair?: boolean;
  /** i32 sums to f32 through the bits of 1.5 * 2^23 + s instead of the conversion instruction */
  magic?: boolean;
  /** the tallest rows-per-workgroup tile (2, 4, 8 or 16; default 16): taller passes take several along y */
  maxTile?: number;
  /**
   * row blocks along the grid's x (adjacent workgroups take the same weights for different rows
   * of x, so with a tile below the pass's rows the later reads of a weight come from L2)
   */
  rowsFirst?: boolean;
  /** unpaired: chunks of the 4 weight rows in flight per step, 1, 2 (default) or 4 (fewer live registers, or more loads in flight) */
  inflight?: 1 | 2 | 4;
  /** the lanes' sums through subgroup shuffles (matmul_rows_reduce_sg.wgsl; adapters with subgroups) */
  sgReduce?: boolean;
  /**
   * kernel lab diagnostic, wrong sums: each 4 dot4I8Packed replaced by exclusive ors and adds (0)
   * or done twice (2), to time what the products cost
   */
  diagDp?: 0 | 2;
}
/** Passes of at most this many rows run the few-rows GEMM where it is built. */
export const W8A8_ROWS_MAX = 16;
/** Rows of x per workgroup of the few-rows GEMM: the smallest that holds a pass's rows. */
const W8A8_ROWS_TILES = [2, 4, 8, 16] as const;
/**
 * Its default: 4 x 2 groups of 32, at most 8 rows per workgroup, row blocks along the grid's x. A
 * 16-row pass runs two row blocks, each weight's second read from L2 right after the first, with
 * half the live accumulators of one 16-row block: on an H100 (2026-12-07e, kernel lab at 16 rows)
 * 14336x4096 in 0.053 ms against 0.075 for 16-row blocks of 8 x 1 groups (the earlier default),
 * 4096x14336 0.046 against 0.071. The lanes' sums meet through subgroup shuffles, one barrier for
 * all rows (sgReduce): in the lab, which times one kernel back to back, 3-9% slower, but in the
 * chain of a decode step (each GEMM waiting on the kernel before) Mistral-7B's GEMM went from 9.37
 * to 7.25 ms a 16-row step, B = 16 1,482.6 -> 1,927.6 tok/s (2026-12-07e, scripts/device/rows-reduce.sh).
 */
export const W8A8_ROWS_DEFAULT: W8a8RowsTuning = { kw: 4, ug: 2, maxTile: 8, rowsFirst: true, sgReduce: true };
/** The default for an adapter whose subgroups hold `subgroupSize` invocations (0: none; then the lanes' sums meet in workgroup memory). */
export function w8a8RowsDefault(subgroupSize: number): W8a8RowsTuning {
  return subgroupSize > 0 ? W8A8_ROWS_DEFAULT : { ...W8A8_ROWS_DEFAULT, sgReduce: false };
}

/** Whether the few-rows GEMM can read this weight: 16-byte chunks of K, each within a scale group. */
export function w8a8RowsApplies(w: Pick<WeightShape, 'k' | 'rowStride' | 'groupSize'>): boolean {
  return w.k % 16 === 0 && w.groupSize % 16 === 0 && w.rowStride === w.k / 4;
}

/** The rows-per-workgroup tiles a tuning builds. */
function rowsTiles(t: W8a8RowsTuning): number[] {
  return W8A8_ROWS_TILES.filter((mr) => mr <= (t.maxTile ?? 16));
}
/** Whether the few-rows GEMM pairs chunks for this weight (the tuning asks and K and the group allow). */
function rowsPair(w: Pick<WeightShape, 'k' | 'groupSize'>, t: W8a8RowsTuning): boolean {
  return !!t.pair && w.k % 32 === 0 && w.groupSize % 32 === 0;
}
function rowsVariant(w: Pick<WeightShape, 'k' | 'groupSize'>, t: W8a8RowsTuning): string {
  return `${rowsPair(w, t) ? ' pair' : ''}${t.magic ? ' magic' : ''}${t.rowsFirst ? ' rows-first' : ''}${t.inflight && t.inflight !== 2 ? ` inflight${t.inflight}` : ''}${t.sgReduce ? ' sg-reduce' : ''}${t.diagDp !== undefined ? ` diag-dp${t.diagDp}` : ''}`;
}
/** The few-rows GEMM's constants and conversion (matmul_w8a8_rows.wgsl). */
function rowsHeader(w: Pick<WeightShape, 'k' | 'groupSize'>, t: W8a8RowsTuning, mr: number): string {
  const convert = t.magic
    ? 'bitcast<vec4<f32>>(s + vec4<i32>(0x4B400000)) - vec4<f32>(12582912.0)'
    : 'vec4<f32>(s)';
  return `const MR: u32 = ${mr}u;\nconst PAIR: bool = ${rowsPair(w, t)};\nconst DIAG_DP: u32 = ${t.diagDp ?? 1}u;\nconst ROWS_X: bool = ${!!t.rowsFirst};\nconst INFLIGHT: u32 = ${t.inflight ?? 2}u;\nfn to_f32(s: vec4<i32>) -> vec4<f32> { return ${convert}; }\n`;
}

/**
 * The pass's rows, for every W8A8 kernel: step.rows, or step.logit_rows where LOGIT_ROWS (the
 * lm_head over the rows that get logits).
 */
const PASS_ROWS_WGSL = `override LOGIT_ROWS: bool = false;
fn pass_rows() -> u32 { return select(step.rows, step.logit_rows, LOGIT_ROWS); }
`;

const QUANT_WG = 256; // WG in quantize_rows.wgsl
const DP4A_WG = 64; // WG in matmul_w8a8_dp4a.wgsl
/** Rows the scratch of quantized x is padded to: the tallest tile a pass may run (TM <= 4). */
const PAD_ROWS = 64;
/** Tiles of the 'sgmat' GEMM: few rows (one matrix tall) and many. */
export const SGMAT_TILE_FEW: SgmatTile = { tm: 1, tn: 2 };
/**
 * Subgroups that split the K groups of a few-rows tile: enough that the pass has about
 * FEW_SUBGROUPS subgroups in flight, at most 8. One subgroup per 16 x 32 tile leaves a 4096-wide
 * output at 128 subgroups on a 132-SM GPU, and its weight reads far from the memory's bandwidth
 * (H100 kernel lab, 16 rows, 2026-12-06: 4096x4096 0.160 ms with one, 0.048 with 8; 14336x4096
 * best with 4, 0.131 ms; 4096x14336 with 8, 0.207 against 0.732).
 */
const FEW_SUBGROUPS = 2048;
export function fewRowsSplit(n: number, s: SubgroupMatrixShape, tile: SgmatTile, groups: number): number {
  const tiles = n / (s.n * tile.tn);
  let ks = 1;
  while (ks < 8 && ks * 2 <= groups && tiles * ks * 2 <= FEW_SUBGROUPS) ks *= 2;
  return ks;
}
export const SGMAT_TILE_MANY: SgmatTile = { tm: 2, tn: 4 };
// Bindings of the GEMMs beside the weight's (0, 1), y (3, 6, 7), step (4) and bias (5).
const BIND_XQ = 8;
const BIND_XS = 9;

/**
 * What the quantizer reads besides x itself, so the dispatch before a GEMM folds into it:
 * 'rmsnorm' quantizes RMSNorm(x) * weight (rmsnorm_vec4.wgsl's arithmetic: both call
 * rmsnorm_row.wgsl), 'silu_mul' quantizes silu(gate) * up (silu_mul.wgsl's), 'attn_combine' merges
 * decode attention's split results (attention_decode.wgsl's `combine`, which then does not run;
 * quantize_input_attn.wgsl) for o_proj.
 */
export type W8a8Input = { kind: 'rmsnorm'; eps: number } | { kind: 'silu_mul' } | { kind: 'attn_combine'; parts: AttentionParts };
/**
 * The buffers of a fused input: rmsnorm: the raw x and the norm weight; silu_mul: gate and up;
 * attn_combine: the splits' scratch (Attention.partsBuffer), no aux.
 */
export interface W8a8InputBuffers {
  x: GPUBuffer;
  aux?: GPUBuffer;
}

/** Why the quantizer cannot fold attention's combine in for K columns (null: it can). */
export function attnCombineUnsupported(parts: AttentionParts, k: number): string | null {
  const hd = parts.headDim;
  if (parts.nHeads * hd !== k) return `o_proj's K (${k}) is not heads x head dim (${parts.nHeads} x ${hd})`;
  if (hd < 4 || (hd & (hd - 1)) !== 0 || (4 * QUANT_WG) % hd !== 0) return `the head dim (${hd}) is not a power of two that divides ${4 * QUANT_WG}`;
  return null;
}

/** The quantizer's input forms (quantize_rows.wgsl): the source bindings, prepare(r, t, c) and load(r, c). */
function inputWgsl(input: W8a8Input | null): string {
  if (!input) {
    return `@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>; // [rows, K / 4]
fn prepare(r: u32, t: u32, c: u32) {}
fn load(r: u32, c: u32) -> vec4<f32> { return X[r * (K / 4u) + c]; }
`;
  }
  if (input.kind === 'attn_combine') return partsCode + attnInputCode;
  if (input.kind === 'silu_mul') {
    return siluCode + `@group(0) @binding(0) var<storage, read> GATE: array<vec4<f32>>; // [rows, K / 4]
@group(0) @binding(4) var<storage, read> UP: array<vec4<f32>>;   // [rows, K / 4]
fn prepare(r: u32, t: u32, c: u32) {}
fn load(r: u32, c: u32) -> vec4<f32> {
  let g = GATE[r * (K / 4u) + c];
  let u = UP[r * (K / 4u) + c];
  return vec4<f32>(silu(g.x) * u.x, silu(g.y) * u.y, silu(g.z) * u.z, silu(g.w) * u.w);
}
`;
  }
  // The row's inverse RMS as rmsnorm_vec4.wgsl computes it (the same function: the same bits; the
  // quantizer's workgroup is RMS_WG = 256 invocations too).
  return rmsRowCode + `@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>; // [rows, K / 4]: the residual stream
@group(0) @binding(4) var<storage, read> NW: array<vec4<f32>>;   // [K / 4]: the norm weight
override EPS: f32;
var<private> inv_rms: f32;
fn rms_in(i: u32) -> vec4<f32> { return X[i]; }
fn prepare(r: u32, t: u32, c: u32) { inv_rms = row_inv_rms(r * (K / 4u), K / 4u, t, EPS); }
fn load(r: u32, c: u32) -> vec4<f32> { return X[r * (K / 4u) + c] * inv_rms * NW[c]; }
`;
}

/** The overrides of an input form's WGSL. */
function inputConstants(i: W8a8Input | null): Record<string, number | boolean> {
  if (i?.kind === 'rmsnorm') return { EPS: i.eps };
  if (i?.kind === 'attn_combine') {
    const p = i.parts;
    return { N_HEADS: p.nHeads, HEAD_DIM: p.headDim, WINDOW: p.window, SPLITS: p.splits, BATCHED: p.batched };
  }
  return {};
}

/** Why the W8A8 path cannot run this weight with this kernel on this device (null: it can). */
export function w8a8Unsupported(w: WeightShape, kernel: W8a8Kernel, device: GPUDevice): string | null {
  if (w.format !== 'int8') return `W8A8 needs int8 weights, not ${w.format}`;
  if (w.k % 4 !== 0) return `W8A8 needs K a multiple of 4 (K = ${w.k})`;
  if ((4 * QUANT_WG) % w.groupSize !== 0) return `W8A8 needs a group size that divides ${4 * QUANT_WG} (${w.groupSize})`;
  if (kernel === 'rows') return w8a8RowsApplies(w) ? null : `the few-rows W8A8 GEMM needs K and the group size multiples of 16 (K = ${w.k}, group ${w.groupSize})`;
  if (kernel === 'dp4a') return null;
  const s = subgroupMatrixI8(device);
  if (!s) return 'this device has no i8 subgroup matrices';
  if (w.partRows < w.n) return 'W8A8 with subgroup matrices needs the weight in one buffer';
  if (w.k % s.k !== 0 || w.groupSize % s.k !== 0) return `W8A8 with subgroup matrices needs K and the group size multiples of ${s.k}`;
  if (w.n % s.n !== 0) return `W8A8 with subgroup matrices needs N a multiple of ${s.n} (N = ${w.n})`;
  return null;
}

/** The invocations per workgroup of a subgroup-matrix kernel: one whole subgroup of the widest size. */
function subgroupWidth(device: GPUDevice): number {
  const info = (device as GPUDevice & { adapterInfo?: { subgroupMaxSize?: number } }).adapterInfo;
  return info?.subgroupMaxSize || 32;
}

/** The directive the subgroup-matrix kernels start with (before anything else in the module). */
// Each subgroup loads at offsets of its own, and only where it has a K group left: uniform in
// the subgroup, not in the workgroup, which the uniformity analysis cannot see (llama.cpp's and ONNX
// Runtime's WebGPU kernels turn the same check off).
export const SGMAT_ENABLE = 'enable chromium_experimental_subgroup_matrix;\ndiagnostic(off, chromium.subgroup_matrix_uniformity);\n';

/** A tile's name in pipeline keys and reports: "t2x4" or "t1x2-ks4". */
export function tileName(t: SgmatTile): string {
  return `t${t.tm}x${t.tn}${(t.sm ?? 1) > 1 || (t.sn ?? 1) > 1 ? `-s${t.sm ?? 1}x${t.sn ?? 1}` : ''}${(t.ks ?? 1) > 1 ? `-ks${t.ks}` : ''}${t.staged ? '-staged' : ''}${t.unroll ? '-u' : ''}${t.diagOneScale ? '-diag1' : ''}`;
}

/** The bindings, constants and matrix types both subgroup-matrix GEMMs declare. */
function sgmatDeclarations(s: SubgroupMatrixShape): string {
  return `@group(0) @binding(0) var<storage, read> W: array<i32>;  // [N, W_STRIDE] words of 4 signed bytes
@group(0) @binding(1) var<storage, read> S: array<f32>;  // [N, W_GROUPS]
@group(0) @binding(${BIND_XQ}) var<storage, read> XQ: array<i32>; // [rows, W_STRIDE]
@group(0) @binding(${BIND_XS}) var<storage, read> XS: array<f32>; // [rows, W_GROUPS]
@group(0) @binding(4) var<uniform> step: Step;
override N: u32;
override K: u32;
override W_STRIDE: u32;
override W_GROUPS: u32;
override W_GROUP_SIZE: u32;
alias Left = subgroup_matrix_left<i8, ${s.k}, ${s.m}>;
alias Right = subgroup_matrix_right<i8, ${s.n}, ${s.k}>;
alias Sum = subgroup_matrix_result<i32, ${s.n}, ${s.m}>;
`;
}

/** A subgroup's TM x TN matrices as (i, j) pairs, row by row. */
function matrixGrid(tm: number, tn: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) out.push([i, j]);
  return out;
}

/** An f32 accumulator's name: matrix (i, j), the invocation's e-th result in it. */
const acc = (i: number, j: number, e: number) => `acc_${i}_${j}_${e}`;

/**
 * Where a subgroup's results and its invocation's share of them are, for the epilogues both GEMMs
 * write: `m0` and `n0` are WGSL expressions of the subgroup's first row and output, `stage` the
 * workgroup array (and `base` its offset there) its i32 sums pass through.
 */
interface SubgroupPlace {
  s: SubgroupMatrixShape;
  tm: number;
  tn: number;
  tiles: Array<[number, number]>;
  per: number;
  sgw: number;
  m0: string;
  n0: string;
  stage: string;
}

/**
 * Invocation t holds results t, t + sgw, ... of each of its subgroup's matrices: column t % SN of
 * every one (sgw is a multiple of SN), rows t / SN + e * sgw / SN. So one weight scale per matrix
 * column and one activation scale per matrix row and e, loaded once per group g; each staged i32
 * sum is scaled into its f32 accumulator.
 */
function scaleLines(p: SubgroupPlace, indent: string): string[] {
  const { m: SM, n: SN } = p.s;
  const L: string[] = [];
  for (let j = 0; j < p.tn; j++) L.push(`${indent}let ws_${j} = S[(${p.n0} + ${j * SN}u + t % ${SN}u) * W_GROUPS + g];`);
  for (let i = 0; i < p.tm; i++) for (let e = 0; e < p.per; e++) L.push(`${indent}let xs_${i}_${e} = XS[(${p.m0} + ${i * SM}u + t / ${SN}u + ${(e * p.sgw) / SN}u) * W_GROUPS + g];`);
  p.tiles.forEach(([i, j], q) => {
    for (let e = 0; e < p.per; e++) L.push(`${indent}${acc(i, j, e)} += f32(${p.stage}[base + ${q * SM * SN + e * p.sgw}u + t]) * (xs_${i}_${e} * ws_${j});`);
  });
  return L;
}

/** The accumulators (plus bias) to the output, rows past the pass's skipped. */
function storeLines(p: SubgroupPlace): string[] {
  const { m: SM, n: SN } = p.s;
  const L: string[] = [];
  for (let e = 0; e < p.per; e++) {
    for (const [i, j] of p.tiles) {
      L.push(`  {
    let idx = t + ${e * p.sgw}u;
    let m = ${p.m0} + ${i * SM}u + idx / ${SN}u;
    let n = ${p.n0} + ${j * SN}u + idx % ${SN}u;
    if (m < rows) { store(m, n, ${acc(i, j, e)} + bias(n)); }
  }`);
    }
  }
  return L;
}

/** The largest K group the staged kernel's slabs hold (bytes of a row). */
const STAGED_MAX_GROUP = 128;
/** Padding of a staged row (bytes): rows 144 bytes apart fall on different banks. */
const STAGED_PAD = 16;

/**
 * The staged subgroup-matrix GEMM (see SgmatTile.staged): a workgroup of sm x sn subgroups, each
 * TM x TN matrices, computes a tile of BM = sm * TM * SM rows by BN = sn * TN * SN outputs. Per K
 * group: every invocation copies words of x's BM rows and W's BN rows into workgroup memory; the
 * subgroups multiply from there; their i32 sums go back through the same memory (the slabs are done
 * with) to be scaled into f32 registers. Same output and arithmetic as sgmatCode.
 */
export function sgmatStagedCode(s: SubgroupMatrixShape, tile: SgmatTile, sgw: number, unit: 1 | 4): string {
  const { m: SM, n: SN, k: SK } = s;
  const { tm: TM, tn: TN } = tile;
  const sm = tile.sm ?? 1;
  const sn = tile.sn ?? 1;
  const NS = sm * sn;
  const wg = NS * sgw;
  const per = (SM * SN) / sgw;
  const MAT = SM * SN;
  const SUB = TM * TN * MAT;
  const BM = sm * TM * SM;
  const BN = sn * TN * SN;
  const ROWB = STAGED_MAX_GROUP + STAGED_PAD; // bytes per staged row
  const ROWW = ROWB / 4;
  const words = Math.max((BM + BN) * ROWW, NS * SUB);
  if (!Number.isInteger(per) || per < 1 || sgw % SN !== 0) throw new Error(`W8A8: a ${SM}x${SN} subgroup matrix does not divide over ${sgw} invocations`);
  if (BM > PAD_ROWS) throw new Error(`W8A8: a tile of ${BM} rows exceeds the scratch's padding (${PAD_ROWS})`);
  const tiles = matrixGrid(TM, TN);
  const L: string[] = [];
  L.push(`${sgmatDeclarations(s)}${PASS_ROWS_WGSL}// W_GROUP_SIZE is at most ${STAGED_MAX_GROUP} here.
// A group's slabs: x's ${BM} rows, then W's ${BN}, ${ROWB} bytes apart; later the subgroups' sums.
var<workgroup> sh: array<i32, ${words}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let rows = pass_rows();
  let mb = wid.y * ${BM}u;
  if (mb >= rows) { return; }
  let nb = wid.x * ${BN}u;
  let sg = tid / ${sgw}u;
  let t = tid % ${sgw}u;
  let m0 = (sg / ${sn}u) * ${TM * SM}u; // the subgroup's matrices, within the tile
  let n0 = (sg % ${sn}u) * ${TN * SN}u;
  let base = sg * ${SUB}u;`);
  for (const [i, j] of tiles) for (let e = 0; e < per; e++) L.push(`  var ${acc(i, j, e)} = 0.0;`);
  L.push(`  for (var g = 0u; g < W_GROUPS; g++) {
    let k0 = g * W_GROUP_SIZE;
    let kw = (min(k0 + W_GROUP_SIZE, K) - k0) / 4u; // words of the group in a row
    for (var i = tid; i < ${(BM + BN) * (STAGED_MAX_GROUP / 4)}u; i += ${wg}u) {
      let r = i / ${STAGED_MAX_GROUP / 4}u;
      let w = i % ${STAGED_MAX_GROUP / 4}u;
      var v = 0;
      if (w < kw) {
        if (r < ${BM}u) { v = XQ[(mb + r) * W_STRIDE + k0 / 4u + w]; }
        else { v = W[(nb + r - ${BM}u) * W_STRIDE + k0 / 4u + w]; }
      }
      sh[r * ${ROWW}u + w] = v;
    }
    workgroupBarrier();`);
  for (const [i, j] of tiles) L.push(`    var c_${i}_${j} = Sum();`);
  L.push(`    for (var k = 0u; k < kw * 4u; k += ${SK}u) {`);
  for (let i = 0; i < TM; i++) L.push(`      let a_${i} = subgroupMatrixLoad<Left>(&sh, ((m0 + ${i * SM}u) * ${ROWB}u + k) / ${unit}u, false, ${ROWB / unit}u);`);
  for (let j = 0; j < TN; j++) L.push(`      let b_${j} = subgroupMatrixLoad<Right>(&sh, ((${BM}u + n0 + ${j * SN}u) * ${ROWB}u + k) / ${unit}u, true, ${ROWB / unit}u);`);
  for (const [i, j] of tiles) L.push(`      c_${i}_${j} = subgroupMatrixMultiplyAccumulate(a_${i}, b_${j}, c_${i}_${j});`);
  L.push('    }');
  L.push('    workgroupBarrier();');
  tiles.forEach(([i, j], q) => L.push(`    subgroupMatrixStore(&sh, base + ${q * MAT}u, c_${i}_${j}, false, ${SN}u);`));
  L.push('    workgroupBarrier();');
  const place: SubgroupPlace = { s, tm: TM, tn: TN, tiles, per, sgw, m0: 'mb + m0', n0: 'nb + n0', stage: 'sh' };
  L.push(...scaleLines(place, '    '));
  L.push('    workgroupBarrier();');
  L.push('  }');
  L.push(...storeLines(place));
  L.push('}');
  return L.join('\n') + '\n';
}

/**
 * The subgroup-matrix GEMM's WGSL for one tile shape (to follow SGMAT_ENABLE, STEP_WGSL and the output's `store` and `bias`). `unit` divides the byte offsets and strides
 * given to the 8-bit loads: Dawn counts them in bytes (i8 elements) today and counted them in the
 * i32 words that hold four earlier; which one this Dawn takes is measured at load (probeSgmat).
 * Written out with constant indices (the accumulators stay in registers).
 */
export function sgmatCode(s: SubgroupMatrixShape, tile: SgmatTile, sgw: number, unit: 1 | 4, unrollGroup = 0): string {
  const { m: SM, n: SN, k: SK } = s;
  const { tm: TM, tn: TN } = tile;
  const sm = tile.sm ?? 1;
  const sn = tile.sn ?? 1;
  const ks = tile.ks ?? 1;
  const NS = sm * sn * ks; // subgroups per workgroup
  const wg = NS * sgw;
  const per = (SM * SN) / sgw; // a matrix's results per invocation
  const MAT = SM * SN;
  const SUB = TM * TN * MAT; // one subgroup's staged results
  if (!Number.isInteger(per) || per < 1 || sgw % SN !== 0) throw new Error(`W8A8: a ${SM}x${SN} subgroup matrix does not divide over ${sgw} invocations`);
  if (SM * TM * sm > PAD_ROWS) throw new Error(`W8A8: a tile of ${SM * TM * sm} rows exceeds the scratch's padding (${PAD_ROWS})`);
  const tiles = matrixGrid(TM, TN);
  const L: string[] = [];
  L.push(`${sgmatDeclarations(s)}${PASS_ROWS_WGSL}var<workgroup> stage: array<i32, ${NS * SUB}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let rows = pass_rows();
  if (wid.y * ${SM * TM * sm}u >= rows) { return; }
  let sg = tid / ${sgw}u;  // this invocation's subgroup
  let t = tid % ${sgw}u;   // and its place in it
  let sk = sg % ${ks}u;    // its share of the K groups
  let m0 = wid.y * ${SM * TM * sm}u + (sg / ${ks * sn}u) * ${SM * TM}u;
  let n0 = wid.x * ${SN * TN * sn}u + ((sg / ${ks}u) % ${sn}u) * ${SN * TN}u;
  let base = sg * ${SUB}u;
  let row_bytes = W_STRIDE * 4u;`);
  for (const [i, j] of tiles) for (let e = 0; e < per; e++) L.push(`  var ${acc(i, j, e)} = 0.0;`);
  // Every subgroup runs the same number of rounds (the barriers stay in uniform control flow); in
  // round g0 subgroup sk takes group g0 + sk, if there is one.
  // Diagnostic only (wrong sums): one scaling at the end instead of one per group.
  const once = !!tile.diagOneScale;
  if (once) for (const [i, j] of tiles) L.push(`  var c_${i}_${j} = Sum();`);
  L.push(`  for (var g0 = 0u; g0 < W_GROUPS; g0 += ${ks}u) {
    let g = g0 + sk;
    let live = g < W_GROUPS;`);
  // The group's sums live in the loop's scope: the epilogue's blocks read them.
  if (!once) for (const [i, j] of tiles) L.push(`    var c_${i}_${j} = Sum();`);
  L.push('    if (live) {');
  if (unrollGroup > 0) {
    // Every group whole (K a multiple of it): its steps written out, every load before the first
    // multiply, so a subgroup has the whole group's reads in flight at once.
    const steps = unrollGroup / SK;
    L.push(`      let kb = g * ${unrollGroup}u;`);
    for (let q = 0; q < steps; q++) {
      for (let i = 0; i < TM; i++) L.push(`      let a_${i}_${q} = subgroupMatrixLoad<Left>(&XQ, ((m0 + ${i * SM}u) * row_bytes + kb + ${q * SK}u) / ${unit}u, false, row_bytes / ${unit}u);`);
      for (let j = 0; j < TN; j++) L.push(`      let b_${j}_${q} = subgroupMatrixLoad<Right>(&W, ((n0 + ${j * SN}u) * row_bytes + kb + ${q * SK}u) / ${unit}u, true, row_bytes / ${unit}u);`);
    }
    for (let q = 0; q < steps; q++) for (const [i, j] of tiles) L.push(`      c_${i}_${j} = subgroupMatrixMultiplyAccumulate(a_${i}_${q}, b_${j}_${q}, c_${i}_${j});`);
  } else {
    L.push(`      let k1 = min((g + 1u) * W_GROUP_SIZE, K);
      for (var k = g * W_GROUP_SIZE; k < k1; k += ${SK}u) {`);
    for (let i = 0; i < TM; i++) L.push(`        let a_${i} = subgroupMatrixLoad<Left>(&XQ, ((m0 + ${i * SM}u) * row_bytes + k) / ${unit}u, false, row_bytes / ${unit}u);`);
    for (let j = 0; j < TN; j++) L.push(`        let b_${j} = subgroupMatrixLoad<Right>(&W, ((n0 + ${j * SN}u) * row_bytes + k) / ${unit}u, true, row_bytes / ${unit}u);`);
    for (const [i, j] of tiles) L.push(`        c_${i}_${j} = subgroupMatrixMultiplyAccumulate(a_${i}, b_${j}, c_${i}_${j});`);
    L.push('      }');
  }
  L.push('    }');
  const place: SubgroupPlace = { s, tm: TM, tn: TN, tiles, per, sgw, m0: 'm0', n0: 'n0', stage: 'stage' };
  const epilogue = () => {
    L.push('    if (live) {');
    tiles.forEach(([i, j], q) => L.push(`      subgroupMatrixStore(&stage, base + ${q * MAT}u, c_${i}_${j}, false, ${SN}u);`));
    L.push('    }');
    L.push('    workgroupBarrier();');
    L.push('    if (live) {');
    L.push(...scaleLines(place, '      '));
    L.push('    }');
    L.push('    workgroupBarrier();');
  };
  if (!once) epilogue();
  L.push('  }');
  if (once) {
    L.push('  {');
    L.push('    let g = min(sk, W_GROUPS - 1u);');
    L.push('    let live = true;');
    epilogue();
    L.push('  }');
  }
  if (ks > 1) {
    // The K-split subgroups of a tile add their sums through workgroup memory (the stage, as bits).
    tiles.forEach(([i, j], q) => {
      for (let e = 0; e < per; e++) L.push(`  stage[base + ${q * MAT + e * sgw}u + t] = bitcast<i32>(${acc(i, j, e)});`);
    });
    L.push('  workgroupBarrier();');
    L.push(`  if (sk == 0u) {`);
    tiles.forEach(([i, j], q) => {
      for (let e = 0; e < per; e++) {
        const terms = Array.from({ length: ks - 1 }, (_, r) => `bitcast<f32>(stage[base + ${(r + 1) * SUB + q * MAT + e * sgw}u + t])`);
        L.push(`    ${acc(i, j, e)} += ${terms.join(' + ')};`);
      }
    });
  }
  L.push(...storeLines(place));
  if (ks > 1) L.push('  }');
  L.push('}');
  return L.join('\n') + '\n';
}

/** What the probe found: the offset unit this device's Dawn takes, and whether tiles of several subgroups sum right. */
export interface SgmatProbe {
  unit: 1 | 4;
  multiSubgroup: boolean;
}
const probes = new WeakMap<GPUDevice, Promise<SgmatProbe | null>>();
const probeFailures = new WeakMap<GPUDevice, string>();
/** Devices whose probe found no working unit (subgroup matrices off there). */
const probeRejected = new WeakSet<GPUDevice>();

/** Whether the load-time probe has turned the subgroup-matrix GEMM off on this device (false before it ran). */
export function sgmatRejected(device: GPUDevice): boolean {
  return probeRejected.has(device);
}

/** Why the probe turned subgroup matrices (or tiles of several subgroups) off on this device, if it did. */
export function probeFailure(device: GPUDevice): string | null {
  return probeFailures.get(device) ?? null;
}

/**
 * Runs the subgroup-matrix GEMM on a small problem with exact integer answers (two K groups, unit
 * scales): one subgroup with byte offsets and then with word offsets (the first that matches the
 * CPU gives the unit), then two subgroups splitting the groups. A driver whose tensor-core path
 * gives wrong sums turns the path off rather than the model's outputs wrong; one that gets only
 * the several-subgroup tiles wrong keeps one subgroup per workgroup.
 */
export function probeSgmat(cache: PipelineCache, s: SubgroupMatrixShape): Promise<SgmatProbe | null> {
  const device = cache.device;
  let p = probes.get(device);
  if (!p) {
    p = (async () => {
      const M = s.m;
      const N = s.n;
      const K = 2 * s.k;
      const stride = K / 4;
      const wq = new Int8Array(N * K);
      const xq = new Int8Array(M * K);
      for (let i = 0; i < wq.length; i++) wq[i] = ((i * 37 + 11) % 255) - 127;
      for (let i = 0; i < xq.length; i++) xq[i] = ((i * 53 + 5) % 255) - 127;
      const want = new Float32Array(M * N);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += xq[m * K + k]! * wq[n * K + k]!;
        want[m * N + n] = sum;
      }
      const pad = new Uint8Array(PAD_ROWS * K);
      pad.set(new Uint8Array(xq.buffer));
      const bufs = {
        w: uploadStorage(device, 'w8a8 probe w', new Uint8Array(wq.buffer)),
        s: uploadStorage(device, 'w8a8 probe ws', new Float32Array(N * 2).fill(1)),
        xq: uploadStorage(device, 'w8a8 probe xq', pad),
        xs: uploadStorage(device, 'w8a8 probe xs', new Float32Array(PAD_ROWS * 2).fill(1)),
        y: createStorage(device, 'w8a8 probe y', M * N * 4),
        step: stepOf(device, M),
      };
      // null where it matched; else what went wrong
      const trial = async (unit: 1 | 4, tile: SgmatTile): Promise<string | null> => {
        const code = SGMAT_ENABLE + STEP_WGSL + 'fn bias(n: u32) -> f32 { return 0.0; }\n' + `@group(0) @binding(3) var<storage, read_write> Y: array<f32>;\nfn store(m: u32, n: u32, v: f32) { Y[m * N + n] = v; }\n` + sgmatCode(s, tile, subgroupWidth(device), unit);
        let pipeline: GPUComputePipeline;
        try {
          pipeline = await cache.get(`w8a8 sgmat probe ${tileName(tile)} unit=${unit}`, code, { N, K, W_STRIDE: stride, W_GROUPS: 2, W_GROUP_SIZE: s.k });
        } catch (e) {
          return `${tileName(tile)}: ${(e as Error).message}`;
        }
        const group = device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: bufs.w } }, { binding: 1, resource: { buffer: bufs.s } },
            { binding: 3, resource: { buffer: bufs.y } }, { binding: 4, resource: { buffer: bufs.step } },
            { binding: BIND_XQ, resource: { buffer: bufs.xq } }, { binding: BIND_XS, resource: { buffer: bufs.xs } },
          ],
        });
        const enc = device.createCommandEncoder();
        enc.clearBuffer(bufs.y);
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(1, 1);
        pass.end();
        device.queue.submit([enc.finish()]);
        const got = await readF32(device, bufs.y, M * N);
        const bad = got.findIndex((v, i) => v !== want[i]);
        return bad < 0 ? null : `${tileName(tile)} unit ${unit}: [${bad}] = ${got[bad]}, want ${want[bad]}`;
      };
      try {
        let unit: 1 | 4 | null = null;
        for (const u of [1, 4] as const) {
          const why = await trial(u, { tm: 1, tn: 1 });
          if (!why) {
            unit = u;
            break;
          }
          probeFailures.set(device, why);
        }
        if (unit === null) {
          probeRejected.add(device);
          return null;
        }
        const why = await trial(unit, PROBE_SPLIT);
        if (why) probeFailures.set(device, why);
        else probeFailures.delete(device);
        return { unit, multiSubgroup: !why };
      } finally {
        for (const b of Object.values(bufs)) b.destroy();
      }
    })();
    probes.set(device, p);
  }
  return p;
}

/** Two subgroups, one K group each: the probe checks the split over subgroups and their sum. */
const PROBE_SPLIT: SgmatTile = { tm: 1, tn: 1, ks: 2 };

/** A step uniform holding `rows` rows at position 0 (the probe's). */
function stepOf(device: GPUDevice, rows: number): GPUBuffer {
  const step = new StepBuffer(device);
  step.write({ rows, pos: 0, logitRows: rows });
  return step.buffer;
}

/** Scratch for x's 8-bit values and scales, one per x buffer and K (matmuls that read one x share it). */
const scratches = new WeakMap<GPUBuffer, Map<number, { xq: GPUBuffer; xs: GPUBuffer }>>();

function scratchFor(device: GPUDevice, x: GPUBuffer, k: number, groups: number, xBytes: number): { xq: GPUBuffer; xs: GPUBuffer } {
  let byK = scratches.get(x);
  if (!byK) scratches.set(x, (byK = new Map()));
  let s = byK.get(k);
  if (!s) {
    const rows = Math.ceil(Math.max(1, Math.floor(xBytes / (4 * k))) / PAD_ROWS) * PAD_ROWS;
    s = { xq: createStorage(device, `${x.label} q8`, rows * k), xs: createStorage(device, `${x.label} q8 scales`, rows * groups * 4) };
    byK.set(k, s);
  }
  return s;
}

/**
 * Every scratch made for x (one per K), for x's owner to count and destroy with x: matmuls that
 * read one x share its scratch, so no one binding owns it.
 */
export function w8a8ScratchOf(x: GPUBuffer): GPUBuffer[] {
  return [...(scratches.get(x)?.values() ?? [])].flatMap((s) => [s.xq, s.xs]);
}

/** The scratch a W8A8 matmul quantizes x (of K columns) into, once one has been bound (tests read it). */
export function w8a8Scratch(x: GPUBuffer, k: number): { xq: GPUBuffer; xs: GPUBuffer } | null {
  return scratches.get(x)?.get(k) ?? null;
}

export interface W8a8Binding {
  /** the quantizer's pipeline (plain, or with the fused input) and its bind group */
  quantizer: GPUComputePipeline;
  quantize: GPUBindGroup;
  gemm: GPUBindGroup[];
  /** the few-rows GEMM's, one per rows-per-workgroup tile, where it is built */
  rows?: GPUBindGroup[];
}

/** The two dispatches of a W8A8 linear layer, compiled for one weight shape and output layout. */
export class W8a8 {
  private constructor(
    private readonly w: WeightShape,
    readonly kernel: W8a8Kernel,
    private readonly quantize: GPUComputePipeline,
    /** the quantizer with the fused input, where one was asked for */
    private readonly quantizeFused: GPUComputePipeline | null,
    /** 'sgmat': one per tile (few rows, many rows); 'dp4a': one */
    private readonly gemms: GPUComputePipeline[],
    private readonly tiles: SgmatTile[],
    private readonly shape: SubgroupMatrixShape | null,
    /** the few-rows GEMM per rows-per-workgroup tile (`tiles`, rowsTiles) and its shape, or null (the kernel runs every pass) */
    private readonly rows: { pipelines: GPUComputePipeline[]; tuning: W8a8RowsTuning; tiles: number[] } | null,
    /** the fused input's kind, where one was asked for */
    readonly inputKind: W8a8Input['kind'] | null,
  ) {}

  /**
   * `layout`: the output's WGSL (`fn bias`, `fn store`) and its constants (ACCUMULATE). Returns
   * null where the kernel cannot run (w8a8Unsupported, or subgroup matrices that failed the probe).
   */
  static async create(
    cache: PipelineCache,
    w: WeightShape,
    kernel: W8a8Kernel,
    layout: { code: string; key: string; constants: Record<string, number | boolean> },
    o: {
      tile?: SgmatTile;
      input?: W8a8Input;
      /** the few-rows GEMM's shape, or null for none (passes of every size run `kernel`); it needs w8a8RowsApplies */
      rows?: W8a8RowsTuning | null;
      /** 'sgmat' with `rows`: where the probe turns the subgroup matrices off, keep the few-rows GEMM alone */
      rowsIfRejected?: boolean;
      /** every kernel counts the pass's rows with step.logit_rows (the lm_head over the rows that get logits) */
      logitRows?: boolean;
    } = {},
  ): Promise<W8a8 | null> {
    const { tile, input } = o;
    if (w8a8Unsupported(w, kernel, cache.device)) return null;
    if (o.rows && !w8a8RowsApplies(w)) throw new Error(`W8A8: the few-rows GEMM needs K and the group size multiples of 16 (K = ${w.k}, group ${w.groupSize})`);
    if (o.rows && (![1, 2, 4, 8].includes(o.rows.kw) || ![1, 2, 4, 8].includes(o.rows.ug) || o.rows.kw * o.rows.ug > 8)) {
      throw new Error(`W8A8: few-rows GEMM groups kw=${o.rows.kw} ug=${o.rows.ug} must be powers of two with kw * ug <= 8`);
    }
    if (o.rows?.maxTile !== undefined && !(W8A8_ROWS_TILES as readonly number[]).includes(o.rows.maxTile)) throw new Error(`W8A8: few-rows GEMM tile ${o.rows.maxTile} is not one of ${W8A8_ROWS_TILES.join(', ')}`);
    if (input?.kind === 'rmsnorm' && w.k % 4 !== 0) throw new Error(`W8A8: a fused RMSNorm needs K a multiple of 4 (K = ${w.k})`);
    const groups = Math.ceil(w.k / w.groupSize);
    if (input?.kind === 'attn_combine') {
      const why = attnCombineUnsupported(input.parts, w.k);
      if (why) throw new Error(`W8A8: attention's combine cannot fold into the quantizer: ${why}`);
    }
    const quantizer = (i: W8a8Input | null) =>
      cache.get(`quantize_rows${i ? ` ${i.kind}` : ''}`, (i?.kind === 'attn_combine' ? STEP_ROWS_WGSL : STEP_WGSL) + PASS_ROWS_WGSL + inputWgsl(i) + quantizeCode, { K: w.k, G: w.groupSize, GROUPS: groups, LOGIT_ROWS: !!o.logitRows, ...inputConstants(i) });
    const quantize = Promise.all([quantizer(null), input ? quantizer(input) : null]);
    const constants = { N: w.n, K: w.k, ...weightConstants(w), ...layout.constants, LOGIT_ROWS: !!o.logitRows };
    const rt = o.rows ?? null;
    const sg = gemvDevice(cache).subgroupSize;
    if (rt?.sgReduce && sg < 1) throw new Error('W8A8: the few-rows GEMM\'s subgroup reduction needs an adapter with subgroups');
    const rowTiles = rt ? rowsTiles(rt) : [];
    const rows = rt
      ? Promise.all(rowTiles.map((mr) =>
        cache.get(`matmul_w8a8_rows${mr}${layout.key} kw=${rt.kw} ug=${rt.ug}${rowsVariant(w, rt)}`,
          rowsReduceEnable(!!rt.sgReduce) + STEP_WGSL + PASS_ROWS_WGSL + rowsHeader(w, rt, mr) + gemvWeightAccess(w, false) + layout.code + rowsLanesCode + rowsReduceWgsl(!!rt.sgReduce, sg) + rowsCode,
          { ...constants, KW: rt.kw, UG: rt.ug, SG_LEN: rowsReduceLen(!!rt.sgReduce, mr, rt.kw, rt.ug, sg) })))
      : null;
    const withRows = async () => {
      const p = await rows;
      return p ? { pipelines: p, tuning: rt!, tiles: rowTiles } : null;
    };
    if (kernel === 'rows' && !rt) throw new Error('W8A8: the few-rows kernel alone needs its tuning');
    if (kernel === 'rows') {
      const [[q, qf], r] = await Promise.all([quantize, withRows()]);
      return new W8a8(w, kernel, q, qf, [], [], null, r, input?.kind ?? null);
    }
    if (kernel === 'dp4a') {
      const gemm = cache.get(`matmul_w8a8_dp4a${layout.key}`, STEP_WGSL + PASS_ROWS_WGSL + weightWgsl(w) + layout.code + dp4aCode, constants);
      const [[q, qf], g, r] = await Promise.all([quantize, gemm, withRows()]);
      return new W8a8(w, kernel, q, qf, [g], [], null, r, input?.kind ?? null);
    }
    const s = subgroupMatrixI8(cache.device)!;
    const probe = await probeSgmat(cache, s);
    if (probe === null) {
      if (!(o.rowsIfRejected && rt)) return null;
      const [[q, qf], r] = await Promise.all([quantize, withRows()]);
      return new W8a8(w, 'rows', q, qf, [], [], null, r, input?.kind ?? null);
    }
    const { unit } = probe;
    const wg = subgroupWidth(cache.device);
    // TN shrinks until it divides the output's width in matrices.
    const fit = (t: SgmatTile): SgmatTile => {
      let tn = t.tn;
      let sn = t.sn ?? 1;
      while (tn * sn > 1 && (w.n / s.n) % (tn * sn) !== 0) {
        if (sn > 1) sn--;
        else tn--;
      }
      // Where the probe found several-subgroup tiles wrong, one subgroup per workgroup; the staged
      // kernel holds groups of at most STAGED_MAX_GROUP.
      if (!probe.multiSubgroup) return { tm: t.tm, tn };
      return { ...t, tn, sn, ...(t.staged && (w.groupSize > STAGED_MAX_GROUP || (t.ks ?? 1) > 1) ? { staged: false } : {}) };
    };
    const few = fit(SGMAT_TILE_FEW);
    const tiles = tile ? [fit(tile)] : [{ ...few, ks: fewRowsSplit(w.n, s, few, groups) }, SGMAT_TILE_MANY].map(fit);
    const gemms = tiles.map((t) => {
      const unroll = !t.staged && t.unroll && w.k % w.groupSize === 0 ? w.groupSize : 0;
      const code = t.staged ? sgmatStagedCode(s, t, wg, unit) : sgmatCode(s, t, wg, unit, unroll);
      return cache.get(`matmul_w8a8_sgmat${layout.key} ${tileName(t)}${unroll ? ` g${unroll}` : ''} unit=${unit}`, SGMAT_ENABLE + STEP_WGSL + layout.code + code, constants);
    });
    const [[q, qf], r, ...g] = await Promise.all([quantize, withRows(), ...gemms]);
    return new W8a8(w, kernel, q, qf, g, tiles, s, r, input?.kind ?? null);
  }

  /**
   * `input`: the buffers of the fused input this was created with (the quantizer then reads them
   * instead of x, and the GEMM the scratch they are quantized into).
   */
  bind(device: GPUDevice, label: string, b: { w: GpuWeight; x: GPUBuffer; step: GPUBuffer; bias?: GPUBuffer; outputs: GPUBindGroupEntry[]; input?: W8a8InputBuffers }): W8a8Binding {
    if (b.input && !this.quantizeFused) throw new Error(`${label}: fused W8A8 input buffers for a matmul built without a fused input`);
    const groups = Math.ceil(this.w.k / this.w.groupSize);
    if (b.input && !b.input.aux !== (this.inputKind === 'attn_combine')) throw new Error(`${label}: the fused W8A8 input ${this.inputKind} ${b.input.aux ? 'takes no' : 'needs its'} aux buffer`);
    const src = b.input?.x ?? b.x;
    // (x's rows: the split scratch of attention is larger than the activations it merges into)
    const { xq, xs } = scratchFor(device, src, this.w.k, groups, b.x.size);
    const quantizer = b.input ? this.quantizeFused! : this.quantize;
    const quantize = device.createBindGroup({
      label: `${label} quantize x${b.input ? ' (fused input)' : ''}`,
      layout: quantizer.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: xq } }, { binding: 2, resource: { buffer: xs } }, { binding: 3, resource: { buffer: b.step } },
        ...(b.input?.aux ? [{ binding: 4, resource: { buffer: b.input.aux } }] : []),
      ],
    });
    const weight: GPUBindGroupEntry[] = this.kernel === 'sgmat'
      ? [{ binding: 0, resource: { buffer: b.w.data } }, { binding: 1, resource: { buffer: b.w.scales! } }]
      : weightEntries(b.w); // the dp4a kernel reads the weight through weightWgsl, which declares every part
    const rest = [{ binding: 4, resource: { buffer: b.step } }, { binding: BIND_XQ, resource: { buffer: xq } }, { binding: BIND_XS, resource: { buffer: xs } }, ...b.outputs, ...(b.bias ? [{ binding: 5, resource: { buffer: b.bias } }] : [])];
    const entries = [...weight, ...rest];
    const gemm = this.gemms.map((p, i) => device.createBindGroup({ label: `${label} w8a8 ${this.kernel} ${i}`, layout: p.getBindGroupLayout(0), entries }));
    // The few-rows GEMM reads the weight through gemvWeightAccess, which declares every part.
    const rowsEntries = [...weightEntries(b.w), ...rest];
    const rows = this.rows?.pipelines.map((p, i) => device.createBindGroup({ label: `${label} w8a8 rows${this.rows!.tiles[i]}`, layout: p.getBindGroupLayout(0), entries: rowsEntries }));
    return { quantizer, quantize, gemm, ...(rows ? { rows } : {}) };
  }

  /** The GEMM a pass of `rows` rows runs: the few-rows one where built, else the kernel's, or null (f32 activations). */
  gemmFor(rows: number): 'rows' | 'sgmat' | 'dp4a' | null {
    if (this.rows && rows <= W8A8_ROWS_MAX) return 'rows';
    return this.kernel === 'rows' ? null : this.kernel;
  }

  /** Quantizes x's `rows` rows, then multiplies. */
  encode(pass: GPUComputePassEncoder, b: W8a8Binding, rows: number): void {
    const gemm = this.gemmFor(rows);
    if (!gemm) throw new Error(`W8A8: built for passes of at most ${W8A8_ROWS_MAX} rows, not ${rows}`);
    pass.setPipeline(b.quantizer);
    pass.setBindGroup(0, b.quantize);
    pass.dispatchWorkgroups(Math.ceil(this.w.k / (4 * QUANT_WG)), rows);
    if (gemm === 'rows') {
      const { tiles } = this.rows!;
      const found = tiles.findIndex((mr) => rows <= mr);
      const i = found < 0 ? tiles.length - 1 : found;
      pass.setPipeline(this.rows!.pipelines[i]!);
      pass.setBindGroup(0, b.rows![i]!);
      const unitBlocks = Math.ceil(Math.ceil(this.w.n / 4) / (4 * this.rows!.tuning.ug));
      const rowBlocks = Math.ceil(rows / tiles[i]!);
      rowsDispatch(pass, rowBlocks, unitBlocks, !!this.rows!.tuning.rowsFirst);
      return;
    }
    if (this.kernel === 'dp4a') {
      pass.setPipeline(this.gemms[0]!);
      pass.setBindGroup(0, b.gemm[0]!);
      pass.dispatchWorkgroups(Math.ceil(this.w.n / DP4A_WG), rows);
      return;
    }
    const s = this.shape!;
    // The few-rows tile while one matrix holds the rows, then the tall one.
    const i = this.tiles.length > 1 && rows > s.m * this.tiles[0]!.tm * (this.tiles[0]!.sm ?? 1) ? 1 : 0;
    const t = this.tiles[i]!;
    pass.setPipeline(this.gemms[i]!);
    pass.setBindGroup(0, b.gemm[i]!);
    pass.dispatchWorkgroups(this.w.n / (s.n * t.tn * (t.sn ?? 1)), Math.ceil(rows / (s.m * t.tm * (t.sm ?? 1))));
  }
}
