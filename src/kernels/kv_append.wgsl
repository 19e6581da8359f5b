// Appends this pass's keys and values to one layer's cache: cache[row_kv(i) + row_pos(i)] = new[i]
// (position step.pos + i of the sequence at the start of the cache, unless the pass is batched).
// Each invocation writes a pair of neighbouring values (one u32 of an f16 cache).
// Prepended by kv_append.ts: STEP_ROWS_WGSL and the cache's bindings 2, 3 (kv_cache.ts).
@group(0) @binding(0) var<storage, read> k: array<f32>;              // [rows, KV_DIM]
@group(0) @binding(1) var<storage, read> v: array<f32>;              // [rows, KV_DIM]
@group(0) @binding(4) var<uniform> step: Step;

override KV_DIM: u32;
override MAX_CTX: u32;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = wid.y;
  let c = 2u * (wid.x * WG + t);
  let p = row_pos(row);
  // Past MAX_CTX robust access would clamp the write onto the last cache row and corrupt it.
  if (row >= step.rows || c >= KV_DIM || p >= MAX_CTX) { return; }
  let src = row * KV_DIM + c;
  let dst = (row_kv(row) + p) * KV_DIM + c;
  if (c + 1u < KV_DIM) {
    kv_put_k(dst, vec2<f32>(k[src], k[src + 1u]));
    kv_put_v(dst, vec2<f32>(v[src], v[src + 1u]));
  } else {
    kv_put1_k(dst, k[src]);
    kv_put1_v(dst, v[src]);
  }
}
