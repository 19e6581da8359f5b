// 16-byte weight reader for matmul_gemv_vec.wgsl, int8 format: 16 signed bytes per load, one
// group scale applied once per load (groups are multiples of 16 weights). Needs K % 16 == 0.
@group(0) @binding(0) var<storage, read> W: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> S: array<f32>;
override W_STRIDE: u32;     // u32 words per row = K / 4
override W_GROUPS: u32;     // scale groups per row
override W_GROUP_SIZE: u32; // multiple of 16
const CHUNK: u32 = 16u;

fn i8x4(word: u32) -> vec4<f32> {
  // Shift each byte to the top, then arithmetic-shift back down to sign-extend it.
  let v = vec4<i32>(bitcast<i32>(word << 24u), bitcast<i32>(word << 16u), bitcast<i32>(word << 8u), bitcast<i32>(word)) >> vec4<u32>(24u);
  return vec4<f32>(v);
}

alias XChunk = mat4x4<f32>; // the 16 x values one load of W meets

fn load_x(j: u32) -> XChunk {
  let b = 4u * j;
  return XChunk(X[b], X[b + 1u], X[b + 2u], X[b + 3u]);
}

fn chunk_dot(row: u32, j: u32, xs: XChunk) -> f32 {
  let w = W[row * (W_STRIDE / 4u) + j];
  let s = S[row * W_GROUPS + (j * CHUNK) / W_GROUP_SIZE];
  return s * (dot(i8x4(w.x), xs[0]) + dot(i8x4(w.y), xs[1]) + dot(i8x4(w.z), xs[2]) + dot(i8x4(w.w), xs[3]));
}
