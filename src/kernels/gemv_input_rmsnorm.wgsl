// Input transform for matmul_gemv_vec.wgsl: RMSNorm fused into the matmul. x is the raw residual
// stream; each chunk is multiplied by the norm weight G on the way in and adds its sum of squares,
// and the lanes of a row group together see all of x, so after the lane reduction
//   y = (W (x * G)) / sqrt(mean(x^2) + eps) = W rmsnorm(x)
// with no separate normalization pass.
const NORM: bool = true;
@group(0) @binding(6) var<storage, read> G: array<vec4<f32>>; // [K/4] RMSNorm weight
override EPS: f32;

fn prep_x(j: u32, xs: ptr<function, XChunk>) -> f32 {
  var ss = 0.0;
  for (var i = 0u; i < XV; i++) {
    let v = (*xs)[i];
    ss += dot(v, v);
    (*xs)[i] = v * G[j * XV + i];
  }
  return ss;
}

fn input_scale(ss: f32) -> f32 {
  return inverseSqrt(ss / f32(K) + EPS);
}
