// int8 unpack for gemv_vec_int8.wgsl with no conversion instruction at all (int-to-float is a
// quarter-rate instruction on NVIDIA, and with one per weight it caps the int8 GEMV near the memory
// bandwidth): flipping the sign bits makes each byte u = q + 128, and placed in the top mantissa
// bits of 1.0 it is the f32 m = 1 + u / 256 = 1.5 + q / 256, exactly. Then
//   sum q x = 256 * (sum m x - 1.5 * sum x)
// where sum x of the chunk is computed once per chunk (chunk_sum), not per row. m stays in [1, 2),
// so the subtraction loses a few bits at most (about 5e-7 relative), far below int8's own error.
fn m4(word: u32) -> vec4<f32> {
  let u = word ^ 0x80808080u;
  let bits = (vec4<u32>(u << 15u, u << 7u, u >> 1u, u >> 9u) & vec4<u32>(0x7F8000u)) | vec4<u32>(0x3F800000u);
  return bitcast<vec4<f32>>(bits);
}

fn chunk_sum(xs: XChunk) -> f32 {
  return dot((xs[0] + xs[1]) + (xs[2] + xs[3]), vec4<f32>(1.0));
}

fn int8_dot(w: vec4<u32>, xs: XChunk, xsum: f32) -> f32 {
  let d = dot(m4(w.x), xs[0]) + dot(m4(w.y), xs[1]) + dot(m4(w.z), xs[2]) + dot(m4(w.w), xs[3]);
  return 256.0 * (d - 1.5 * xsum);
}
