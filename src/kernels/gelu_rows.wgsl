// out[i] = gelu(x[i]) over [rows, DIM]. Prepended by gelu.ts: gelu.wgsl.
// Grid: x = blocks of WG columns, y = row (as silu_mul.wgsl).
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

override DIM: u32;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= DIM) { return; }
  let i = g.y * DIM + g.x;
  out[i] = gelu(x[i]);
}
