// Input transform for matmul_gemv_vec.wgsl: x as it is.
const NORM: bool = false;

fn prep_x(j: u32, xs: ptr<function, XChunk>) -> f32 {
  return 0.0;
}

fn input_scale(ss: f32) -> f32 {
  return 1.0;
}
