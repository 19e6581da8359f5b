// Learned absolute positions (GPT-2): x[r, :] += table[row_pos(r), :] (step.pos + r unless the pass
// is batched), after the token embedding.
@group(0) @binding(0) var<storage, read_write> x: array<f32>;  // [rows, DIM]
@group(0) @binding(1) var<storage, read> table: array<f32>;    // [POSITIONS, DIM]
@group(0) @binding(2) var<uniform> step: Step;

override DIM: u32;
override POSITIONS: u32;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = wid.y;
  let c = wid.x * WG + t;
  let p = row_pos(row);
  // Past the table the engine refuses the prompt first (its context is capped by it); never read outside.
  if (row >= step.rows || c >= DIM || p >= POSITIONS) { return; }
  x[row * DIM + c] += table[p * DIM + c];
}
