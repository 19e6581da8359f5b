// Row layout for matmul_gemv_vec.wgsl whose output columns go to several buffers (stacked
// projections: q/k/v, gate/up), through the GEMM's split `store(m, n, v)` (matmul.ts), in row
// row_index: the GEMV of a few rows at once (a batched decode step) for a weight that has no
// single-row twin (the single row runs fused kernels instead). + bias.
override N: u32;
override UNITS: u32 = (N + 3u) / 4u;

fn unit_rows(u: u32) -> vec4<u32> {
  let n = 4u * u;
  return min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), vec4<u32>(N - 1u));
}

fn store_unit(u: u32, v: vec4<f32>) {
  for (var r = 0u; r < 4u; r++) {
    let n = 4u * u + r;
    if (n < N) { store(row_index, n, v[r] + bias(n)); }
  }
}
