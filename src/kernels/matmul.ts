// Linear layer y[r, n] = sum_k x[r, k] * W[n, k] (+ bias[n]) over a packed weight (f32, f16, int8).
// Two pipelines per weight shape: a GEMV for one row (decode) and a tiled GEMM for many (prefill).
import gemvCode from './matmul_gemv.wgsl';
import gemmCode from './matmul_gemm.wgsl';
import gemvVecCode from './matmul_gemv_vec.wgsl';
import vecF32 from './gemv_vec_f32.wgsl';
import vecF16 from './gemv_vec_f16.wgsl';
import vecInt8 from './gemv_vec_int8.wgsl';
import { STEP_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';
import { weightWgsl, weightConstants, weightEntries, type GpuWeight } from './weights';

export type WeightShape = Pick<GpuWeight, 'format' | 'n' | 'k' | 'rowStride' | 'groupSize'>;

export interface MatmulOptions {
  bias?: boolean;
  /** Which Step field holds the row count: 'logit_rows' for the lm_head over the last rows. */
  rowsFrom?: 'rows' | 'logit_rows';
  /**
   * GEMV variant: 'vec' (16-byte loads; needs K a multiple of 16 for int8, 8 for f16, 4 for f32),
   * 'reference' (any shape, one u32 per load), or 'auto' (default: 'vec' whenever it applies).
   */
  gemv?: 'auto' | 'vec' | 'reference';
  /** y += x W^T (+ bias) instead of y = ...: the residual add, fused into the matmul's epilogue */
  accumulate?: boolean;
  /** threads per output row in the GEMV (power of two <= 256); default chosen from K */
  gemvThreadsPerRow?: number;
}

const VEC_CHUNK = { f32: 4, f16: 8, int8: 16 } as const;

/** Whether the vectorized GEMV can read this weight (every real model's shapes qualify). */
export function vecGemvApplies(w: WeightShape): boolean {
  const chunk = VEC_CHUNK[w.format];
  return w.k % chunk === 0 && (w.format !== 'int8' || w.groupSize % 16 === 0);
}

/** Rows each thread of the vectorized GEMV serves (RPT in matmul_gemv_vec.wgsl). */
const VEC_ROWS_PER_THREAD = 4;

/**
 * Threads per row group for the vectorized GEMV: raised (in powers of two) while the grid has
 * fewer than 512 workgroups, as long as each thread keeps at least two 16-byte loads. Wide grids
 * keep every SM of a large GPU streaming; a small K keeps few threads per row.
 */
export function vecThreadsPerRow(w: WeightShape): number {
  const loads = w.k / VEC_CHUNK[w.format];
  const groups = (tpr: number) => Math.ceil(w.n / ((GEMV_WG / tpr) * VEC_ROWS_PER_THREAD));
  let tpr = 1;
  while (tpr < GEMV_WG && loads / (tpr * 2) >= 2 && groups(tpr) < 512) tpr *= 2;
  return tpr;
}

export interface MatmulBinding {
  gemv: GPUBindGroup;
  gemm: GPUBindGroup;
}

// Bindings after the weight's 0 (W) and 1 (int8 scales).
const BIND_X = 2;
const BIND_Y = 3;
const BIND_STEP = 4;
const BIND_BIAS = 5;

// The bias is compiled in or out, rather than switched by an override, so a bias-free layer has
// no binding to fill (an `auto` layout keeps every binding the code mentions).
const BIAS_WGSL = /* wgsl */ `
@group(0) @binding(${BIND_BIAS}) var<storage, read> B: array<f32>;
fn bias(n: u32) -> f32 { return B[n]; }
`;
const NO_BIAS_WGSL = /* wgsl */ `
fn bias(n: u32) -> f32 { return 0.0; }
`;

const GEMV_WG = 256;
const GEMM_TILE = 64; // TM = TN in matmul_gemm.wgsl
const MAX_GRID = 65535;
// GEMV workgroups go in rows of 1024 (the shader linearises wid), which keeps a 152k-row lm_head
// far under 65535 per dimension. Wrapping this early costs a GPU nothing, and it means every layer
// past 4096 outputs takes the 2-D path, so a test can afford to cover it.
const GEMV_GRID_X = 1024;

/**
 * Threads that share one GEMV output row (TPR in matmul_gemv.wgsl): enough that each walks about
 * four 4-column steps of k, so a short row (k = 64) does not leave most of a workgroup idle and a
 * long one (k = 4096) gets the whole workgroup.
 */
export function gemvThreadsPerRow(k: number): number {
  const steps = Math.ceil(Math.ceil(k / 4) / 4);
  let tpr = 1;
  while (tpr < steps && tpr < GEMV_WG) tpr *= 2;
  return tpr;
}

export class Matmul {
  readonly weightBytes: number;
  private readonly gemvGrid: [number, number];
  private readonly gemvRowsPerGroup: number;

  private constructor(
    private readonly w: WeightShape,
    private readonly hasBias: boolean,
    private readonly gemv: GPUComputePipeline,
    private readonly gemm: GPUComputePipeline,
    gemvTpr: number,
    /** which GEMV this Matmul runs: 'vec' or 'reference' */
    readonly gemvVariant: 'vec' | 'reference',
  ) {
    const scaleBytes = w.format === 'int8' ? w.n * Math.ceil(w.k / w.groupSize) * 4 : 0;
    // rowStride counts floats (f32) or u32 words (f16, int8): 4 bytes either way.
    this.weightBytes = w.n * w.rowStride * 4 + scaleBytes;
    this.gemvRowsPerGroup = (GEMV_WG / gemvTpr) * (gemvVariant === 'vec' ? VEC_ROWS_PER_THREAD : 1);
    const groups = Math.ceil(w.n / this.gemvRowsPerGroup);
    const gx = Math.min(groups, GEMV_GRID_X);
    this.gemvGrid = [gx, Math.ceil(groups / gx)];
  }

  static async create(cache: PipelineCache, w: WeightShape, opts: MatmulOptions = {}): Promise<Matmul> {
    if (w.n < 1 || w.k < 1) throw new Error(`Matmul: empty weight ${w.n}x${w.k}`);
    if (w.format === 'int8' && (w.groupSize <= 0 || w.groupSize % 4 !== 0)) {
      throw new Error(`Matmul: int8 group size ${w.groupSize} must be a positive multiple of 4`);
    }
    if (Math.ceil(w.n / GEMM_TILE) > MAX_GRID || Math.ceil(w.n / GEMV_GRID_X) > MAX_GRID) {
      throw new Error(`Matmul: n=${w.n} needs more than ${MAX_GRID} workgroups per grid dimension`);
    }
    const hasBias = opts.bias ?? false;
    const prefix = STEP_WGSL + weightWgsl(w.format) + (hasBias ? BIAS_WGSL : NO_BIAS_WGSL);
    const variant = `${w.format}${hasBias ? '+bias' : ''}`;
    const constants = {
      N: w.n,
      K: w.k,
      ...weightConstants(w),
      LOGIT_ROWS: (opts.rowsFrom ?? 'rows') === 'logit_rows',
      ACCUMULATE: opts.accumulate ?? false,
    };
    const useVec = opts.gemv === 'vec' || ((opts.gemv ?? 'auto') === 'auto' && vecGemvApplies(w));
    if (useVec && !vecGemvApplies(w)) throw new Error(`Matmul: the vectorized GEMV needs K % ${VEC_CHUNK[w.format]} == 0 (K = ${w.k})`);
    const tpr = opts.gemvThreadsPerRow ?? (useVec ? vecThreadsPerRow(w) : gemvThreadsPerRow(w.k));
    if (!(tpr >= 1 && tpr <= GEMV_WG && (tpr & (tpr - 1)) === 0)) throw new Error(`Matmul: threads per row ${tpr} must be a power of two <= ${GEMV_WG}`);
    const vecReader = w.format === 'f32' ? vecF32 : w.format === 'f16' ? vecF16 : vecInt8;
    // The vec GEMV declares X before the reader that uses it: WGSL allows any order at module scope.
    const gemvCodeFull = useVec ? STEP_WGSL + (hasBias ? BIAS_WGSL : NO_BIAS_WGSL) + vecReader + gemvVecCode : prefix + gemvCode;
    const [gemv, gemm] = await Promise.all([
      cache.get(`matmul_gemv${useVec ? '_vec' : ''} ${variant}`, gemvCodeFull, { ...constants, WG: GEMV_WG, TPR: tpr }),
      cache.get(`matmul_gemm ${variant}`, prefix + gemmCode, constants),
    ]);
    return new Matmul(w, hasBias, gemv, gemm, tpr, useVec ? 'vec' : 'reference');
  }

  bind(device: GPUDevice, label: string, b: { w: GpuWeight; x: GPUBuffer; y: GPUBuffer; step: GPUBuffer; bias?: GPUBuffer }): MatmulBinding {
    const { w } = this;
    if (b.w.format !== w.format || b.w.n !== w.n || b.w.k !== w.k || b.w.rowStride !== w.rowStride || b.w.groupSize !== w.groupSize) {
      throw new Error(`${label}: weight ${b.w.format} ${b.w.n}x${b.w.k} does not match the shape this Matmul was built for`);
    }
    if (this.hasBias !== !!b.bias) throw new Error(`${label}: bias buffer ${b.bias ? 'given to a bias-free' : 'missing for a biased'} matmul`);
    const entries: GPUBindGroupEntry[] = [
      ...weightEntries(b.w),
      { binding: BIND_X, resource: { buffer: b.x } },
      { binding: BIND_Y, resource: { buffer: b.y } },
      { binding: BIND_STEP, resource: { buffer: b.step } },
    ];
    if (b.bias) entries.push({ binding: BIND_BIAS, resource: { buffer: b.bias } });
    const group = (p: GPUComputePipeline, kind: string) =>
      device.createBindGroup({ label: `${label} ${kind}`, layout: p.getBindGroupLayout(0), entries });
    return { gemv: group(this.gemv, 'gemv'), gemm: group(this.gemm, 'gemm') };
  }

  /** rows == 1 -> GEMV pipeline, else GEMM pipeline. `rows` must equal the step buffer's rows (or logit_rows). */
  encode(pass: GPUComputePassEncoder, b: MatmulBinding, rows: number): void {
    if (rows <= 0) return;
    if (rows === 1) {
      pass.setPipeline(this.gemv);
      pass.setBindGroup(0, b.gemv);
      pass.dispatchWorkgroups(this.gemvGrid[0], this.gemvGrid[1]);
    } else {
      pass.setPipeline(this.gemm);
      pass.setBindGroup(0, b.gemm);
      pass.dispatchWorkgroups(Math.ceil(this.w.n / GEMM_TILE), Math.ceil(rows / GEMM_TILE));
    }
  }
}
