// Input form of quantize_rows.wgsl that folds decode attention's `combine` (attention_decode.wgsl)
// into the quantizer of o_proj's input: x is read from the splits' partial results (the layout of
// attention_parts.wgsl, prepended with STEP_ROWS_WGSL) and merged on the way in,
//   x[r, h * HEAD_DIM + d] = sum_s o_s[d] e^(m_s - M) / L,  M = max_s m_s,  L = sum_s l_s e^(m_s - M),
// over the live splits of row r's position. A chunk of the quantizer (4 * WG columns) holds whole
// heads (HEAD_DIM, a power of two, divides it), so the HEAD_DIM / 4 invocations of a head find M
// and L together in workgroup memory (prepare), then each merges its own 4 columns (load).
@group(0) @binding(0) var<storage, read> PARTS: array<f32>; // [rows, N_HEADS, SPLITS, PART]
var<workgroup> comb: array<f32, WG>;
var<private> comb_m: f32;
var<private> comb_inv: f32;
var<private> comb_live: u32;
var<private> comb_base: u32;

fn prepare(r: u32, t: u32, c: u32) {
  let tph = HEAD_DIM / 4u; // invocations per head
  let lane = t % tph;
  let head = min((4u * c) / HEAD_DIM, N_HEADS - 1u); // (invocations past K read the last head)
  let live = live_splits(row_pos(r));
  let base = parts_base(r, head);
  var m = NEG_BIG;
  for (var s = lane; s < live; s += tph) { m = max(m, PARTS[base + s * PART + HEAD_DIM]); }
  comb[t] = m;
  workgroupBarrier();
  for (var w = tph / 2u; w > 0u; w >>= 1u) {
    if (lane < w) { comb[t] = max(comb[t], comb[t + w]); }
    workgroupBarrier();
  }
  let mx = comb[t - lane];
  workgroupBarrier(); // everyone has read it before comb holds sums
  var l = 0.0;
  for (var s = lane; s < live; s += tph) {
    l += PARTS[base + s * PART + HEAD_DIM + 1u] * exp(PARTS[base + s * PART + HEAD_DIM] - mx);
  }
  comb[t] = l;
  workgroupBarrier();
  for (var w = tph / 2u; w > 0u; w >>= 1u) {
    if (lane < w) { comb[t] += comb[t + w]; }
    workgroupBarrier();
  }
  comb_m = mx;
  comb_inv = 1.0 / comb[t - lane];
  comb_live = live;
  comb_base = base;
}

fn load(r: u32, c: u32) -> vec4<f32> {
  let d = (4u * c) % HEAD_DIM;
  var a = vec4<f32>(0.0);
  for (var s = 0u; s < comb_live; s++) {
    let b = comb_base + s * PART;
    let w = exp(PARTS[b + HEAD_DIM] - comb_m);
    a += w * vec4<f32>(PARTS[b + d], PARTS[b + d + 1u], PARTS[b + d + 2u], PARTS[b + d + 3u]);
  }
  return a * comb_inv;
}
