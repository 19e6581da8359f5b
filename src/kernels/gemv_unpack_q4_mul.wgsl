// q4 unpack for gemv_vec_q4.wgsl without shifts, for software adapters (see gemv_unpack_mul.wgsl:
// SwiftShader has no per-lane shift, a 32-bit multiply is one instruction). Multiplying by 2^28,
// 2^24, ... moves each nibble to the top of a word and the mask clears what is below it, so the
// signed word is exactly q * 2^28; converted to f32 (4 significant bits: exact), the products carry
// a factor 2^28 that q4_dot takes out once per chunk (a power of two: exact too).
fn q4_lo(word: u32) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(word * 268435456u, word * 16777216u, word * 1048576u, word * 65536u) & vec4<u32>(0xF0000000u)));
}

fn q4_hi(word: u32) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(word * 4096u, word * 256u, word * 16u, word) & vec4<u32>(0xF0000000u)));
}

fn q4_dot(w: vec4<u32>, xs: XChunk) -> f32 {
  let d = dot(q4_lo(w.x), xs[0]) + dot(q4_hi(w.x), xs[1]) + dot(q4_lo(w.y), xs[2]) + dot(q4_hi(w.y), xs[3]) +
          dot(q4_lo(w.z), xs[4]) + dot(q4_hi(w.z), xs[5]) + dot(q4_lo(w.w), xs[6]) + dot(q4_hi(w.w), xs[7]);
  return d * (1.0 / 268435456.0);
}
