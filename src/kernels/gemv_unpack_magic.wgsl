// int8 unpack for gemv_vec_int8.wgsl without int-to-float conversions (a quarter-rate instruction
// on NVIDIA): flipping the sign bits makes each byte u = q + 128, and 0x4B000000 | u is the f32
// 2^23 + u, so one integer OR and one float subtraction give q exactly.
fn i8x4(word: u32) -> vec4<f32> {
  let u = word ^ 0x80808080u;
  let m = vec4<u32>(u & 0xFFu, (u >> 8u) & 0xFFu, (u >> 16u) & 0xFFu, u >> 24u) | vec4<u32>(0x4B000000u);
  return bitcast<vec4<f32>>(m) - vec4<f32>(8388736.0); // 2^23 + 128
}

fn chunk_sum(xs: XChunk) -> f32 {
  return 0.0;
}

fn int8_dot(w: vec4<u32>, xs: XChunk, xsum: f32) -> f32 {
  return dot(i8x4(w.x), xs[0]) + dot(i8x4(w.y), xs[1]) + dot(i8x4(w.z), xs[2]) + dot(i8x4(w.w), xs[3]);
}
