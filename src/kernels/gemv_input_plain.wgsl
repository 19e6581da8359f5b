// Input transform for the decode GEMVs: x as it is.
const NORM: bool = false;
// The row of x the invocation reads (0 unless a GEMV dispatch serves several rows).
var<private> row_index: u32;

// x[4i .. 4i+3] as the matmul sees it (no sum of squares needed).
fn input_vec(i: u32, ss: ptr<function, f32>) -> vec4<f32> {
  return X[row_index * (K / 4u) + i];
}

fn input_scale(ss: f32) -> f32 {
  return 1.0;
}
