// Weight reader, f32 format: W[row * W_STRIDE + k], rows padded to a multiple of 4.
@group(0) @binding(0) var<storage, read> W: array<vec4<f32>>;
override W_STRIDE: u32; // floats per row (multiple of 4)

// Weights k = 4*c4 .. 4*c4+3 of one row.
fn w4(row: u32, c4: u32) -> vec4<f32> {
  return W[row * (W_STRIDE / 4u) + c4];
}
