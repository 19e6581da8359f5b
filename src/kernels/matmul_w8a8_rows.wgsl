// W8A8 few-rows GEMM (a batched decode step, a short prompt), on any adapter with
// dot4I8Packed: y[m, n] = sum_g f32(sum_{k in g} xq[m, k] wq[n, k]) * (xs[m, g] * ws[n, g]) (+ bias),
// int8 weights against x quantized per row and group (quantize_rows.wgsl), the same arithmetic
// as matmul_w8a8_dp4a.wgsl (the reference): each group's products summed exactly in i32, the f32
// sums across groups in another order.
// Assembled by matmul_w8a8.ts from STEP_WGSL, `fn pass_rows()`, `const MR: u32` (rows of x per workgroup),
// `const PAIR: bool`, `const UNROLL: bool`, `fn to_f32(vec4<i32>) -> vec4<f32>`, the
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

var<workgroup> red: array<vec4<f32>, RED + RED2>;

fn dot16(w: vec4<u32>, x: vec4<u32>) -> i32 {
  return dot4I8Packed(w.x, x.x) + dot4I8Packed(w.y, x.y) + dot4I8Packed(w.z, x.z) + dot4I8Packed(w.w, x.w);
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

// Chunk j of the unit's 4 rows (weight rows r) against all MR rows of x. With UNROLL every row's x
// and scale are loaded before any arithmetic and each row's accumulator is named by a constant
// index (the loop's rows wait on their loads one after another, and its index is a variable,
// which a compiler that does not unroll it may answer with the accumulators in local memory).
fn rows_dot_chunk(acc: ptr<function, array<vec4<f32>, ACC>>, c0: vec4<u32>, c1: vec4<u32>, c2: vec4<u32>, c3: vec4<u32>,
                  r: vec4<u32>, j: u32, m0: u32, last: u32) {
  let g = (j * 16u) / W_GROUP_SIZE;
  let ws = unit_scales(r, g);
  if (UNROLL) {
    var xv: array<vec4<u32>, ACC>;
    var sv: array<f32, ACC>;
    xv[0] = XQ[min(m0 + 0u, last) * (K / 16u) + j]; sv[0] = XS[min(m0 + 0u, last) * W_GROUPS + g];
    xv[1] = XQ[min(m0 + 1u, last) * (K / 16u) + j]; sv[1] = XS[min(m0 + 1u, last) * W_GROUPS + g];
    if (MR > 2u) {
      xv[2] = XQ[min(m0 + 2u, last) * (K / 16u) + j]; sv[2] = XS[min(m0 + 2u, last) * W_GROUPS + g];
      xv[3] = XQ[min(m0 + 3u, last) * (K / 16u) + j]; sv[3] = XS[min(m0 + 3u, last) * W_GROUPS + g];
    }
    if (MR > 4u) {
      xv[4] = XQ[min(m0 + 4u, last) * (K / 16u) + j]; sv[4] = XS[min(m0 + 4u, last) * W_GROUPS + g];
      xv[5] = XQ[min(m0 + 5u, last) * (K / 16u) + j]; sv[5] = XS[min(m0 + 5u, last) * W_GROUPS + g];
      xv[6] = XQ[min(m0 + 6u, last) * (K / 16u) + j]; sv[6] = XS[min(m0 + 6u, last) * W_GROUPS + g];
      xv[7] = XQ[min(m0 + 7u, last) * (K / 16u) + j]; sv[7] = XS[min(m0 + 7u, last) * W_GROUPS + g];
    }
    if (MR > 8u) {
      xv[8] = XQ[min(m0 + 8u, last) * (K / 16u) + j]; sv[8] = XS[min(m0 + 8u, last) * W_GROUPS + g];
      xv[9] = XQ[min(m0 + 9u, last) * (K / 16u) + j]; sv[9] = XS[min(m0 + 9u, last) * W_GROUPS + g];
      xv[10] = XQ[min(m0 + 10u, last) * (K / 16u) + j]; sv[10] = XS[min(m0 + 10u, last) * W_GROUPS + g];
      xv[11] = XQ[min(m0 + 11u, last) * (K / 16u) + j]; sv[11] = XS[min(m0 + 11u, last) * W_GROUPS + g];
      xv[12] = XQ[min(m0 + 12u, last) * (K / 16u) + j]; sv[12] = XS[min(m0 + 12u, last) * W_GROUPS + g];
      xv[13] = XQ[min(m0 + 13u, last) * (K / 16u) + j]; sv[13] = XS[min(m0 + 13u, last) * W_GROUPS + g];
      xv[14] = XQ[min(m0 + 14u, last) * (K / 16u) + j]; sv[14] = XS[min(m0 + 14u, last) * W_GROUPS + g];
      xv[15] = XQ[min(m0 + 15u, last) * (K / 16u) + j]; sv[15] = XS[min(m0 + 15u, last) * W_GROUPS + g];
    }
    (*acc)[0] += rows_term(c0, c1, c2, c3, ws, xv[0], sv[0]);
    (*acc)[1] += rows_term(c0, c1, c2, c3, ws, xv[1], sv[1]);
    if (MR > 2u) {
      (*acc)[2] += rows_term(c0, c1, c2, c3, ws, xv[2], sv[2]);
      (*acc)[3] += rows_term(c0, c1, c2, c3, ws, xv[3], sv[3]);
    }
    if (MR > 4u) {
      (*acc)[4] += rows_term(c0, c1, c2, c3, ws, xv[4], sv[4]);
      (*acc)[5] += rows_term(c0, c1, c2, c3, ws, xv[5], sv[5]);
      (*acc)[6] += rows_term(c0, c1, c2, c3, ws, xv[6], sv[6]);
      (*acc)[7] += rows_term(c0, c1, c2, c3, ws, xv[7], sv[7]);
    }
    if (MR > 8u) {
      (*acc)[8] += rows_term(c0, c1, c2, c3, ws, xv[8], sv[8]);
      (*acc)[9] += rows_term(c0, c1, c2, c3, ws, xv[9], sv[9]);
      (*acc)[10] += rows_term(c0, c1, c2, c3, ws, xv[10], sv[10]);
      (*acc)[11] += rows_term(c0, c1, c2, c3, ws, xv[11], sv[11]);
      (*acc)[12] += rows_term(c0, c1, c2, c3, ws, xv[12], sv[12]);
      (*acc)[13] += rows_term(c0, c1, c2, c3, ws, xv[13], sv[13]);
      (*acc)[14] += rows_term(c0, c1, c2, c3, ws, xv[14], sv[14]);
      (*acc)[15] += rows_term(c0, c1, c2, c3, ws, xv[15], sv[15]);
    }
    return;
  }
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
  let m0 = wid.y * MR;
  let lo = t % KL;
  let ui = (t / KL) % UW;
  let kw = (t / 32u) % KW;
  let ug = t / (32u * KW);
  let u = wid.x * UT + ug * UW + ui;
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

  // As in matmul_gemm_rows.wgsl: each accumulator named by a constant index.
  reduce_round(t, 0u, acc[0], acc[1], m0, rows, wid.x);
  if (MR > 2u) { reduce_round(t, 1u, acc[2], acc[3], m0, rows, wid.x); }
  if (MR > 4u) {
    reduce_round(t, 2u, acc[4], acc[5], m0, rows, wid.x);
    reduce_round(t, 3u, acc[6], acc[7], m0, rows, wid.x);
  }
  if (MR > 8u) {
    reduce_round(t, 4u, acc[8], acc[9], m0, rows, wid.x);
    reduce_round(t, 5u, acc[10], acc[11], m0, rows, wid.x);
    reduce_round(t, 6u, acc[12], acc[13], m0, rows, wid.x);
    reduce_round(t, 7u, acc[14], acc[15], m0, rows, wid.x);
  }
}
