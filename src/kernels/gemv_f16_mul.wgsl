// f16 pair unpack for gemv_vec_f16.wgsl without shifts, for software adapters: SwiftShader's
// unpack2x16float costs about 20 SSE instructions per half, and a WGSL shift is an extract, a
// scalar shift and an insert per lane; multiplications, masks and conversions are one each.
//   a half's exponent and mantissa moved up 13 bits (x 8192), with the exponent bias raised by 112,
//   are the f32 bits of a normal half; a subnormal half is its mantissa times 2^-24 (the f32
//   subnormal the shift would give may be flushed to zero on the CPU); the sign moves up 16 bits.
//   The high half moves down 16 bits by converting the word with its low half cleared to float (16
//   significant bits: exact), dividing by 2^16 and converting back to an integer.
// Exact for every finite half; an infinite or NaN half would come out finite (weights have none).
fn half_bits_to_f32(h: u32) -> f32 {
  let mag = h & 0x7FFFu;
  let normal = bitcast<f32>(mag * 8192u + 0x38000000u);
  let subnormal = f32(bitcast<i32>(mag)) * 5.9604644775390625e-8; // 2^-24 (an i32 conversion: u32 has no SSE instruction)
  let v = select(normal, subnormal, mag < 0x400u);
  return bitcast<f32>(bitcast<u32>(v) | ((h & 0x8000u) * 65536u));
}

fn f16x2(word: u32) -> vec2<f32> {
  let hi = u32(i32(f32(bitcast<i32>(word & 0xFFFF0000u)) * (1.0 / 65536.0))) & 0xFFFFu;
  return vec2<f32>(half_bits_to_f32(word & 0xFFFFu), half_bits_to_f32(hi));
}
