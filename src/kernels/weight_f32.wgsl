// Weight reader, f32 format: W[row * W_STRIDE + k], rows padded to a multiple of 4.
// W itself and `w_at(row, i)` (a vec4 of row `row`) come from weightAccessWgsl (weights.ts).
override W_STRIDE: u32; // floats per row (multiple of 4)

// Weights k = 4*c4 .. 4*c4+3 of one row.
fn w4(row: u32, c4: u32) -> vec4<f32> {
  return w_at(row, c4);
}
