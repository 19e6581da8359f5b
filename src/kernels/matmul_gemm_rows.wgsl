// Skinny GEMM for a few rows of x (a batched decode step, a short prompt) on GPUs:
// y[m, n] = sum_k x[m, k] * W[n, k] (+ bias[n]) for MR rows m0 .. m0 + MR - 1 per workgroup row.
// Assembled by matmul.ts from STEP_WGSL, `const MR: u32` (4, 8 or 16), a GEMV reader
// (gemv_vec_<format>.wgsl: `load_w`, `part_w`, and `load_x`, `chunk_dot`, `chunk_sum` for the
// per-row form), gemv_input_plain.wgsl (x through `row_index`), `fn bias(n)` and the GEMM's
// `fn store(m, n, v)`.
//
// The few-rows GEMV does the whole dot product (its weight loads, and for a quantized format the
// unpacking) once per row of x. Here a thread loads a 16-byte chunk of each of its unit's 4 weight
// rows once and uses it for all MR rows. The first form of this kernel called the reader's
// chunk_dot once per row and relied on the compiler to hoist the unpacking out of the row loop; on
// an H100 it ran no faster per row than the GEMV (about 12% of FP32 peak at 16 rows). Now
// (PARTWISE) the reader's part_w dequantizes 4 weights of each of the 4 rows once, they are
// transposed to one vec4 per column k, and each row of x costs one 16-byte load and 4 vec4
// multiply-adds with nothing left to hoist.
//
// A workgroup owns UT = 4 * UG units (16 * UG output columns) and splits K over KS = 8 * KW lanes:
// in each group of 32 invocations, 4 units x 8 lanes, so the 8 lanes of a unit read neighbouring
// chunks of its rows (128 bytes per row, coalesced) and a load of x serves 4 units (at most 8
// distinct addresses per 32 invocations). The lanes' partial sums meet in workgroup memory, 2 rows
// of x at a time (9 KiB at 256 invocations).
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // [rows, K/4]
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows
override UNITS: u32 = (N + 3u) / 4u;
override KW: u32 = 4u; // groups of 32 invocations along K
override UG: u32 = 2u; // groups of 32 invocations along N
override WG: u32 = 32u * KW * UG;
// true: dequantize each vec4 of weights once and stream the rows of x past it (rows_part_chunk);
// false: the reader's chunk_dot once per row (kept for the kernel lab).
override PARTWISE: bool = true;

const KL: u32 = 8u;  // lanes of a unit within a group of 32
const UW: u32 = 4u;  // units within a group of 32
override KS: u32 = KL * KW;  // lanes along K
override UT: u32 = UW * UG;  // units per workgroup
const RR: u32 = 2u; // rows of x per round of the reduction
override RED: u32 = RR * WG;       // RR rows of partial sums per round
override RED2: u32 = RR * UT * KW; // RR rows of sums over each group's 8 lanes

alias XChunk = array<vec4<f32>, XV>;

var<workgroup> red: array<vec4<f32>, RED>;
var<workgroup> red2: array<vec4<f32>, RED2>;

fn active_rows() -> u32 {
  return select(step.rows, step.logit_rows, LOGIT_ROWS);
}

fn unit_rows(u: u32) -> vec4<u32> {
  let n = 4u * min(u, UNITS - 1u);
  return min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), vec4<u32>(N - 1u));
}

fn store_unit(m: u32, u: u32, v: vec4<f32>) {
  for (var c = 0u; c < 4u; c++) {
    let n = 4u * u + c;
    if (n < N) { store(m, n, v[c] + bias(n)); }
  }
}

// One chunk of the unit's 4 rows against all MR rows of x, a vec4 of weights at a time: part p
// (weights 4p .. 4p+3 of each row) is dequantized once (part_w), transposed to one vec4 per column
// k (the unit's 4 rows), and each row of x then costs one 16-byte load and 4 vec4 multiply-adds.
// Nothing here depends on MR beyond the loop bound, so the compiler unrolls it and keeps acc in
// registers.
fn rows_part_chunk(acc: ptr<function, array<vec4<f32>, MR>>, c0: WChunk, c1: WChunk, c2: WChunk, c3: WChunk,
                   r: vec4<u32>, j: u32, m0: u32, last: u32) {
  for (var p = 0u; p < XV; p++) {
    let w0 = part_w(c0, r.x, j, p);
    let w1 = part_w(c1, r.y, j, p);
    let w2 = part_w(c2, r.z, j, p);
    let w3 = part_w(c3, r.w, j, p);
    let t0 = vec4<f32>(w0.x, w1.x, w2.x, w3.x);
    let t1 = vec4<f32>(w0.y, w1.y, w2.y, w3.y);
    let t2 = vec4<f32>(w0.z, w1.z, w2.z, w3.z);
    let t3 = vec4<f32>(w0.w, w1.w, w2.w, w3.w);
    for (var i = 0u; i < MR; i++) {
      let xv = X[min(m0 + i, last) * (K / 4u) + XV * j + p];
      (*acc)[i] = fma(t3, vec4<f32>(xv.w), fma(t2, vec4<f32>(xv.z), fma(t1, vec4<f32>(xv.y), fma(t0, vec4<f32>(xv.x), (*acc)[i]))));
    }
  }
}

