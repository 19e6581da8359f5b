// Rotary position embedding, HF Llama convention (rotate_half): inside each head, element d pairs
// with d + HALF. Rotates x in place. One invocation per (row, head, d < HALF).
// Prepended by rope.ts: STEP_ROWS_WGSL (row_pos: a row's position) and sincos.wgsl.
@group(0) @binding(0) var<storage, read_write> x: array<f32>;  // [rows, N_HEADS * HEAD_DIM]
@group(0) @binding(1) var<storage, read> inv_freq: array<f32>; // [HALF]
@group(0) @binding(2) var<uniform> step: Step;

override N_HEADS: u32;
override HEAD_DIM: u32;
override WG: u32 = 64u;
override HALF: u32 = HEAD_DIM / 2u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = wid.y;
  let i = wid.x * WG + t; // over N_HEADS * HALF
  if (row >= step.rows || i >= N_HEADS * HALF) { return; }
  let head = i / HALF;
  let d = i - head * HALF;
  // HF forms the angle as one f32 product (position * inv_freq), so do the same.
  let angle = f32(row_pos(row)) * inv_freq[d];
  let sc = sincos(angle);
  let base = row * N_HEADS * HEAD_DIM + head * HEAD_DIM + d;
  let a = x[base];
  let b = x[base + HALF];
  x[base] = a * sc.y - b * sc.x;
  x[base + HALF] = b * sc.y + a * sc.x;
}
