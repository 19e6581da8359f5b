// Input transform for the decode GEMVs: decode attention's `combine` (attention_decode.wgsl) folded
// into o_proj. x is never written: the GEMV reads the split kernel's partial results (the layout of
// attention_parts.wgsl, with STEP_ROWS_WGSL for row_pos) and merges them on the way in,
//   x[h * HEAD_DIM + d] = sum_s o_s[d] e^(m_s - M) / L,  M = max_s m_s,  L = sum_s l_s e^(m_s - M),
// over the live splits of the row's position. A thread finds M and 1 / L of a head when it first
// reads a value of that head (the values of a 16-byte weight load lie in one head when the head is
// a multiple of the load's width, and the lanes of a row group walk the heads in order), and keeps
// them in private values. Every lane re-merges what it reads of x; the host runs this form only
// while a step has few live splits (src/model/arch/attn_merge.ts), where that costs less than a
// dispatch.
@group(0) @binding(2) var<storage, read> X: array<f32>; // the splits' parts [rows, N_HEADS, SPLITS, PART]
const NORM: bool = false;
// The row of x the invocation reads (0: one row per decode step).
var<private> row_index: u32;
var<private> merge_head: u32 = 0xffffffffu;
var<private> merge_m: f32;
var<private> merge_inv: f32;
var<private> merge_live: u32;

fn part(i: u32) -> f32 { return X[i]; }

fn merge_prepare(h: u32) {
  let live = live_splits(row_pos(row_index));
  let base = parts_base(row_index, h) + HEAD_DIM;
  var m = NEG_BIG;
  for (var s = 0u; s < live; s++) { m = max(m, part(base + s * PART)); }
  var l = 0.0;
  for (var s = 0u; s < live; s++) { l += part(base + s * PART + 1u) * exp(part(base + s * PART) - m); }
  merge_head = h;
  merge_m = m;
  merge_inv = 1.0 / l;
  merge_live = live;
}

// x[4i .. 4i+3], merged from the splits.
fn input_vec(i: u32, ss: ptr<function, f32>) -> vec4<f32> {
  let c = 4u * i;
  let h = c / HEAD_DIM;
  if (h != merge_head) { merge_prepare(h); }
  return merge_vec4(parts_base(row_index, h), c % HEAD_DIM, merge_live, merge_m, merge_inv);
}

fn input_scale(ss: f32) -> f32 {
  return 1.0;
}
