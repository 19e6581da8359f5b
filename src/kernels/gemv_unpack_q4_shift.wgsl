// q4 unpack for gemv_vec_q4.wgsl: the eight signed nibbles of a word as two vec4<f32> (columns
// 0-3, then 4-7), each nibble shifted to the top and arithmetic-shifted back down.
fn q4_lo(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<i32>(bitcast<i32>(word << 28u), bitcast<i32>(word << 24u), bitcast<i32>(word << 20u), bitcast<i32>(word << 16u)) >> vec4<u32>(28u));
}

fn q4_hi(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<i32>(bitcast<i32>(word << 12u), bitcast<i32>(word << 8u), bitcast<i32>(word << 4u), bitcast<i32>(word)) >> vec4<u32>(28u));
}

fn q4_dot(w: vec4<u32>, xs: XChunk) -> f32 {
  return dot(q4_lo(w.x), xs[0]) + dot(q4_hi(w.x), xs[1]) + dot(q4_lo(w.y), xs[2]) + dot(q4_hi(w.y), xs[3]) +
         dot(q4_lo(w.z), xs[4]) + dot(q4_hi(w.z), xs[5]) + dot(q4_lo(w.w), xs[6]) + dot(q4_hi(w.w), xs[7]);
}
