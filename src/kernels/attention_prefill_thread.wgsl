// Prefill attention (many query rows) for software adapters (SwiftShader), with no workgroup memory
// and no barrier: attention.wgsl's workgroup per (head, row) pays two tree reductions of barriers
// per 64-key tile, and on SwiftShader a barrier is a coroutine switch per SIMD group, which made a
// 256-token prefill of a 260K-parameter model spend 1.5 s here. One invocation per (row, query
// head) instead walks its visible keys with an online softmax held in private registers (the head
// in 16-byte words, at most MAX_D4 of them). Lanes of a SIMD group share the row (and so the loop
// length) and differ by head. Same computation as attention.wgsl; both tested against the plain-TS
// reference.
@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;          // [rows, N_HEADS * HEAD_DIM / 4]
// bindings 1, 2: k_cache, v_cache [sequences * maxCtx, KV_DIM] read as vec4s (kv_k4 / kv_v4, kv_cache.ts)
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;  // [rows, N_HEADS * HEAD_DIM / 4]
@group(0) @binding(4) var<uniform> step: Step;

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;     // multiple of 4, at most 4 * MAX_D4
override WINDOW: u32 = 0u;  // 0: no window; else position p sees keys j with p - j < WINDOW
override SCALE: f32;
override WG: u32 = 4u;
override D4: u32 = HEAD_DIM / 4u;
override KV_D4: u32 = N_KV_HEADS * D4;
override GROUP: u32 = N_HEADS / N_KV_HEADS;

const MAX_D4: u32 = 64u; // head_dim 256

// Dispatch: (ceil(rows * N_HEADS / WG)).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let row = i / N_HEADS;
  if (row >= step.rows) { return; }
  let h = i % N_HEADS;
  let p = row_pos(row);
  let kv0 = row_kv(row) * KV_D4; // where the row's sequence's keys start (a batched pass)
  var j0 = 0u;
  if (WINDOW > 0u && p + 1u > WINDOW) { j0 = p + 1u - WINDOW; }
  let qb = (row * N_HEADS + h) * D4;
  let kvb = kv0 + (h / GROUP) * D4;

  var qv: array<vec4<f32>, MAX_D4>;
  var o: array<vec4<f32>, MAX_D4>;
  for (var c = 0u; c < D4; c++) {
    qv[c] = q[qb + c] * SCALE;
    o[c] = vec4<f32>(0.0);
  }
  // Online softmax: m the running max, l the running sum of e^(s - m), o the weighted values.
  var m = -3.0e38;
  var l = 0.0;
  for (var j = j0; j <= p; j++) {
    let kb = j * KV_D4 + kvb;
    var acc = vec4<f32>(0.0);
    for (var c = 0u; c < D4; c++) { acc += qv[c] * kv_k4(kb + c); }
    let s = acc.x + acc.y + acc.z + acc.w;
    if (s > m) {
      let r = exp(m - s);
      l *= r;
      for (var c = 0u; c < D4; c++) { o[c] *= r; }
      m = s;
    }
    let e = exp(s - m);
    l += e;
    for (var c = 0u; c < D4; c++) { o[c] += e * kv_v4(kb + c); }
  }
  let inv = 1.0 / l;
  for (var c = 0u; c < D4; c++) { out[qb + c] = o[c] * inv; }
}
