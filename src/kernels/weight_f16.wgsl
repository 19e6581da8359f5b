// Weight reader, f16 format: two halves per u32, read with unpack2x16float so no `shader-f16` is needed.
// W itself and `w_at(row, i)` (a vec2<u32> of row `row`) come from weightAccessWgsl (weights.ts).
override W_STRIDE: u32; // u32 words per row (multiple of 2)

fn w4(row: u32, c4: u32) -> vec4<f32> {
  let p = w_at(row, c4);
  return vec4<f32>(unpack2x16float(p.x), unpack2x16float(p.y));
}
