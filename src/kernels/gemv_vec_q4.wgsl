// 16-byte weight reader for matmul_gemv_vec.wgsl, q4 format: 32 signed nibbles per load and one
// group's (scale, offset) per load (groups are multiples of 32 weights). Needs K % 32 == 0.
//   sum_i (m + q_i s) x_i = s * sum_i q_i x_i + m * sum_i x_i
// and sum_i x_i (chunk_sum) is computed once per chunk for all the rows a thread reads.
// W, S and their accessors `w_at(row, i)`, `s_at(row, g)` come from weightAccessWgsl (weights.ts);
// `f16x2` and `q4_dot` from the unpack snippets.
override W_STRIDE: u32;     // u32 words per row = K / 8
override W_GROUPS: u32;     // scale groups per row
override W_GROUP_SIZE: u32; // multiple of 32
const CHUNK: u32 = 32u;
const XV: u32 = 8u;
alias WChunk = vec4<u32>;

fn load_w(row: u32, j: u32) -> WChunk {
  return w_at(row, j);
}

// x for chunk j through the input transform, built from constant indices (no loop, no array
// written by a runtime index: see matmul_gemv_thread.wgsl).
fn load_x(j: u32, ss: ptr<function, f32>) -> XChunk {
  let b = 8u * j;
  return XChunk(input_vec(b, ss), input_vec(b + 1u, ss), input_vec(b + 2u, ss), input_vec(b + 3u, ss),
                input_vec(b + 4u, ss), input_vec(b + 5u, ss), input_vec(b + 6u, ss), input_vec(b + 7u, ss));
}

fn chunk_sum(xs: XChunk) -> f32 {
  return dot(((xs[0] + xs[1]) + (xs[2] + xs[3])) + ((xs[4] + xs[5]) + (xs[6] + xs[7])), vec4<f32>(1.0));
}

fn chunk_dot(w: WChunk, row: u32, j: u32, xs: XChunk, xsum: f32) -> f32 {
  let sm = f16x2(s_at(row, (j * CHUNK) / W_GROUP_SIZE));
  return sm.x * q4_dot(w, xs) + sm.y * xsum;
}
