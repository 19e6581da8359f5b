// Row layout for matmul_gemv_vec.wgsl over the stacked gate/up projection [2*I, D] at decode, with
// the SwiGLU product fused into the epilogue: unit u covers gate rows i, i+1 and up rows i, i+1
// (i = 2u), so the thread that finishes it writes act[i] = silu(gate_i) * up_i and act[i+1].
// Prepended by gemv_gate_up.ts: silu.wgsl and the bias snippet.
@group(0) @binding(3) var<storage, read_write> Y: array<f32>; // [I] activations
override I_DIM: u32; // even
override UNITS: u32 = I_DIM / 2u;

fn unit_rows(u: u32) -> vec4<u32> {
  let i = 2u * u;
  return vec4<u32>(i, I_DIM + i, i + 1u, I_DIM + i + 1u);
}

fn store_unit(u: u32, v: vec4<f32>) {
  let rows = unit_rows(u);
  let y = v + vec4<f32>(bias(rows.x), bias(rows.y), bias(rows.z), bias(rows.w));
  Y[rows.x] = silu(y.x) * y.y;
  Y[rows.z] = silu(y.z) * y.w;
}
