// int8 unpack for gemv_vec_int8.wgsl without shifts, for software adapters: SwiftShader has no
// per-lane shift (a shift by a vector of amounts becomes an extract, a scalar shift and an insert
// for each of the 4 lanes), but a 32-bit multiply is one instruction. Multiplying by 2^24, 2^16
// and 2^8 moves each byte to the top of a word and the mask clears what is below it, so the signed
// word is exactly q * 2^24; converted to f32 (8 significant bits: exact), the products carry a
// factor 2^24 that int8_dot takes out once per chunk (a power of two: exact too).
fn i8x4(word: u32) -> vec4<f32> {
  let top = vec4<u32>(word * 16777216u, word * 65536u, word * 256u, word) & vec4<u32>(0xFF000000u);
  return vec4<f32>(bitcast<vec4<i32>>(top));
}

fn chunk_sum(xs: XChunk) -> f32 {
  return 0.0;
}

fn int8_dot(w: vec4<u32>, xs: XChunk, xsum: f32) -> f32 {
  let d = dot(i8x4(w.x), xs[0]) + dot(i8x4(w.y), xs[1]) + dot(i8x4(w.z), xs[2]) + dot(i8x4(w.w), xs[3]);
  return d * (1.0 / 16777216.0);
}
