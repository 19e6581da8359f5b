// 16-byte weight reader for matmul_gemv_vec.wgsl, f16 format: 8 halves per load, unpacked by
// `f16x2` (gemv_f16_builtin.wgsl: unpack2x16float, or gemv_f16_mul.wgsl; no `shader-f16` needed). Needs W_STRIDE % 4 == 0 (K % 8 == 0).
// W and `w_at(row, i)` come from weightAccessWgsl (weights.ts).
override W_STRIDE: u32; // u32 words per row
const CHUNK: u32 = 8u;
const XV: u32 = 2u;
alias WChunk = vec4<u32>;

fn load_w(row: u32, j: u32) -> WChunk {
  return w_at(row, j);
}

// x for chunk j through the input transform, built from constant indices (no loop, no array
// written by a runtime index: see matmul_gemv_thread.wgsl).
fn load_x(j: u32, ss: ptr<function, f32>) -> XChunk {
  return XChunk(input_vec(2u * j, ss), input_vec(2u * j + 1u, ss));
}

fn chunk_sum(xs: XChunk) -> f32 {
  return 0.0;
}

fn chunk_dot(w: WChunk, row: u32, j: u32, xs: XChunk, xsum: f32) -> f32 {
  let lo = vec4<f32>(f16x2(w.x), f16x2(w.y));
  let hi = vec4<f32>(f16x2(w.z), f16x2(w.w));
  return dot(lo, xs[0]) + dot(hi, xs[1]);
}
