// int8 unpack for gemv_vec_int8.wgsl: the four signed bytes of a word as f32, by shifting each byte
// to the top and arithmetic-shifting it back down (sign extension).
fn i8x4(word: u32) -> vec4<f32> {
  let v = vec4<i32>(bitcast<i32>(word << 24u), bitcast<i32>(word << 16u), bitcast<i32>(word << 8u), bitcast<i32>(word)) >> vec4<u32>(24u);
  return vec4<f32>(v);
}

fn chunk_sum(xs: XChunk) -> f32 {
  return 0.0;
}

fn int8_dot(w: vec4<u32>, xs: XChunk, xsum: f32) -> f32 {
  return dot(i8x4(w.x), xs[0]) + dot(i8x4(w.y), xs[1]) + dot(i8x4(w.z), xs[2]) + dot(i8x4(w.w), xs[3]);
}
