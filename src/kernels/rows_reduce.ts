// The few-rows GEMMs' (matmul_gemm_rows.wgsl, matmul_w8a8_rows.wgsl) grid, and their reduction of the lanes' sums:
// through workgroup memory two rows at a time (matmul_rows_lanes.wgsl: reduce_round), or through
// subgroup shuffles with one barrier for all rows (matmul_rows_reduce_sg.wgsl).
import rowsReduceSgCode from './matmul_rows_reduce_sg.wgsl';

/** Lanes of a unit (KL in matmul_rows_lanes.wgsl). */
const KL = 8;

/**
 * The WGSL the kernels call after their lanes' code: the shuffle form for subgroups of
 * `subgroupSize` (min(size, KL) lanes of a unit meet in each), or stand-ins never called. The
 * shuffle form needs `enable subgroups;` first in the module (rowsReduceEnable).
 */
export function rowsReduceWgsl(sg: boolean, subgroupSize: number): string {
  if (!sg) return 'const SG_REDUCE: bool = false;\nfn sg_row(i: u32, v: vec4<f32>, t: u32) {}\nfn sg_store(t: u32, m0: u32, rows: u32, wx: u32) {}\n';
  if (subgroupSize < 1) throw new Error('few-rows GEMM: the shuffle reduction needs an adapter with subgroups');
  return `const SG_REDUCE: bool = true;\nconst SGW: u32 = ${Math.min(KL, subgroupSize)}u;\n${rowsReduceSgCode}`;
}

/** What goes before everything else in a few-rows GEMM's module. */
export function rowsReduceEnable(sg: boolean): string {
  return sg ? 'enable subgroups;\n' : '';
}

/** vec4s of workgroup memory the shuffle reduction needs: every (row, group along K, partial, unit); 0 without it. */
export function rowsReduceLen(sg: boolean, mr: number, kw: number, ug: number, subgroupSize: number): number {
  return sg ? mr * kw * (KL / Math.min(KL, subgroupSize)) * 4 * ug : 0;
}

/**
 * A few-rows GEMM's grid: its row blocks along x and unit blocks along y where `rowsFirst` (the
 * blocks of one weight slice then run side by side), else the other way round (matmul_rows_lanes.wgsl's
 * unit_block and first_row read it back).
 */
export function rowsDispatch(pass: GPUComputePassEncoder, rowBlocks: number, unitBlocks: number, rowsFirst: boolean): void {
  if (rowsFirst) pass.dispatchWorkgroups(rowBlocks, unitBlocks);
  else pass.dispatchWorkgroups(unitBlocks, rowBlocks);
}
