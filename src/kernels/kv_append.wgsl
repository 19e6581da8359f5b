// Appends this pass's keys and values to one layer's cache: cache[row_kv(i) + row_pos(i)] = new[i]
// (position step.pos + i of the sequence at the start of the cache, unless the pass is batched).
@group(0) @binding(0) var<storage, read> k: array<f32>;              // [rows, KV_DIM]
@group(0) @binding(1) var<storage, read> v: array<f32>;              // [rows, KV_DIM]
@group(0) @binding(2) var<storage, read_write> k_cache: array<f32>;  // [sequences * MAX_CTX, KV_DIM]
@group(0) @binding(3) var<storage, read_write> v_cache: array<f32>;  // [sequences * MAX_CTX, KV_DIM]
@group(0) @binding(4) var<uniform> step: Step;

override KV_DIM: u32;
override MAX_CTX: u32;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = wid.y;
  let c = wid.x * WG + t;
  let p = row_pos(row);
  // Past MAX_CTX robust access would clamp the write onto the last cache row and corrupt it.
  if (row >= step.rows || c >= KV_DIM || p >= MAX_CTX) { return; }
  let src = row * KV_DIM + c;
  let dst = (row_kv(row) + p) * KV_DIM + c;
  k_cache[dst] = k[src];
  v_cache[dst] = v[src];
}
