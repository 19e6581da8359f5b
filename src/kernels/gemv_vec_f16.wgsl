// 16-byte weight reader for matmul_gemv_vec.wgsl, f16 format: 8 halves per load, unpacked with
// unpack2x16float (no `shader-f16` needed). Needs W_STRIDE % 4 == 0 (K % 8 == 0).
@group(0) @binding(0) var<storage, read> W: array<vec4<u32>>;
override W_STRIDE: u32; // u32 words per row
const CHUNK: u32 = 8u;
alias XChunk = mat2x4<f32>; // the 8 x values one load of W meets

fn load_x(j: u32) -> XChunk {
  return XChunk(X[2u * j], X[2u * j + 1u]);
}

fn chunk_dot(row: u32, j: u32, xs: XChunk) -> f32 {
  let w = W[row * (W_STRIDE / 4u) + j];
  let lo = vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
  let hi = vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
  return dot(lo, xs[0]) + dot(hi, xs[1]);
}
