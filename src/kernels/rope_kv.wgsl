// RoPE on q and k and the KV append in one dispatch, for passes over rows (prefill, a batched
// decode step): the work of rope.wgsl on q, rope.wgsl on k and kv_append.wgsl, with the same
// arithmetic (tests/gpu/rope_kv.test.ts finds the same bits in q and the cache on SwiftShader; k
// itself is left unrotated: only the cache is read after this).
// One invocation per row (wid.y) and i over N_HEADS * HALF + N_KV_HEADS * HALF / 2:
//   i < N_HEADS * HALF: q's pair (d, d + HALF) of a head, rotated in place (as rope.wgsl);
//   past it: k's dims d, d + 1 and d + HALF, d + HALF + 1 of a KV head (d even), rotated and
//   written to the cache with v's same four values as two neighbouring pairs each (kv_put_*: one
//   u32 of an f16 cache). Needs HEAD_DIM a multiple of 4.
// Prepended by rope_kv.ts: STEP_ROWS_WGSL (row_pos, row_kv), sincos.wgsl and the cache's bindings
// 3, 4 (kv_cache.ts).
@group(0) @binding(0) var<storage, read_write> q: array<f32>;  // [rows, N_HEADS * HEAD_DIM]
@group(0) @binding(1) var<storage, read> k: array<f32>;        // [rows, KV_DIM]
@group(0) @binding(2) var<storage, read> v: array<f32>;        // [rows, KV_DIM]
@group(0) @binding(5) var<storage, read> inv_freq: array<f32>; // [HALF]
@group(0) @binding(6) var<uniform> step: Step;

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;
override MAX_CTX: u32;
override WG: u32 = 64u;
override HALF: u32 = HEAD_DIM / 2u;
override KV_DIM: u32 = N_KV_HEADS * HEAD_DIM;

fn rotate(a: f32, b: f32, sc: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(a * sc.y - b * sc.x, b * sc.y + a * sc.x);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = wid.y;
  let i = wid.x * WG + t;
  if (row >= step.rows) { return; }
  // HF forms the angle as one f32 product (position * inv_freq), so do the same.
  let pos = f32(row_pos(row));
  let nq = N_HEADS * HALF;
  if (i < nq) {
    let head = i / HALF;
    let d = i - head * HALF;
    let sc = sincos(pos * inv_freq[d]);
    let base = row * N_HEADS * HEAD_DIM + head * HEAD_DIM + d;
    let r = rotate(q[base], q[base + HALF], sc);
    q[base] = r.x;
    q[base + HALF] = r.y;
    return;
  }
  let quarter = HALF / 2u;
  let j = i - nq;
  let p = row_pos(row);
  // Past MAX_CTX robust access would clamp the write onto the last cache row and corrupt it.
  if (j >= N_KV_HEADS * quarter || p >= MAX_CTX) { return; }
  let head = j / quarter;
  let d = 2u * (j - head * quarter);
  let src = row * KV_DIM + head * HEAD_DIM + d;
  let dst = (row_kv(row) + p) * KV_DIM + head * HEAD_DIM + d;
  let s0 = sincos(pos * inv_freq[d]);
  let s1 = sincos(pos * inv_freq[d + 1u]);
  let r0 = rotate(k[src], k[src + HALF], s0);
  let r1 = rotate(k[src + 1u], k[src + HALF + 1u], s1);
  kv_put_k(dst, vec2<f32>(r0.x, r1.x));
  kv_put_k(dst + HALF, vec2<f32>(r0.y, r1.y));
  kv_put_v(dst, vec2<f32>(v[src], v[src + 1u]));
  kv_put_v(dst + HALF, vec2<f32>(v[src + HALF], v[src + HALF + 1u]));
}
