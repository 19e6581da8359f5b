// Row layout for matmul_gemv_vec.wgsl (its units from gemv_rows_units.wgsl): unit u is rows 4u .. 4u+3 of W, stored to Y[n] (+ bias,
// and + Y[n] itself when ACCUMULATE: the residual add fused into the epilogue), in row row_index
// of Y (the input's: a dispatch may serve several rows).
@group(0) @binding(3) var<storage, read_write> Y: array<f32>; // [rows, N]
override ACCUMULATE: bool = false;

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
