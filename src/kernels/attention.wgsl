// Causal grouped-query attention over the KV cache (f32 or f16: kv_k1 / kv_v1 of kv_cache.ts,
// prepended by attention.ts as bindings 1 and 2), optional sliding window. One workgroup per
// (query head, row); keys are streamed in tiles of WG with an online softmax, so workgroup memory
// stays bounded at any context length.
@group(0) @binding(0) var<storage, read> q: array<f32>;        // [rows, N_HEADS * HEAD_DIM]
// bindings 1, 2: k_cache, v_cache [sequences * maxCtx, N_KV_HEADS * HEAD_DIM]
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // [rows, N_HEADS * HEAD_DIM]
@group(0) @binding(4) var<uniform> step: Step;

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;
override WINDOW: u32 = 0u; // 0: no window; else row p sees keys j with p - j < WINDOW
override SCALE: f32;
override WG: u32 = 64u;    // power of two (tree reductions)
override KV_DIM: u32 = N_KV_HEADS * HEAD_DIM;
override GROUP: u32 = N_HEADS / N_KV_HEADS;

// Masked scores; finite so that m - m_new never becomes inf - inf.
const NEG_BIG: f32 = -3.0e38;

var<workgroup> qs: array<f32, HEAD_DIM>;
// Output accumulator; each invocation owns dims t, t + WG, ... (workgroup only because private
// arrays cannot be sized by an override).
var<workgroup> acc: array<f32, HEAD_DIM>;
var<workgroup> red: array<f32, WG>;
var<workgroup> probs: array<f32, WG>;

fn reduce_max(t: u32) -> f32 {
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (t < w) { red[t] = max(red[t], red[t + w]); }
    workgroupBarrier();
  }
  return red[0];
}

fn reduce_sum(t: u32) -> f32 {
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (t < w) { red[t] += red[t + w]; }
    workgroupBarrier();
  }
  return red[0];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let head = wid.x;
  let row = wid.y;
  if (row >= step.rows) { return; }
  // The row's position and where its sequence's keys start (STEP_ROWS_WGSL: a batched pass
  // holds rows of several sequences).
  let p = row_pos(row);
  let kv0 = row_kv(row) * KV_DIM;
  let q_base = (row * N_HEADS + head) * HEAD_DIM;
  let kv_off = (head / GROUP) * HEAD_DIM;

  for (var d = t; d < HEAD_DIM; d += WG) {
    qs[d] = q[q_base + d];
    acc[d] = 0.0;
  }
  workgroupBarrier();

  var lo = 0u;
  if (WINDOW > 0u && p + 1u > WINDOW) { lo = p + 1u - WINDOW; }

  var m = NEG_BIG; // running max, identical in every invocation
  var l = 0.0;     // this invocation's share of the softmax denominator, summed at the end
  for (var j0 = lo; j0 <= p; j0 += WG) {
    let j = j0 + t;
    let live = j <= p;
    var s = NEG_BIG;
    if (live) {
      let kb = kv0 + j * KV_DIM + kv_off;
      var dot = 0.0;
      for (var c = 0u; c < HEAD_DIM; c++) { dot += qs[c] * kv_k1(kb + c); }
      s = dot * SCALE;
    }
    red[t] = s;
    workgroupBarrier();
    let m_new = max(m, reduce_max(t));
    let alpha = exp(m - m_new);
    var pj = 0.0;
    if (live) { pj = exp(s - m_new); }
    probs[t] = pj;
    l = l * alpha + pj;
    m = m_new;
    workgroupBarrier(); // probs complete; everyone has read red[0]

    let n = min(WG, p + 1u - j0);
    for (var d = t; d < HEAD_DIM; d += WG) {
      var a = acc[d] * alpha;
      var vi = kv0 + j0 * KV_DIM + kv_off + d;
      for (var u = 0u; u < n; u++) {
        a += probs[u] * kv_v1(vi);
        vi += KV_DIM;
      }
      acc[d] = a;
    }
    workgroupBarrier(); // probs and red are rewritten by the next tile
  }

  red[t] = l;
  workgroupBarrier();
  let inv = 1.0 / reduce_sum(t);
  for (var d = t; d < HEAD_DIM; d += WG) {
    out[q_base + d] = acc[d] * inv;
  }
}
