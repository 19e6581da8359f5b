// 16-byte weight reader for matmul_gemv_vec.wgsl, f32 format: 4 weights per load.
@group(0) @binding(0) var<storage, read> W: array<vec4<f32>>;
override W_STRIDE: u32; // floats per row (multiple of 4)
const CHUNK: u32 = 4u;
alias XChunk = vec4<f32>; // the x values one load of W meets

fn load_x(j: u32) -> XChunk {
  return X[j];
}

fn chunk_dot(row: u32, j: u32, xs: XChunk) -> f32 {
  return dot(W[row * (W_STRIDE / 4u) + j], xs);
}
