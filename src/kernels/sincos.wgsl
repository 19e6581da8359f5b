// (sin, cos) of an f32 angle for RoPE, shared by rope.wgsl and gemv_rows_qkv.wgsl.
// pi/2 split so that k * C1 and k * C2 are exact in f32 for k < 2^16 (C1, C2 have 8 significant
// bits), i.e. angles up to ~1e5 rad. Builtin sin/cos are only specified to 2^-11 absolute error on
// [-pi, pi] and are unspecified beyond; HF takes cos/sin of the f32 angle to full f32 accuracy.
const C1: f32 = 1.5703125;
const C2: f32 = 4.84466552734375e-4;
const C3: f32 = -6.39757843e-7;
const TWO_OVER_PI: f32 = 0.636619747;

// (sin, cos) of an f32 angle: Cody-Waite reduction to [-pi/4, pi/4], then Taylor polynomials
// (truncation error < 2e-9 there, below f32 rounding).
fn sincos(a: f32) -> vec2<f32> {
  let kf = round(a * TWO_OVER_PI);
  let r = ((a - kf * C1) - kf * C2) - kf * C3;
  let r2 = r * r;
  let s = r + r * r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  switch (i32(kf) & 3) {
    case 0: { return vec2<f32>(s, c); }
    case 1: { return vec2<f32>(c, -s); }
    case 2: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}
