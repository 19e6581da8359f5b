// The decode GEMV (matmul_gemv_vec.wgsl) is one loop with pluggable parts: a weight reader per
// format, an input transform (plain, or RMSNorm fused in), a row layout with its epilogue (plain
// rows, q/k/v with RoPE and the KV-cache write, gate/up with SiLU), and a lane reduction (workgroup
// memory, or subgroup shuffles). This module assembles them and sizes the grid; Matmul, QkvRope
// and GateUpSilu are the kernels built from it.
import coreCode from './matmul_gemv_vec.wgsl';
import vecF32 from './gemv_vec_f32.wgsl';
import vecF16 from './gemv_vec_f16.wgsl';
import vecInt8 from './gemv_vec_int8.wgsl';
import unpackShift from './gemv_unpack_shift.wgsl';
import unpackMagic from './gemv_unpack_magic.wgsl';
import unpackMantissa from './gemv_unpack_mantissa.wgsl';
import inputPlain from './gemv_input_plain.wgsl';
import inputRmsnorm from './gemv_input_rmsnorm.wgsl';
import reduceShared from './gemv_reduce_shared.wgsl';
import reduceSubgroup from './gemv_reduce_subgroup.wgsl';
import { STEP_WGSL } from '../gpu/step';
import type { WeightShape } from './matmul';
import { weightEntries, BIND_BIAS, type GpuWeight } from './weights';

export const GEMV_WG = 256;
/** weights per 16-byte load */
export const VEC_CHUNK = { f32: 4, f16: 8, int8: 16 } as const;
// Workgroups go in rows of 1024 (the shader linearises wid), which keeps a 152k-row lm_head far
// under 65535 per dimension.
const GRID_X = 1024;

/** How a GEMV spreads its work; the defaults come from `gemvTuning`. */
export interface GemvTuning {
  /** threads per row group: a power of two <= 256 */
  tpr: number;
  /** 4-row units per thread: each x load feeds 4 * upt rows */
  upt: number;
  /** 16-byte loads per row a thread issues before using them */
  unroll: number;
  /** reduce lanes with subgroup shuffles (needs the `subgroups` feature and tpr <= subgroup size) */
  subgroups: boolean;
  /**
   * int8 only: how bytes become floats: 'shift' (sign-extending shifts and a conversion), 'magic'
   * (exponent bits, then a subtraction per weight), 'mantissa' (mantissa bits, corrected once per chunk)
   */
  unpack: 'shift' | 'magic' | 'mantissa';
}

/** What the adapter offers that the tuning depends on. */
export interface GemvDevice {
  /** smallest subgroup size of the adapter, or 0 when `subgroups` is unavailable */
  subgroupSize: number;
}

/** The vectorized GEMV needs K in whole 16-byte loads (every real model's shapes qualify). */
export function vecGemvApplies(w: Pick<WeightShape, 'format' | 'k' | 'groupSize'>): boolean {
  return w.k % VEC_CHUNK[w.format] === 0 && (w.format !== 'int8' || w.groupSize % 16 === 0);
}

/** Threads a GEMV grid should hold: about one full wave of a large GPU (132 SMs x 1024-2048). */
const TARGET_THREADS = 160_000;

/**
 * Default tuning for a weight read over `units` 4-row units, from the kernel lab on an H200
 * (bench/results/*-h200-kernels*.json): the most threads per row group (up to 256) that keep the
 * grid near one wave and every lane at two or more 16-byte loads per row, but at least 32 where K
 * allows (wide rows want a whole subgroup); up to 4 loads per row in flight; int8 bytes unpacked by
 * shifts (the exponent trick measured no faster). Subgroups reduce lanes where a row group fits one.
 */
