// Weight reader, q4 format: eight signed nibbles per u32 (nibble j = column 8*word+j, two's
// complement) and per group of W_GROUP_SIZE columns one u32 holding the f16 pair (scale, offset):
// w = offset + q * scale. `f16x2` (unpack2x16float) is prepended with this snippet.
// W, S and their accessors `w_at(row, i)` (a word) and `s_at(row, g)` (a scale word) come from
// weightAccessWgsl (weights.ts).
override W_STRIDE: u32;     // u32 words per row = ceil(K / 8)
override W_GROUPS: u32;     // scale groups per row
override W_GROUP_SIZE: u32; // multiple of 8, so a word never straddles two groups

fn w4(row: u32, c4: u32) -> vec4<f32> {
  let sm = f16x2(s_at(row, (c4 * 4u) / W_GROUP_SIZE));
  // Columns 4*c4 .. 4*c4+3 are the low or high four nibbles of word c4/2: move them to the low
  // 16 bits, then each nibble to the top and arithmetic-shift it back down (sign extension).
  let h = w_at(row, c4 / 2u) >> ((c4 & 1u) * 16u);
  let v = vec4<i32>(bitcast<i32>(h << 28u), bitcast<i32>(h << 24u), bitcast<i32>(h << 20u), bitcast<i32>(h << 16u)) >> vec4<u32>(28u);
  return vec4<f32>(v) * sm.x + sm.y;
}
