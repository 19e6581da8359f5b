// SwiGLU gate: out[i] = silu(gate[i]) * up[i] over [rows, DIM]. Prepended by silu_mul.ts: silu.wgsl.
// Grid: x = blocks of WG columns, y = row, so rows * DIM up to 2048 * 14336 stays far inside the
// 65,535-workgroups-per-dimension limit without any index folding.
@group(0) @binding(0) var<storage, read> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override DIM: u32;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= DIM) { return; }
  let i = g.y * DIM + g.x;
  out[i] = silu(gate[i]) * up[i];
}
