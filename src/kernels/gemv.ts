// The decode GEMV (matmul_gemv_vec.wgsl) is one loop with pluggable parts: a weight reader per
// format, an input transform (plain, or RMSNorm fused in), a row layout with its epilogue (plain
// rows, q/k/v with RoPE and the KV-cache write, gate/up with SiLU), and a lane reduction (workgroup
// memory, or subgroup shuffles). This module assembles them and sizes the grid; Matmul, QkvRope
// and GateUpSilu are the kernels built from it.
import coreCode from './matmul_gemv_vec.wgsl';
import threadCoreCode from './matmul_gemv_thread.wgsl';
import inputPlain from './gemv_input_plain.wgsl';
import inputRmsnorm from './gemv_input_rmsnorm.wgsl';
import reduceShared from './gemv_reduce_shared.wgsl';
import reduceSubgroup from './gemv_reduce_subgroup.wgsl';
import { STEP_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';
import type { WeightShape } from './matmul';
import { weightAccessWgsl, weightEntries, BIND_BIAS, type GpuWeight, type WeightElem } from './weights';
import { formatSpec, isQuantized, type Unpack, type WeightFormat } from './formats';

export const GEMV_WG = 256;
/** weights per 16-byte load */
export function vecChunk(format: WeightFormat): number {
  return formatSpec(format).vecChunk;
}
// Workgroups go in rows of 1024 (the shader linearises wid), which keeps a 152k-row lm_head far
// under 65535 per dimension.
const GRID_X = 1024;

/** How a GEMV spreads its work; the defaults come from `gemvTuning`. */
export interface GemvTuning {
  /**
   * 'lanes' (matmul_gemv_vec.wgsl): TPR threads share a row group and reduce across lanes, for
   * GPUs. 'thread' (matmul_gemv_thread.wgsl): one thread per 4 units (16 rows), no reduction, no barrier,
   * no private arrays, for software adapters (tpr 1, upt 4, unroll 1).
   */
  schedule: 'lanes' | 'thread';
  /** invocations per workgroup */
  wg: number;
  /** threads per row group: a power of two <= wg */
  tpr: number;
  /** 4-row units per thread: each x load feeds 4 * upt rows */
  upt: number;
  /** 16-byte loads per row a thread issues before using them */
  unroll: number;
  /** reduce lanes with subgroup shuffles (needs the `subgroups` feature and tpr <= subgroup size) */
  subgroups: boolean;
  /**
   * Quantized formats: how integers become floats: 'shift' (sign-extending shifts and a
   * conversion), 'magic' (int8: exponent bits, then a subtraction per weight), 'mantissa' (int8:
   * mantissa bits, corrected once per chunk), 'mul' (multiplications and a mask: no shifts, for
   * software adapters). f16: 'mul' is gemv_f16_mul.wgsl (no shifts), anything else unpack2x16float.
   */
  unpack: Unpack;
}

/** What the adapter offers that the tuning depends on. */
export interface GemvDevice {
  /** smallest subgroup size of the adapter, or 0 when `subgroups` is unavailable */
  subgroupSize: number;
  /** a CPU implementation of WebGPU (SwiftShader, llvmpipe): the 'thread' schedule by default */
  software: boolean;
}

/** The vectorized GEMV needs K in whole 16-byte loads (every real model's shapes qualify). */
export function vecGemvApplies(w: Pick<WeightShape, 'format' | 'k' | 'groupSize'>): boolean {
  const chunk = vecChunk(w.format);
  return w.k % chunk === 0 && (!isQuantized(w.format) || w.groupSize % chunk === 0);
}

/** Threads a GEMV grid should hold: about one full wave of a large GPU (132 SMs x 1024-2048). */
const TARGET_THREADS = 160_000;

/**
 * Default tuning for a weight read over `units` 4-row units, from the kernel lab on an H200
 * (bench/results/*-h200-kernels*.json): the most threads per row group (up to 256) that keep the
 * grid near one wave and every lane at two or more 16-byte loads per row, but at least 32 where
 * every lane keeps one (wide rows want a whole subgroup); up to 4 loads per row in flight; int8
 * bytes unpacked by shifts (the exponent trick measured no faster). Subgroups reduce lanes where a
 * row group fits one.
 */
export function gemvTuning(w: Pick<WeightShape, 'format' | 'k'>, units: number, dev: GemvDevice, over: Partial<GemvTuning> = {}): GemvTuning {
  // Lane parameters ask for the lanes schedule; otherwise the adapter decides.
  const laneParams = over.tpr !== undefined || over.upt !== undefined || over.unroll !== undefined || over.subgroups !== undefined;
  const schedule = over.schedule ?? (laneParams || !dev.software ? 'lanes' : 'thread');
  if (schedule === 'thread') return threadTuning(units, over);
  // A 16-byte load of q4 (32 weights) is twice int8's work: at most 2 loads in flight per row
  // (H200 kernel lab, 2026-11-30: 14336x4096 25 us against 40 us with 4). Two units per thread
  // was faster still there (23 us) but slowed small models' decode (their grids are tiny already).
  const wide = vecChunk(w.format) >= 32;
  const upt = over.upt ?? 1;
  const chunks = w.k / vecChunk(w.format);
  let tpr = over.tpr ?? 0;
  if (!tpr) {
    const pow2Below = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)));
    const groups = Math.ceil(units / upt);
    tpr = GEMV_WG;
    while (tpr > 1 && (groups * tpr > TARGET_THREADS || tpr > chunks / 2)) tpr /= 2;
    // At least 32 lanes (a whole subgroup) where every lane still gets a chunk: a small model's
    // rows (K = 576, 896: 36 and 56 int8 chunks) are latency-bound, and 16 lanes of two or three
    // chunks each left int8 decode slower than f16 (32 lanes of two or three): H100, 2026-12-07d,
    // SmolLM2-135M int8 722 -> 787 tok/s, Qwen2.5-0.5B 732 -> 841.
    tpr = Math.max(tpr, Math.min(32, pow2Below(chunks)));
  }
  const fits = dev.subgroupSize > 0 && tpr <= dev.subgroupSize;
  const subgroups = over.subgroups ?? fits;
  if (subgroups && !fits) throw new Error(`gemv: subgroup reduction needs tpr ${tpr} <= subgroup size ${dev.subgroupSize || '(no subgroups)'}`);
  if (!(tpr >= 1 && tpr <= GEMV_WG && (tpr & (tpr - 1)) === 0)) throw new Error(`gemv: threads per row ${tpr} must be a power of two <= ${GEMV_WG}`);
  if (!(Number.isInteger(upt) && upt >= 1 && upt <= 4)) throw new Error(`gemv: units per thread ${upt} must be 1..4`);
  const unroll = over.unroll ?? Math.max(1, Math.min(wide ? 2 : 4, 2 ** Math.floor(Math.log2(Math.max(1, chunks / tpr)))));
  if (!(Number.isInteger(unroll) && unroll >= 1 && unroll <= 8)) throw new Error(`gemv: unroll ${unroll} must be 1..8`);
  return { schedule, wg: GEMV_WG, tpr, upt, unroll, subgroups, unpack: over.unpack ?? 'shift' };
}

