// W8A8 few-rows GEMM (a batched decode step, a short prompt), on any adapter with
// dot4I8Packed: y[m, n] = sum_g f32(sum_{k in g} xq[m, k] wq[n, k]) * (xs[m, g] * ws[n, g]) (+ bias),
// int8 weights against x quantized per row and group (quantize_rows.wgsl), the same arithmetic
// as matmul_w8a8_dp4a.wgsl (the reference): each group's products summed exactly in i32, the f32
// sums across groups in another order.
// Assembled by matmul_w8a8.ts from STEP_WGSL, `fn pass_rows()`, `const MR: u32` (rows of x per workgroup),
// `const PAIR: bool`, `const DIAG_DP: u32`, `const ROWS_X: bool` (row blocks along the grid's x, unit blocks along y; else the other way),
// `const INFLIGHT: u32` (unpaired: chunks of the 4 weight rows in flight per step: 1, 2 or 4),
// the lanes' reduction (rows_reduce.ts: `const SG_REDUCE: bool`, and where true the shuffle form of
// matmul_rows_reduce_sg.wgsl, else stand-ins for `fn sg_row`, `fn sg_store`), `fn to_f32(vec4<i32>) -> vec4<f32>`, the
// weight's 16-byte view (gemvWeightAccess: `w_at(row, chunk)` -> vec4<u32>, `s_at(row, g)`),
// `fn bias(n)`, the GEMM's `fn store(m, n, v)` and the lane layout and reduction of the f32
// few-rows GEMM (matmul_rows_lanes.wgsl).
//
// A thread loads a 16-byte chunk (16 weights, within one scale group: groups are multiples of 16)
// of each of its unit's 4 weight rows once, and for each of the MR rows of x loads the 16 matching
// 8-bit values (one vec4<u32>) and does 16 dot4I8Packed: no weight is unpacked, and x's bytes per
// weight chunk are a quarter of the f32 kernel's. Needs K a multiple of 16.
// With PAIR (K and the group multiples of 32), a thread takes two neighbouring chunks of a group
// at a time and adds their sums in i32 before the one conversion to f32 and scaling: half the
// conversions and scale products. `fn to_f32` (prepended) converts a sum of at most 32 products
// (|s| < 2^22): vec4<f32>(s), or through the bits of 1.5 * 2^23 + s (one integer add and one float
// subtraction, exact in that range, where the conversion instruction runs at a quarter rate).
@group(0) @binding(8) var<storage, read> XQ: array<vec4<u32>>; // [rows, K / 16]: 16 8-bit values each
@group(0) @binding(9) var<storage, read> XS: array<f32>;       // [rows, W_GROUPS]
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override W_STRIDE: u32;     // u32 words per weight row
override W_GROUPS: u32;     // scale groups per row
override W_GROUP_SIZE: u32; // a multiple of 16

override SG_LEN: u32 = 0u; // vec4s the shuffle reduction needs (rows_reduce.ts)
var<workgroup> red: array<vec4<f32>, max(RED + RED2, SG_LEN)>;

// DIAG_DP (kernel lab diagnostics, wrong sums; 1 otherwise): 0 replaces the 4 dot4I8Packed by
// exclusive ors and adds (what the products cost), 2 does 4 more (what the products bound).
fn dot16(w: vec4<u32>, x: vec4<u32>) -> i32 {
  if (DIAG_DP == 0u) { return bitcast<i32>((w.x ^ x.x) + (w.y ^ x.y) + (w.z ^ x.z) + (w.w ^ x.w)); }
  let s = dot4I8Packed(w.x, x.x) + dot4I8Packed(w.y, x.y) + dot4I8Packed(w.z, x.z) + dot4I8Packed(w.w, x.w);
  if (DIAG_DP == 2u) { return s + dot4I8Packed(w.x, x.y) + dot4I8Packed(w.y, x.z) + dot4I8Packed(w.z, x.w) + dot4I8Packed(w.w, x.x); }
  return s;
}

// The scales of group g of the unit's 4 weight rows r.
fn unit_scales(r: vec4<u32>, g: u32) -> vec4<f32> {
  return vec4<f32>(s_at(r.x, g), s_at(r.y, g), s_at(r.z, g), s_at(r.w, g));
}

// A row's exact i32 sums of one group's products, scaled by the weight and x scales.
fn scaled(s: vec4<i32>, ws: vec4<f32>, xs: f32) -> vec4<f32> {
  return to_f32(s) * (ws * xs);
}

// Row m's 8-bit x (chunk j) and scale (group g) against chunk j of the unit's 4 rows: the scaled sums to add.
fn rows_term(c0: vec4<u32>, c1: vec4<u32>, c2: vec4<u32>, c3: vec4<u32>, ws: vec4<f32>, x: vec4<u32>, xs: f32) -> vec4<f32> {
  return scaled(vec4<i32>(dot16(c0, x), dot16(c1, x), dot16(c2, x), dot16(c3, x)), ws, xs);
}

