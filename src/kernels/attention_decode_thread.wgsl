// Decode attention (one query row) for software adapters (SwiftShader), with no workgroup memory
// and no barrier: there a barrier is a coroutine switch per 4 invocations and every storage load
// a per-lane gather, so the work is laid out to read each key and value once per KV head.
//   entry `scores`: one invocation per (KV head, visible key j) computes q.k for the GROUP query
//     heads that share that KV head and writes them to the scratch `scores`;
//   entry `values`: one invocation per (KV head, 4 dims) runs an online softmax over those scores
//     for each query head of the group and sums the values of its 4 dims.
// attention_decode.wgsl (the split kernel for GPUs) is the same computation; both are tested
// against the plain-TS reference.
@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;          // [N_HEADS * HEAD_DIM / 4]
// bindings 1, 2: k_cache, v_cache [maxCtx, KV_DIM] read as vec4s (kv_k4 / kv_v4, kv_cache.ts)
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;  // [N_HEADS * HEAD_DIM / 4]
@group(0) @binding(4) var<uniform> step: Step;
@group(0) @binding(5) var<storage, read_write> scores: array<f32>;     // [N_HEADS, MAX_CTX]

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;     // multiple of 4
override WINDOW: u32 = 0u;  // 0: no window; else position p sees keys j with p - j < WINDOW
override SCALE: f32;
override MAX_CTX: u32;
override WG: u32 = 16u;
override D4: u32 = HEAD_DIM / 4u;
override KV_D4: u32 = N_KV_HEADS * D4;
override GROUP: u32 = N_HEADS / N_KV_HEADS;

fn first_key(p: u32) -> u32 {
  if (WINDOW > 0u && p + 1u > WINDOW) { return p + 1u - WINDOW; }
  return 0u;
}

// Dispatch: (ceil(visible keys / WG), N_KV_HEADS).
@compute @workgroup_size(WG)
fn scores_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = step.pos;
  let j = first_key(p) + gid.x;
  if (j > p) { return; }
  let kvh = gid.y;
  let kb = j * KV_D4 + kvh * D4;
  for (var g = 0u; g < GROUP; g++) {
    let h = kvh * GROUP + g;
    var acc = vec4<f32>(0.0);
    for (var c = 0u; c < D4; c++) { acc += q[h * D4 + c] * kv_k4(kb + c); }
    scores[h * MAX_CTX + j] = (acc.x + acc.y + acc.z + acc.w) * SCALE;
  }
}

// Dispatch: (ceil(D4 / 4), N_KV_HEADS): workgroups of one SIMD register, so that even a small
// head is spread over every CPU core.
@compute @workgroup_size(4)
fn values_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= D4) { return; }
  let kvh = gid.y;
  let p = step.pos;
  let j0 = first_key(p);
  for (var g = 0u; g < GROUP; g++) {
    let h = kvh * GROUP + g;
    // Online softmax: m the running max, l the running sum of e^(s - m), o the weighted values.
    var m = scores[h * MAX_CTX + j0];
    var l = 0.0;
    var o = vec4<f32>(0.0);
    for (var j = j0; j <= p; j++) {
      let s = scores[h * MAX_CTX + j];
      if (s > m) {
        let r = exp(m - s);
        l *= r;
        o *= r;
        m = s;
      }
      let e = exp(s - m);
      l += e;
      o += e * kv_v4(j * KV_D4 + kvh * D4 + c);
    }
    out[h * D4 + c] = o / l;
  }
}
