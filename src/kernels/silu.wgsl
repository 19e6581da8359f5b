// x * sigmoid(x) with exp of a non-positive argument only: exp never overflows, so large |x|
// gives x (x >> 0) or -0 (x << 0) instead of inf/NaN on implementations without IEEE exp edges.
fn silu(x: f32) -> f32 {
  let e = exp(-abs(x));
  let s = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
  return x * s;
}
