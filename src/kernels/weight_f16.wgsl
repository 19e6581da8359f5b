// Weight reader, f16 format: two halves per u32, read with unpack2x16float so no `shader-f16` is needed.
@group(0) @binding(0) var<storage, read> W: array<vec2<u32>>;
override W_STRIDE: u32; // u32 words per row (multiple of 2)

fn w4(row: u32, c4: u32) -> vec4<f32> {
  let p = W[row * (W_STRIDE / 2u) + c4];
  return vec4<f32>(unpack2x16float(p.x), unpack2x16float(p.y));
}
