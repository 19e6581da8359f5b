// Row layout for matmul_gemv_vec.wgsl: unit u is rows 4u .. 4u+3 of W, stored to Y[n] (+ bias,
// and + Y[n] itself when ACCUMULATE: the residual add fused into the epilogue), in row row_index
// of Y (the input's: a dispatch may serve several rows).
@group(0) @binding(3) var<storage, read_write> Y: array<f32>; // [rows, N]
override N: u32;
override UNITS: u32 = (N + 3u) / 4u;
override ACCUMULATE: bool = false;

fn unit_rows(u: u32) -> vec4<u32> {
  let n = 4u * u;
  return min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), vec4<u32>(N - 1u));
}

fn store_unit(u: u32, v: vec4<f32>) {
  for (var r = 0u; r < 4u; r++) {
    let n = 4u * u + r;
    if (n < N) {
      var y = v[r] + bias(n);
      let at = row_index * N + n;
      if (ACCUMULATE) { y += Y[at]; }
      Y[at] = y;
    }
  }
}
