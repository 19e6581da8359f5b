// Weight reader, int8 format: four signed bytes per u32 (byte j = column 4*c4+j) and one f32 scale
// per group of W_GROUP_SIZE columns: w = q * S[row, k / W_GROUP_SIZE].
// W, S and their accessors `w_at(row, i)` (a word) and `s_at(row, g)` (a scale) come from
// weightAccessWgsl (weights.ts).
override W_STRIDE: u32;     // u32 words per row = ceil(K / 4)
override W_GROUPS: u32;     // scale groups per row
override W_GROUP_SIZE: u32; // multiple of 4, so a word never straddles two groups

fn unpack_i8(word: u32) -> vec4<f32> {
  // Shift each byte to the top, then arithmetic-shift back down to sign-extend it.
  let v = vec4<i32>(bitcast<i32>(word << 24u), bitcast<i32>(word << 16u), bitcast<i32>(word << 8u), bitcast<i32>(word)) >> vec4<u32>(24u);
  return vec4<f32>(v);
}

fn w4(row: u32, c4: u32) -> vec4<f32> {
  let scale = s_at(row, (c4 * 4u) / W_GROUP_SIZE);
  return unpack_i8(w_at(row, c4)) * scale;
}
