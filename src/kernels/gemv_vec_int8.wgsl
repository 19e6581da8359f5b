// 16-byte weight reader for matmul_gemv_vec.wgsl, int8 format: 16 signed bytes per load, one
// group scale applied once per load (groups are multiples of 16 weights). Needs K % 16 == 0.
// W, S and their accessors `w_at(row, i)`, `s_at(row, g)` come from weightAccessWgsl (weights.ts).
override W_STRIDE: u32;     // u32 words per row = K / 4
override W_GROUPS: u32;     // scale groups per row
override W_GROUP_SIZE: u32; // multiple of 16
const CHUNK: u32 = 16u;
const XV: u32 = 4u;
alias WChunk = vec4<u32>;

fn load_w(row: u32, j: u32) -> WChunk {
  return w_at(row, j);
}

// x for chunk j through the input transform, built from constant indices (no loop, no array
// written by a runtime index: see matmul_gemv_thread.wgsl).
fn load_x(j: u32, ss: ptr<function, f32>) -> XChunk {
  return XChunk(input_vec(4u * j, ss), input_vec(4u * j + 1u, ss), input_vec(4u * j + 2u, ss), input_vec(4u * j + 3u, ss));
}

// int8_dot (sum of q * x over the 16 bytes) and chunk_sum come from the unpack snippet.
fn chunk_dot(w: WChunk, row: u32, j: u32, xs: XChunk, xsum: f32) -> f32 {
  let s = s_at(row, (j * CHUNK) / W_GROUP_SIZE);
  return s * int8_dot(w, xs, xsum);
}
