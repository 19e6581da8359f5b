// Residual add in place: a[i] += b[i] over [rows, DIM].
// Grid: x = blocks of WG columns, y = row (see silu_mul.wgsl for why 2-D).
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;

override DIM: u32;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= DIM) { return; }
  let i = g.y * DIM + g.x;
  a[i] = a[i] + b[i];
}
