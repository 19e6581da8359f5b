// Decode attention (one query row) split over the keys like attention_decode.wgsl's `split`, but
// one workgroup serves a KV head's whole group of query heads, so each key and value is read from
// memory once per group rather than once per query head (GQA: 4 times fewer bytes on Llama-3 and
// Mistral shapes), and there is no barrier while the keys stream.
//
// A workgroup takes SPLIT = 64 keys of one KV head. Its 128 invocations are KS key slots of
// GP * LANES: query head g of the group is LANES neighbouring lanes of one subgroup (`subgroups`
// feature), each lane holding 4 * DV of the head's dimensions (vec4s lane, lane + LANES, ...). A
// slot walks every KS-th key of the split with an online softmax (a score is the lanes' partial
// dot products summed by shuffles); the slots' partials then merge in workgroup memory into the
// same per-(head, split) record as attention_decode.wgsl's `split` (unnormalized o, max m, sum l),
// which its `combine` entry merges across splits.
// Prepended by attention.ts: `enable subgroups;`, STEP_WGSL, `const LANES: u32` (8, or 4 where
// subgroups are that small), `const DV: u32` (= HEAD_DIM / (4 * LANES)) and `const GP: u32` (the
// group size rounded up to a power of two; heads GROUP .. GP-1 of a slot compute but never write).
@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;        // [1, N_HEADS * HEAD_DIM / 4]
@group(0) @binding(1) var<storage, read> k_cache: array<vec4<f32>>;  // [maxCtx, KV_DIM / 4]
@group(0) @binding(2) var<storage, read> v_cache: array<vec4<f32>>;  // [maxCtx, KV_DIM / 4]
@group(0) @binding(4) var<uniform> step: Step;
@group(0) @binding(5) var<storage, read_write> parts: array<f32>;    // [N_HEADS, SPLITS, HEAD_DIM + 2]

override N_HEADS: u32;
override N_KV_HEADS: u32;
override WINDOW: u32 = 0u;  // 0: no window; else position p sees keys j with p - j < WINDOW
override SCALE: f32;
override SPLITS: u32;       // splits per head the scratch holds

const SPLIT: u32 = 64u;        // keys per split (SPLIT in attention_decode.wgsl)
const WG: u32 = 128u;
const D4: u32 = DV * LANES;    // vec4s per head
const GL: u32 = GP * LANES;    // invocations per key slot
const KS: u32 = WG / GL;       // key slots
const NEG_BIG: f32 = -3.0e38;

var<workgroup> om: array<f32, WG>;
var<workgroup> ol: array<f32, WG>;
var<workgroup> oo: array<vec4<f32>, WG * DV>;

fn first_key(p: u32) -> u32 {
  if (WINDOW > 0u && p + 1u > WINDOW) { return p + 1u - WINDOW; }
  return 0u;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let kvh = wid.x;
  let s = wid.y;
  let group = N_HEADS / N_KV_HEADS;
  let p = step.pos;
  let j0 = first_key(p) + s * SPLIT;
  let slot = t / GL;
  let g = (t % GL) / LANES;
  let lane = t % LANES;
  let head = kvh * group + min(g, group - 1u);
  let part = (head * SPLITS + s) * (D4 * 4u + 2u);
  let writer = g < group;
  if (j0 > p) {
    // A split past the last key: empty, so `combine` gives it zero weight.
    if (writer && slot == 0u && lane == 0u) {
      parts[part + D4 * 4u] = NEG_BIG;
      parts[part + D4 * 4u + 1u] = 0.0;
    }
    return;
  }

  var qv: array<vec4<f32>, DV>;
  var o: array<vec4<f32>, DV>;
  for (var i = 0u; i < DV; i++) {
    qv[i] = q[head * D4 + lane + LANES * i] * SCALE;
    o[i] = vec4<f32>(0.0);
  }
  let kv_base = kvh * D4;
  let kv_stride = N_KV_HEADS * D4;
  var m = NEG_BIG;
  var l = 0.0;
  for (var it = 0u; it < SPLIT / KS; it++) {
    let j = j0 + slot + it * KS;
    let live = j <= p;
    let at = min(j, p) * kv_stride + kv_base + lane;
    var sc = 0.0;
    for (var i = 0u; i < DV; i++) { sc += dot(qv[i], k_cache[at + LANES * i]); }
    for (var x = LANES / 2u; x > 0u; x >>= 1u) { sc += subgroupShuffleXor(sc, x); }
    if (live) {
      let m_new = max(m, sc);
      let alpha = exp(m - m_new);
      let pj = exp(sc - m_new);
      l = l * alpha + pj;
      m = m_new;
      for (var i = 0u; i < DV; i++) { o[i] = o[i] * alpha + pj * v_cache[at + LANES * i]; }
    }
  }

  // Merge the key slots: slot 0's lanes gather the others' partials of their head and dims.
  om[t] = m;
  ol[t] = l;
  for (var i = 0u; i < DV; i++) { oo[t * DV + i] = o[i]; }
  workgroupBarrier();
  if (slot == 0u && writer) {
    var mx = m;
    for (var k = 1u; k < KS; k++) { mx = max(mx, om[k * GL + t]); }
    var sum = 0.0;
    var acc: array<vec4<f32>, DV>;
    for (var i = 0u; i < DV; i++) { acc[i] = vec4<f32>(0.0); }
    for (var k = 0u; k < KS; k++) {
      let w = exp(om[k * GL + t] - mx);
      sum += ol[k * GL + t] * w;
      for (var i = 0u; i < DV; i++) { acc[i] += oo[(k * GL + t) * DV + i] * w; }
    }
    for (var i = 0u; i < DV; i++) {
      let b = part + 4u * (lane + LANES * i);
      parts[b] = acc[i].x;
      parts[b + 1u] = acc[i].y;
      parts[b + 2u] = acc[i].z;
      parts[b + 3u] = acc[i].w;
    }
    if (lane == 0u) {
      parts[part + D4 * 4u] = mx;
      parts[part + D4 * 4u + 1u] = sum;
    }
  }
}
