// Decode attention split over the keys, flash-decoding style: one query row, or (BATCHED) one row
// per sequence of a batched decode step, each at its own position and cache region (the step's row
// table; wid.z is the row). The single-pass
// kernel (attention.wgsl) gives a decode step only nHeads workgroups that each walk the whole
// context; here entry `split` gives every (head, 64-key split) its own workgroup, which writes a
// partial result (its max m, its softmax sum l and its unnormalized output o) to a scratch
// buffer, and entry `combine` merges the splits of each head: out = sum_s o_s e^(m_s - M) / L.
//
// A split is latency-bound (a few KB of keys and values), so its 64 * LANES invocations share
// every row: LANES lanes per key for q.k (up to 4 for heads of 64+ dims, each a quarter of the
// head), and for the weighted sum of values each lane owns 4 dims of a few keys; every lane's
// chain of dependent loads stays short.
@group(0) @binding(0) var<storage, read> q: array<f32>;              // [rows, N_HEADS * HEAD_DIM]
// bindings 1, 2: k_cache, v_cache [maxCtx, KV_DIM] read as vec4s (kv_k4 / kv_v4, kv_cache.ts)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;      // [rows, N_HEADS * HEAD_DIM]
@group(0) @binding(4) var<uniform> step: Step;
@group(0) @binding(5) var<storage, read_write> parts: array<f32>;    // [rows, N_HEADS, SPLITS, HEAD_DIM + 2]

override N_KV_HEADS: u32;
override SCALE: f32;
override LANES: u32 = 4u;   // lanes per key in q.k: 1, 2 or 4
override WG: u32 = SPLIT * LANES; // invocations per split workgroup
override KV_DIM: u32 = N_KV_HEADS * HEAD_DIM;
override GROUP: u32 = N_HEADS / N_KV_HEADS;
// (N_HEADS, HEAD_DIM, WINDOW, SPLITS, SPLIT, PART: attention_parts.wgsl, prepended)

var<workgroup> qs: array<vec4<f32>, 64>; // HEAD_DIM / 4 <= 64
var<workgroup> red: array<f32, WG>;
var<workgroup> probs: array<f32, SPLIT>;
var<workgroup> vsum: array<vec4<f32>, WG>;

// Tree reduction of red[0 .. SPLIT) by max or sum; everyone gets red[0] back.
fn reduce_split(t: u32, use_max: bool) -> f32 {
  for (var w = SPLIT / 2u; w > 0u; w >>= 1u) {
    if (t < w) {
      if (use_max) { red[t] = max(red[t], red[t + w]); } else { red[t] += red[t + w]; }
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // everyone has read it before red is reused
  return r;
}

@compute @workgroup_size(WG)
fn split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let head = wid.x;
  let s = wid.y;
  let r = wid.z;
  let p = row_pos(r);
  let j0 = first_key(p) + s * SPLIT;
  let rh = r * N_HEADS + head;
  let part = parts_base(r, head) + s * PART;
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
    let qb = rh * HEAD_DIM + 4u * t;
    qs[t] = vec4<f32>(q[qb], q[qb + 1u], q[qb + 2u], q[qb + 3u]);
  }
  workgroupBarrier();

  // q.k: lane l of key kk sums dims 4c for c = l, l + LANES, ...; the LANES partials add up next.
  let kv_off = (head / GROUP) * HEAD_DIM;
  let kk = t / LANES;
  let lane = t % LANES;
  let jk = j0 + kk;
  var acc = vec4<f32>(0.0);
  if (jk <= p) {
    let kb = ((row_kv(r) + jk) * KV_DIM + kv_off) / 4u;
    for (var c = lane; c < d4; c += LANES) { acc += qs[c] * kv_k4(kb + c); }
  }
  red[t] = acc.x + acc.y + acc.z + acc.w;
  workgroupBarrier();
  var score = NEG_BIG;
  let j = j0 + t;
  if (t < SPLIT && j <= p) {
    var d = 0.0;
    for (var l = 0u; l < LANES; l++) { d += red[t * LANES + l]; }
    score = d * SCALE;
  }
  workgroupBarrier(); // the partials are read before red holds scores
  if (t < SPLIT) { red[t] = score; }
  workgroupBarrier();
  let m = reduce_split(t, true);
  var pj = 0.0;
  if (t < SPLIT && j <= p) { pj = exp(score - m); }
  if (t < SPLIT) {
    probs[t] = pj;
    red[t] = pj;
  }
  workgroupBarrier();
  let l = reduce_split(t, false);

  // Weighted sum of the values: lane t owns 4 dims (column c) of every `groups`-th key from kg,
  // with 16-byte reads; the partial sums of a column then add up in workgroup memory.
  let n = min(SPLIT, p + 1u - j0);
  let c = t % d4;
  let kg = t / d4;
  let groups = WG / d4;
  var a = vec4<f32>(0.0);
  if (kg < groups) {
    for (var u = kg; u < n; u += groups) {
      a += probs[u] * kv_v4(((row_kv(r) + j0 + u) * KV_DIM + kv_off) / 4u + c);
    }
  }
  vsum[t] = a;
  workgroupBarrier();
  if (t < d4) {
    var o = vec4<f32>(0.0);
    for (var g = 0u; g < groups; g++) { o += vsum[g * d4 + t]; }
    let b = part + 4u * t;
    parts[b] = o.x;
    parts[b + 1u] = o.y;
    parts[b + 2u] = o.z;
    parts[b + 3u] = o.w;
  }
  if (t == 0u) {
    parts[part + HEAD_DIM] = m;
    parts[part + HEAD_DIM + 1u] = l;
  }
}

