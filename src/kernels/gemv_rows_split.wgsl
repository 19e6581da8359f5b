// Row layout for matmul_gemv_vec.wgsl (its units from gemv_rows_units.wgsl) whose output columns go to several buffers (stacked
// projections: q/k/v, gate/up), through the GEMM's split `store(m, n, v)` (matmul.ts), in row
// row_index: the GEMV of a few rows at once (a batched decode step) for a weight that has no
// single-row twin (the single row runs fused kernels instead). + bias.

fn store_unit(u: u32, v: vec4<f32>) {
  for (var r = 0u; r < 4u; r++) {
    let n = 4u * u + r;
    if (n < N) { store(row_index, n, v[r] + bias(n)); }
  }
}
