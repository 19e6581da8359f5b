// 16-byte weight reader for matmul_gemv_vec.wgsl, f32 format: 4 weights per load.
// W and `w_at(row, i)` come from weightAccessWgsl (weights.ts).
override W_STRIDE: u32; // floats per row (multiple of 4)
const CHUNK: u32 = 4u;
const XV: u32 = 1u;
alias WChunk = vec4<f32>;

fn load_w(row: u32, j: u32) -> WChunk {
  return w_at(row, j);
}

// x for chunk j through the input transform, built from constant indices (no loop, no array
// written by a runtime index: see matmul_gemv_thread.wgsl).
fn load_x(j: u32, ss: ptr<function, f32>) -> XChunk {
  return XChunk(input_vec(j, ss));
}

fn chunk_sum(xs: XChunk) -> f32 {
  return 0.0;
}

fn chunk_dot(w: WChunk, row: u32, j: u32, xs: XChunk, xsum: f32) -> f32 {
  return dot(w, xs[0]);
}
