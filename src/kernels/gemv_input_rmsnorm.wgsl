// Input transform for the decode GEMVs: RMSNorm fused into the matmul. x is the raw residual
// stream; each 4 values are multiplied by the norm weight G on the way in and add their sum of
// squares, and the lanes of a row group together see all of x, so after the lane reduction
//   y = (W (x * G)) / sqrt(mean(x^2) + eps) = W rmsnorm(x)
// with no separate normalization pass.
const NORM: bool = true;
@group(0) @binding(6) var<storage, read> G: array<vec4<f32>>; // [K/4] RMSNorm weight
override EPS: f32;
// The row of x the invocation reads (0 unless a GEMV dispatch serves several rows).
var<private> row_index: u32;

// x[4i .. 4i+3] as the matmul sees it; adds their squares to *ss.
fn input_vec(i: u32, ss: ptr<function, f32>) -> vec4<f32> {
  let v = X[row_index * (K / 4u) + i];
  *ss += dot(v, v);
  return v * G[i];
}

fn input_scale(ss: f32) -> f32 {
  return inverseSqrt(ss / f32(K) + EPS);
}