export function gemvTuning(w: Pick<WeightShape, 'format' | 'k'>, units: number, dev: GemvDevice, over: Partial<GemvTuning> = {}): GemvTuning {
  const upt = over.upt ?? 1;
  const chunks = w.k / VEC_CHUNK[w.format];
  let tpr = over.tpr ?? 0;
  if (!tpr) {
    const pow2Below = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)));
    const groups = Math.ceil(units / upt);
    tpr = GEMV_WG;
    while (tpr > 1 && (groups * tpr > TARGET_THREADS || tpr > chunks / 2)) tpr /= 2;
    tpr = Math.max(tpr, Math.min(32, pow2Below(chunks / 2)));
  }
  const fits = dev.subgroupSize > 0 && tpr <= dev.subgroupSize;
  const subgroups = over.subgroups ?? fits;
  if (subgroups && !fits) throw new Error(`gemv: subgroup reduction needs tpr ${tpr} <= subgroup size ${dev.subgroupSize || '(no subgroups)'}`);
  if (!(tpr >= 1 && tpr <= GEMV_WG && (tpr & (tpr - 1)) === 0)) throw new Error(`gemv: threads per row ${tpr} must be a power of two <= ${GEMV_WG}`);
  if (!(Number.isInteger(upt) && upt >= 1 && upt <= 4)) throw new Error(`gemv: units per thread ${upt} must be 1..4`);
  const unroll = over.unroll ?? Math.max(1, Math.min(4, 2 ** Math.floor(Math.log2(Math.max(1, chunks / tpr)))));
  if (!(Number.isInteger(unroll) && unroll >= 1 && unroll <= 8)) throw new Error(`gemv: unroll ${unroll} must be 1..8`);
  return { tpr, upt, unroll, subgroups, unpack: over.unpack ?? 'shift' };
}

/** Workgroups for `units` units: [x, y] with x <= 1024. */
export function gemvGrid(units: number, t: Pick<GemvTuning, 'tpr' | 'upt'>): [number, number] {
  const groups = Math.ceil(Math.ceil(units / t.upt) / (GEMV_WG / t.tpr));
  const gx = Math.min(groups, GRID_X);
  return [gx, Math.ceil(groups / gx)];
}

/** The whole shader: the core loop with the parts for this format, input, layout and tuning. */
/** `layout` is the row layout with everything it calls (bias, sincos, silu...). */
export function gemvCode(format: WeightShape['format'], parts: { layout: string; norm: boolean; tuning: GemvTuning }): string {
  const { tuning: t } = parts;
  const reader = format === 'f32' ? vecF32 : format === 'f16' ? vecF16 : { shift: unpackShift, magic: unpackMagic, mantissa: unpackMantissa }[t.unpack] + vecInt8;
  return [
    t.subgroups ? 'enable subgroups;\n' : '',
    STEP_WGSL,
    `const UPT: u32 = ${t.upt}u;\nconst UNROLL: u32 = ${t.unroll}u;\n`,
    reader,
    parts.norm ? inputRmsnorm : inputPlain,
    parts.layout,
    t.subgroups ? reduceSubgroup : reduceShared,
    coreCode,
  ].join('\n');
}

/** Readable pipeline-key fields of a tuning. */
export function tuningKey(t: GemvTuning, format: WeightShape['format']): string {
  return `tpr=${t.tpr} upt=${t.upt} unroll=${t.unroll}${t.subgroups ? ' sg' : ''}${format === 'int8' ? ` ${t.unpack}` : ''}`;
}

/** The adapter facts GemvDevice needs, from a device (subgroupMinSize where the adapter reports it). */
export function gemvDevice(device: GPUDevice): GemvDevice {
  if (!device.features.has('subgroups')) return { subgroupSize: 0 };
  const info = (device as GPUDevice & { adapterInfo?: { subgroupMinSize?: number } }).adapterInfo;
  return { subgroupSize: info?.subgroupMinSize ?? 0 };
}

/**
 * The bind group entries every GEMV-built kernel shares: the weight (0, and 1 for int8 scales),
 * x (2), the first output (3), the step uniform (4), the bias (5) and the RMSNorm weight (6), after
 * checking the weight is the shape the kernel was compiled for and the bias is there iff expected.
 */
export function gemvEntries(
  label: string,
  expect: { w: WeightShape; bias: boolean },
  b: { w: GpuWeight; x: GPUBuffer; y: GPUBuffer; step: GPUBuffer; bias?: GPUBuffer; norm?: GPUBuffer },
): GPUBindGroupEntry[] {
  const w = expect.w;
  if (b.w.format !== w.format || b.w.n !== w.n || b.w.k !== w.k || b.w.rowStride !== w.rowStride || b.w.groupSize !== w.groupSize) {
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
