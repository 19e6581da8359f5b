// Causal grouped-query attention for a prompt on GPUs (one sequence, rows at positions step.pos +
// row): a workgroup takes BQ = 256 / LANES consecutive query rows of one head (32 with 8 lanes), and
// streams the keys they can see through workgroup memory in tiles of BK = 16 keys (K and V of the
// tile, loaded once for all its rows, where attention.wgsl reads every key from memory once per
// row). Each row is LANES neighbouring lanes of one subgroup (`subgroups` feature); a lane holds
// 4 * DV of the head's dimensions (vec4s lane, lane + LANES, ...) of q and of the output. A score is
// the lanes' partial dot products summed by log2(LANES) shuffles; the softmax is online (running max
// and sum per row), so any context length runs in bounded memory.
// Prepended by attention.ts: `enable subgroups;`, STEP_WGSL, `const LANES: u32` (8, or 4 where
// subgroups are that small), `const DV: u32` (= HEAD_DIM / (4 * LANES)) and the cache's bindings.
@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;        // [rows, N_HEADS * HEAD_DIM / 4]
// bindings 1, 2: k_cache, v_cache [maxCtx, KV_DIM] read as vec4s (kv_k4 / kv_v4, kv_cache.ts)
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>; // [rows, N_HEADS * HEAD_DIM / 4]
@group(0) @binding(4) var<uniform> step: Step;

override N_HEADS: u32;
override N_KV_HEADS: u32;
override WINDOW: u32 = 0u; // 0: no window; else row p sees keys j with p - j < WINDOW
override SCALE: f32;

const BQ: u32 = 256u / LANES;    // query rows per workgroup
const BK: u32 = 16u;             // keys per tile
const D4: u32 = DV * LANES;      // vec4s per head
const NEG_BIG: f32 = -3.0e38;    // masked score; finite so that m - m_new never becomes inf - inf

var<workgroup> ks: array<vec4<f32>, BK * D4>;
var<workgroup> vs: array<vec4<f32>, BK * D4>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let head = wid.x;
  let rb = t / LANES;
  let lane = t % LANES;
  let row = wid.y * BQ + rb;
  let valid = row < step.rows;
  let p = step.pos + row;
  let kv_off = (head / (N_HEADS / N_KV_HEADS)) * D4; // in vec4s
  let kv_stride = N_KV_HEADS * D4;

  // Keys the block can see: up to its last row's position, from its first row's window start.
  let first = step.pos + wid.y * BQ;
  let last = step.pos + min(step.rows, wid.y * BQ + BQ) - 1u;
  var lo = 0u;
  if (WINDOW > 0u && first + 1u > WINDOW) { lo = first + 1u - WINDOW; }
  var row_lo = 0u;
  if (WINDOW > 0u && p + 1u > WINDOW) { row_lo = p + 1u - WINDOW; }

  var qv: array<vec4<f32>, DV>;
  var o: array<vec4<f32>, DV>;
  let qb = (min(row, step.rows - 1u) * N_HEADS + head) * D4;
  for (var i = 0u; i < DV; i++) {
    qv[i] = q[qb + lane + LANES * i] * SCALE;
    o[i] = vec4<f32>(0.0);
  }
  var m = NEG_BIG;
  var l = 0.0;

  for (var j0 = lo; j0 <= last; j0 += BK) {
    for (var i = t; i < BK * D4; i += 256u) {
      let j = j0 + i / D4;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (j <= last) {
        let at = j * kv_stride + kv_off + i % D4;
        kv = kv_k4(at);
        vv = kv_v4(at);
      }
      ks[i] = kv;
      vs[i] = vv;
    }
    workgroupBarrier();

    for (var jj = 0u; jj < BK; jj++) {
      var s = 0.0;
      for (var i = 0u; i < DV; i++) { s += dot(qv[i], ks[jj * D4 + lane + LANES * i]); }
      for (var x = LANES / 2u; x > 0u; x >>= 1u) { s += subgroupShuffleXor(s, x); }
      let j = j0 + jj;
      if (valid && j <= p && j >= row_lo) {
        let m_new = max(m, s);
        let alpha = exp(m - m_new);
        let pj = exp(s - m_new);
        l = l * alpha + pj;
        m = m_new;
        for (var i = 0u; i < DV; i++) { o[i] = o[i] * alpha + pj * vs[jj * D4 + lane + LANES * i]; }
      }
    }
    workgroupBarrier(); // the next tile overwrites ks and vs
  }

  if (valid) {
    let inv = 1.0 / l;
    let ob = (row * N_HEADS + head) * D4;
    for (var i = 0u; i < DV; i++) { out[ob + lane + LANES * i] = o[i] * inv; }
  }
}
