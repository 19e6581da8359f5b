// f16 pair unpack for gemv_vec_f16.wgsl: the WGSL builtin (exact for every half, no `shader-f16`).
fn f16x2(word: u32) -> vec2<f32> {
  return unpack2x16float(word);
}