// Chunk j of the unit's 4 rows (weight rows r) against all MR rows of x, read from memory.
fn rows_dot_chunk(acc: ptr<function, array<vec4<f32>, ACC>>, c0: vec4<u32>, c1: vec4<u32>, c2: vec4<u32>, c3: vec4<u32>,
                  r: vec4<u32>, j: u32, m0: u32, last: u32) {
  let g = (j * 16u) / W_GROUP_SIZE;
  let ws = unit_scales(r, g);
  for (var i = 0u; i < MR; i++) {
    let m = min(m0 + i, last);
    (*acc)[i] += rows_term(c0, c1, c2, c3, ws, XQ[m * (K / 16u) + j], XS[m * W_GROUPS + g]);
  }
}

// Chunks j and j + 1 (in one scale group) of the unit's 4 rows (a*, b*) against all MR rows of x.
fn rows_dot_pair(acc: ptr<function, array<vec4<f32>, ACC>>, a0: vec4<u32>, a1: vec4<u32>, a2: vec4<u32>, a3: vec4<u32>,
                 b0: vec4<u32>, b1: vec4<u32>, b2: vec4<u32>, b3: vec4<u32>, r: vec4<u32>, j: u32, m0: u32, last: u32) {
  let g = (j * 16u) / W_GROUP_SIZE;
  let ws = unit_scales(r, g);
  for (var i = 0u; i < MR; i++) {
    let m = min(m0 + i, last);
    let xa = XQ[m * (K / 16u) + j];
    let xb = XQ[m * (K / 16u) + j + 1u];
    let s = vec4<i32>(dot16(a0, xa) + dot16(b0, xb), dot16(a1, xa) + dot16(b1, xb),
                      dot16(a2, xa) + dot16(b2, xb), dot16(a3, xa) + dot16(b3, xb));
    (*acc)[i] += scaled(s, ws, XS[m * W_GROUPS + g]);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let rows = pass_rows();
  let wx = unit_block(wid);
  let m0 = first_row(wid);
  let lo = t % KL;
  let ui = (t / KL) % UW;
  let kw = (t / 32u) % KW;
  let ug = t / (32u * KW);
  let u = wx * UT + ug * UW + ui;
  let r = unit_rows(u);
  let lane = kw * KL + lo;
  // Rows past the last one re-read it; their sums are never stored.
  let last = max(rows, 1u) - 1u;

  var acc: array<vec4<f32>, ACC>;
  let chunks = K / 16u;
  if (PAIR) {
    for (var j = 2u * lane; j < chunks; j += 2u * KS) {
      let a0 = w_at(r.x, j); let a1 = w_at(r.y, j); let a2 = w_at(r.z, j); let a3 = w_at(r.w, j);
      let b0 = w_at(r.x, j + 1u); let b1 = w_at(r.y, j + 1u); let b2 = w_at(r.z, j + 1u); let b3 = w_at(r.w, j + 1u);
      rows_dot_pair(&acc, a0, a1, a2, a3, b0, b1, b2, b3, r, j, m0, last);
    }
  } else if (INFLIGHT == 1u) {
    for (var j = lane; j < chunks; j += KS) {
      rows_dot_chunk(&acc, w_at(r.x, j), w_at(r.y, j), w_at(r.z, j), w_at(r.w, j), r, j, m0, last);
    }
  } else if (INFLIGHT == 4u) {
    for (var j = lane; j < chunks; j += 4u * KS) {
      // Chunks past the end re-read the last one and are skipped.
      let j1 = min(j + KS, chunks - 1u);
      let j2 = min(j + 2u * KS, chunks - 1u);
      let j3 = min(j + 3u * KS, chunks - 1u);
      let a0 = w_at(r.x, j); let a1 = w_at(r.y, j); let a2 = w_at(r.z, j); let a3 = w_at(r.w, j);
      let b0 = w_at(r.x, j1); let b1 = w_at(r.y, j1); let b2 = w_at(r.z, j1); let b3 = w_at(r.w, j1);
      let c0 = w_at(r.x, j2); let c1 = w_at(r.y, j2); let c2 = w_at(r.z, j2); let c3 = w_at(r.w, j2);
      let d0 = w_at(r.x, j3); let d1 = w_at(r.y, j3); let d2 = w_at(r.z, j3); let d3 = w_at(r.w, j3);
      rows_dot_chunk(&acc, a0, a1, a2, a3, r, j, m0, last);
      if (j + KS < chunks) { rows_dot_chunk(&acc, b0, b1, b2, b3, r, j1, m0, last); }
      if (j + 2u * KS < chunks) { rows_dot_chunk(&acc, c0, c1, c2, c3, r, j2, m0, last); }
      if (j + 3u * KS < chunks) { rows_dot_chunk(&acc, d0, d1, d2, d3, r, j3, m0, last); }
    }
  } else {
    for (var j = lane; j < chunks; j += 2u * KS) {
      // Two chunks of each row in flight before any arithmetic; the second past the end re-reads the
      // first and is skipped.
      let j1 = min(j + KS, chunks - 1u);
      let a0 = w_at(r.x, j); let a1 = w_at(r.y, j); let a2 = w_at(r.z, j); let a3 = w_at(r.w, j);
      let b0 = w_at(r.x, j1); let b1 = w_at(r.y, j1); let b2 = w_at(r.z, j1); let b3 = w_at(r.w, j1);
      rows_dot_chunk(&acc, a0, a1, a2, a3, r, j, m0, last);
      if (j + KS < chunks) { rows_dot_chunk(&acc, b0, b1, b2, b3, r, j1, m0, last); }
    }
  }

  reduce_rows(t, &acc, m0, rows, wx);
}