/** 4-row units a thread of the 'thread' schedule computes (matmul_gemv_thread.wgsl). */
const THREAD_UNITS = 4;

/**
 * The 'thread' schedule: workgroups of up to 16 threads (measured on 2 cores: no slower than 32 or
 * 64, and the work splits more evenly over the cores), fewer when that still leaves fewer than
 * 16 workgroups, so a small matrix is spread over every CPU core the adapter runs on; int8 bytes
 * unpacked by multiplications (software adapters have no per-lane shift).
 */
function threadTuning(units: number, over: Partial<GemvTuning>): GemvTuning {
  for (const [k, v, want] of [['tpr', over.tpr, 1], ['upt', over.upt, THREAD_UNITS], ['unroll', over.unroll, 1]] as const) {
    if (v !== undefined && v !== want) throw new Error(`gemv: the thread schedule has ${k} ${want}, not ${v}`);
  }
  if (over.subgroups) throw new Error('gemv: the thread schedule reduces no lanes');
  let wg = over.wg ?? 16;
  if (over.wg === undefined) while (wg > 4 && Math.ceil(units / THREAD_UNITS / wg) < 16) wg /= 2;
  if (!(wg >= 1 && wg <= GEMV_WG && (wg & (wg - 1)) === 0)) throw new Error(`gemv: workgroup size ${wg} must be a power of two <= ${GEMV_WG}`);
  return { schedule: 'thread', wg, tpr: 1, upt: THREAD_UNITS, unroll: 1, subgroups: false, unpack: over.unpack ?? 'mul' };
}

/** Workgroups for `units` units: [x, y] with x <= 1024. */
export function gemvGrid(units: number, t: Pick<GemvTuning, 'wg' | 'tpr' | 'upt'>): [number, number] {
  const groups = Math.ceil(Math.ceil(units / t.upt) / (t.wg / t.tpr));
  const gx = Math.min(groups, GRID_X);
  return [gx, Math.ceil(groups / gx)];
}

/**
 * The whole shader: the core loop of the tuning's schedule with the parts for this weight's format,
 * input and layout. `layout` is the row layout with everything it calls (bias, sincos, silu...);
 * `outputs` the sizes of the arrays it writes, per name (e.g. { Y: n }).
 */
export function gemvCode(w: WeightShape, parts: { layout: string; norm: boolean; tuning: GemvTuning; outputs: Record<string, number> }): string {
  const { tuning: t } = parts;
  const format = w.format;
  const lanes = t.schedule === 'lanes';
  const code = [
    t.subgroups ? 'enable subgroups;\n' : '',
    STEP_WGSL,
    lanes ? `const UPT: u32 = ${t.upt}u;\nconst UNROLL: u32 = ${t.unroll}u;\n` : '',
    gemvWeightAccess(w, !lanes),
    gemvReader(format, t.unpack),
    parts.norm ? inputRmsnorm : inputPlain,
    parts.layout,
    lanes ? (t.subgroups ? reduceSubgroup : reduceShared) : '',
    lanes ? coreCode : threadCoreCode,
  ].join('\n');
  if (lanes) return code;
  // Software adapters: every array the loop reads gets its length in the declaration (the weight's
  // in gemvWeightAccess). WebGPU's bounds checks then compare indices with constants; against a
  // runtime-sized array they need arrayLength(), which SwiftShader computes with an integer
  // division per lane, per access.
  const k4 = w.k / 4;
  return sizeStorageArrays(code, { X: k4, G: k4, B: w.n, ...parts.outputs });
}

