// Decode attention (one query row) split over the keys, flash-decoding style. The single-pass
// kernel (attention.wgsl) gives a decode step only nHeads workgroups that each walk the whole
// context; here entry `split` gives every (head, 64-key split) its own workgroup, which writes a
// partial result (its max m, its softmax sum l and its unnormalized output o) to a scratch
// buffer, and entry `combine` merges the splits of each head: out = sum_s o_s e^(m_s - M) / L.
@group(0) @binding(0) var<storage, read> q: array<f32>;              // [1, N_HEADS * HEAD_DIM]
@group(0) @binding(1) var<storage, read> k_cache: array<vec4<f32>>;  // [maxCtx, KV_DIM / 4]
@group(0) @binding(2) var<storage, read> v_cache: array<f32>;        // [maxCtx, KV_DIM]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;      // [1, N_HEADS * HEAD_DIM]
@group(0) @binding(4) var<uniform> step: Step;
@group(0) @binding(5) var<storage, read_write> parts: array<f32>;    // [N_HEADS, SPLITS, HEAD_DIM + 2]

override N_HEADS: u32;
override N_KV_HEADS: u32;
override HEAD_DIM: u32;     // multiple of 4
override WINDOW: u32 = 0u;  // 0: no window; else position p sees keys j with p - j < WINDOW
override SCALE: f32;
override SPLITS: u32;       // splits per head the scratch holds (dispatch size)
const SPLIT: u32 = 64u;     // keys per split = invocations per workgroup
override KV_DIM: u32 = N_KV_HEADS * HEAD_DIM;
override GROUP: u32 = N_HEADS / N_KV_HEADS;
override PART: u32 = HEAD_DIM + 2u;

const NEG_BIG: f32 = -3.0e38;

var<workgroup> qs: array<vec4<f32>, 64>; // HEAD_DIM / 4 <= 64
var<workgroup> red: array<f32, SPLIT>;
var<workgroup> probs: array<f32, SPLIT>;

// First visible key of the query at position p.
fn first_key(p: u32) -> u32 {
  if (WINDOW > 0u && p + 1u > WINDOW) { return p + 1u - WINDOW; }
  return 0u;
}

@compute @workgroup_size(SPLIT)
fn split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let head = wid.x;
  let s = wid.y;
  let p = step.pos;
  let j0 = first_key(p) + s * SPLIT;
  let part = (head * SPLITS + s) * PART;
  if (j0 > p) {
    // A split past the last key: empty, so `combine` gives it zero weight.
    if (t == 0u) {
      parts[part + HEAD_DIM] = NEG_BIG;
      parts[part + HEAD_DIM + 1u] = 0.0;
    }
    return;
  }
  let d4 = HEAD_DIM / 4u;
  if (t < d4) {
    let qb = head * HEAD_DIM + 4u * t;
    qs[t] = vec4<f32>(q[qb], q[qb + 1u], q[qb + 2u], q[qb + 3u]);
  }
  workgroupBarrier();

  let kv_off = (head / GROUP) * HEAD_DIM;
  let j = j0 + t;
  var score = NEG_BIG;
  if (j <= p) {
    let kb = (j * KV_DIM + kv_off) / 4u;
    var acc = vec4<f32>(0.0);
    for (var c = 0u; c < d4; c++) { acc += qs[c] * k_cache[kb + c]; }
    score = (acc.x + acc.y + acc.z + acc.w) * SCALE;
  }
  red[t] = score;
  workgroupBarrier();
  for (var w = SPLIT / 2u; w > 0u; w >>= 1u) {
    if (t < w) { red[t] = max(red[t], red[t + w]); }
    workgroupBarrier();
  }
  let m = red[0];
  workgroupBarrier(); // everyone has read the max before red is reused
  var pj = 0.0;
  if (j <= p) { pj = exp(score - m); }
  probs[t] = pj;
  red[t] = pj;
  workgroupBarrier();
  for (var w = SPLIT / 2u; w > 0u; w >>= 1u) {
    if (t < w) { red[t] += red[t + w]; }
    workgroupBarrier();
  }
  let n = min(SPLIT, p + 1u - j0);
  for (var d = t; d < HEAD_DIM; d += SPLIT) {
    var a = 0.0;
    var vi = j0 * KV_DIM + kv_off + d;
    for (var u = 0u; u < n; u++) {
      a += probs[u] * v_cache[vi];
      vi += KV_DIM;
    }
    parts[part + d] = a;
  }
  if (t == 0u) {
    parts[part + HEAD_DIM] = m;
    parts[part + HEAD_DIM + 1u] = red[0];
  }
}

@compute @workgroup_size(64)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let head = wid.x;
  let p = step.pos;
  let live = (p - first_key(p)) / SPLIT + 1u;
  let base = head * SPLITS * PART;
  var mx = NEG_BIG;
  for (var s = 0u; s < live; s++) { mx = max(mx, parts[base + s * PART + HEAD_DIM]); }
  var l = 0.0;
  for (var s = 0u; s < live; s++) {
    l += parts[base + s * PART + HEAD_DIM + 1u] * exp(parts[base + s * PART + HEAD_DIM] - mx);
  }
  let inv = 1.0 / l;
  for (var d = t; d < HEAD_DIM; d += 64u) {
    var o = 0.0;
    for (var s = 0u; s < live; s++) {
      o += parts[base + s * PART + d] * exp(parts[base + s * PART + HEAD_DIM] - mx);
    }
    out[head * HEAD_DIM + d] = o * inv;
  }
}