// The same with the reader's chunk_dot once per row of x (PARTWISE = false: the first form, whose
// unpacking the compiler may or may not hoist out of the row loop).
fn rows_dot_chunk(acc: ptr<function, array<vec4<f32>, MR>>, c0: WChunk, c1: WChunk, c2: WChunk, c3: WChunk,
                  r: vec4<u32>, j: u32, m0: u32, last: u32) {
  var ss = 0.0; // unused: the plain input transform keeps no sum of squares
  for (var i = 0u; i < MR; i++) {
    row_index = min(m0 + i, last);
    let xs = load_x(j, &ss);
    let xsum = chunk_sum(xs);
    (*acc)[i] += vec4<f32>(chunk_dot(c0, r.x, j, xs, xsum), chunk_dot(c1, r.y, j, xs, xsum),
                           chunk_dot(c2, r.z, j, xs, xsum), chunk_dot(c3, r.w, j, xs, xsum));
  }
}

// Dispatch: (ceil(UNITS / UT), ceil(rows / MR)).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let rows = active_rows();
  let m0 = wid.y * MR;
  let lo = t % KL;
  let ui = (t / KL) % UW;
  let kw = (t / 32u) % KW;
  let ug = t / (32u * KW);
  let ul = ug * UW + ui; // the unit within the workgroup
  let u = wid.x * UT + ul;
  let r = unit_rows(u);
  let lane = kw * KL + lo;
  // Rows past the last one re-read it; their sums are never stored.
  let last = max(rows, 1u) - 1u;

  var acc: array<vec4<f32>, MR>;
  let chunks = K / CHUNK;
  for (var j = lane; j < chunks; j += 2u * KS) {
    // Two chunks of each row in flight before any arithmetic; the second past the end re-reads
    // the first and is skipped.
    let j1 = min(j + KS, chunks - 1u);
    let a0 = load_w(r.x, j); let a1 = load_w(r.y, j); let a2 = load_w(r.z, j); let a3 = load_w(r.w, j);
    let b0 = load_w(r.x, j1); let b1 = load_w(r.y, j1); let b2 = load_w(r.z, j1); let b3 = load_w(r.w, j1);
    if (PARTWISE) {
      rows_part_chunk(&acc, a0, a1, a2, a3, r, j, m0, last);
      if (j + KS < chunks) { rows_part_chunk(&acc, b0, b1, b2, b3, r, j1, m0, last); }
    } else {
      rows_dot_chunk(&acc, a0, a1, a2, a3, r, j, m0, last);
      if (j + KS < chunks) { rows_dot_chunk(&acc, b0, b1, b2, b3, r, j1, m0, last); }
    }
  }

  // The KS lanes' sums, RR rows of x per round: each group's 8 lanes first (one invocation per
  // unit, group and row), then the KW groups (one invocation per unit and row).
  for (var g = 0u; g < MR / RR; g++) {
    for (var q = 0u; q < RR; q++) { red[q * WG + t] = acc[RR * g + q]; }
    workgroupBarrier();
    if (t < RED2) {
      // t = (q, group 32-block b, unit ui within it); the block's 8 lanes of that unit.
      let q = t / (UT * KW);
      let rest = t % (UT * KW);
      let b = rest / UW;
      let uu = rest % UW;
      let base = q * WG + b * 32u + uu * KL;
      var s = vec4<f32>(0.0);
      for (var l = 0u; l < KL; l++) { s += red[base + l]; }
      red2[t] = s;
    }
    workgroupBarrier();
    if (t < RR * UT) {
      let q = t / UT;
      let ut = t % UT; // = ug' * UW + ui'
      let ugx = ut / UW;
      let uix = ut % UW;
      var s = vec4<f32>(0.0);
      // Block b = ugx * KW + kw' holds (ugx, kw') : t = lo + KL * ui + 32 * kw + 32 * KW * ug.
      for (var k2 = 0u; k2 < KW; k2++) { s += red2[q * UT * KW + (ugx * KW + k2) * UW + uix]; }
      let m = m0 + RR * g + q;
      let uo = wid.x * UT + ut;
      if (m < rows && uo < UNITS) { store_unit(m, uo, s); }
    }
    workgroupBarrier();
  }
}