/** The 16-byte readers' view of a weight: vec4 elements (4 words), through weightAccessWgsl. */
export function gemvWeightAccess(w: WeightShape, sized: boolean): string {
  const elem: WeightElem = { type: w.format === 'f32' ? 'vec4<f32>' : 'vec4<u32>', words: 4 };
  return weightAccessWgsl(w, elem, sized);
}

/** The 16-byte weight reader of a format (with its unpacking), also used by the thread GEMM. */
export function gemvReader(format: WeightShape['format'], unpack: GemvTuning['unpack']): string {
  const f = formatSpec(format);
  if (!f.unpacks.includes(unpack) && f.unpacks.length > 1) throw new Error(`gemv: ${format} has no '${unpack}' unpack (${f.unpacks.join(', ')})`);
  return f.vecReader(unpack);
}

/** The input transform that reads x as it is (the thread GEMM reads x through it). */
export const GEMV_INPUT_PLAIN = inputPlain;

/**
 * Gives the runtime-sized storage arrays named in `sizes` that many elements (those the code does
 * not declare are skipped). The buffers bound must hold at least that many.
 */
export function sizeStorageArrays(code: string, sizes: Record<string, number>): string {
  let out = code;
  for (const [name, count] of Object.entries(sizes)) {
    if (!(Number.isInteger(count) && count > 0)) throw new Error(`gemv: array ${name} sized ${count}`);
    out = out.replace(new RegExp(`(var<storage,[^>]*>\\s*${name}\\s*:\\s*array<.*)>;`), `$1, ${count}>;`);
  }
  return out;
}

/** The pipeline-overridable constants of a tuning (the thread schedule has no TPR). */
export function gemvConstants(t: GemvTuning): Record<string, number> {
  return t.schedule === 'lanes' ? { WG: t.wg, TPR: t.tpr } : { WG: t.wg };
}

/** Readable pipeline-key fields of a tuning. */
export function tuningKey(t: GemvTuning, format: WeightShape['format']): string {
  const unpack = formatSpec(format).unpacks.length > 1 ? ` ${t.unpack}` : '';
  if (t.schedule === 'thread') return `thread wg=${t.wg}${unpack}`;
  return `tpr=${t.tpr} upt=${t.upt} unroll=${t.unroll}${t.subgroups ? ' sg' : ''}${unpack}`;
}

/** The adapter facts GemvDevice needs, from a pipeline cache (subgroupMinSize where the adapter reports it). */
export function gemvDevice(cache: Pick<PipelineCache, 'device' | 'software'>): GemvDevice {
  const info = (cache.device as GPUDevice & { adapterInfo?: { subgroupMinSize?: number } }).adapterInfo;
  if (!cache.device.features.has('subgroups')) return { subgroupSize: 0, software: cache.software };
  return { subgroupSize: info?.subgroupMinSize ?? 0, software: cache.software };
}

/**
 * The bind group entries every GEMV-built kernel shares: the weight (0, and 1 for scales),
 * x (2), the first output (3), the step uniform (4), the bias (5) and the RMSNorm weight (6), after
 * checking the weight is the shape the kernel was compiled for and the bias is there iff expected.
 */
export function gemvEntries(
  label: string,
  expect: { w: WeightShape; bias: boolean },
  b: { w: GpuWeight; x: GPUBuffer; y: GPUBuffer; step: GPUBuffer; bias?: GPUBuffer; norm?: GPUBuffer },
): GPUBindGroupEntry[] {
  const w = expect.w;
  if (b.w.format !== w.format || b.w.n !== w.n || b.w.k !== w.k || b.w.rowStride !== w.rowStride || b.w.groupSize !== w.groupSize || b.w.partRows !== w.partRows) {
    throw new Error(`${label}: weight ${b.w.format} ${b.w.n}x${b.w.k} does not match the shape this kernel was built for`);
  }
  if (expect.bias !== !!b.bias) throw new Error(`${label}: bias buffer ${b.bias ? 'given to a bias-free' : 'missing for a biased'} kernel`);
  const entries: GPUBindGroupEntry[] = [
    ...weightEntries(b.w),
    { binding: 2, resource: { buffer: b.x } },
    { binding: 3, resource: { buffer: b.y } },
    { binding: 4, resource: { buffer: b.step } },
  ];
  if (b.bias) entries.push({ binding: BIND_BIAS, resource: { buffer: b.bias } });
  if (b.norm) entries.push({ binding: 6, resource: { buffer: b.norm } });
  return entries;
}