// Combine: 256 invocations per head, so that no invocation walks the splits one dependent load
// after another (a loop over 30 splits at a 1,900-token context made this the slow half): the
// splits' maxima and sums reduce across the workgroup, each split's weight e^(m_s - M) goes to
// workgroup memory, and CG invocations share each output dimension, each summing every CG-th split.
const CWG: u32 = 256u;
override CG: u32 = max(1u, CWG / HEAD_DIM); // invocations per output dimension
var<workgroup> cred: array<f32, CWG>;
var<workgroup> wts: array<f32, SPLITS>;

fn combine_reduce(t: u32, use_max: bool) -> f32 {
  for (var w = CWG / 2u; w > 0u; w >>= 1u) {
    if (t < w) {
      if (use_max) { cred[t] = max(cred[t], cred[t + w]); } else { cred[t] += cred[t + w]; }
    }
    workgroupBarrier();
  }
  let r = cred[0];
  workgroupBarrier(); // everyone has read it before cred is reused
  return r;
}

@compute @workgroup_size(CWG)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let head = wid.x;
  let rh = wid.y * N_HEADS + head;
  let p = row_pos(wid.y);
  let live = live_splits(p);
  let base = parts_base(wid.y, head);
  var mx = NEG_BIG;
  for (var s = t; s < live; s += CWG) { mx = max(mx, parts[base + s * PART + HEAD_DIM]); }
  cred[t] = mx;
  workgroupBarrier();
  let m = combine_reduce(t, true);
  var l = 0.0;
  for (var s = t; s < live; s += CWG) {
    let w = exp(parts[base + s * PART + HEAD_DIM] - m);
    wts[s] = w;
    l += parts[base + s * PART + HEAD_DIM + 1u] * w;
  }
  cred[t] = l;
  workgroupBarrier(); // also publishes wts
  let inv = 1.0 / combine_reduce(t, false);
  // Invocation t sums dimension d over the splits g, g + CG, ...; the CG partials add up after.
  let d = t % HEAD_DIM;
  let g = t / HEAD_DIM;
  var o = 0.0;
  if (g < CG) {
    for (var s = g; s < live; s += CG) { o += wts[s] * parts[base + s * PART + d]; }
  }
  cred[t] = o;
  workgroupBarrier();
  if (t < HEAD_DIM) {
    var sum = 0.0;
    for (var k = 0u; k < CG; k++) { sum += cred[k * HEAD_DIM + t]; }
    out[rh * HEAD_DIM + t] = sum * inv;
  }
}
