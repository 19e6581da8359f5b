// Skinny GEMM for a few rows of x (a batched decode step, a short prompt) on GPUs:
// y[m, n] = sum_k x[m, k] * W[n, k] (+ bias[n]) for MR rows m0 .. m0 + MR - 1 per workgroup row.
// Assembled by matmul.ts from STEP_WGSL, `const MR: u32` (2, 4, 8 or 16), `const ROWS_X: bool` (row
// blocks along the grid's x), the lanes' reduction (rows_reduce.ts: SG_REDUCE, sg_row, sg_store), a GEMV reader
// (gemv_vec_<format>.wgsl: `load_w`, `load_x`, `chunk_dot`, `chunk_sum`), gemv_input_plain.wgsl
// (x through `row_index`), `fn bias(n)`, the GEMM's `fn store(m, n, v)` and the lane layout and
// reduction (matmul_rows_lanes.wgsl).
//
// The few-rows GEMV does the whole dot product (its weight loads, and for a quantized format the
// unpacking) once per row of x. Here a thread loads a 16-byte chunk of each of its unit's 4 weight
// rows once and uses it for all MR rows (the reader's chunk_dot once per row of x).
//
// A workgroup owns UT = 4 * UG units (16 * UG output columns) and splits K over KS = 8 * KW lanes:
// in each group of 32 invocations, 4 units x 8 lanes, so the 8 lanes of a unit read neighbouring
// chunks of its rows (128 bytes per row, coalesced) and a load of x serves 4 units (at most 8
// distinct addresses per 32 invocations). The lanes' partial sums meet in workgroup memory, 2 rows
// of x at a time (9 KiB at 256 invocations).
//
// Where x comes from (TILED):
// - false: each thread loads its chunks of x from memory, row after row. Measured on an H100
//   (2026-12-06) this reaches 8-12 TFLOP/s at 16 rows, no better per row than the GEMV: each row's
//   loads wait on the cache in turn, and a thread has few chunks to overlap them with.
// - true: the workgroup walks K in tiles of KS chunks (one per lane), loads the tile of x for all
//   MR rows into workgroup memory at once (every invocation issues its share of the loads before
//   any is used), waits on a barrier, and the lanes read their chunk of each row from there. The
//   weights of the next tile are loaded before the barrier. The tile takes MR * KS * CHUNK * 4
//   bytes: matmul.ts picks KW so that it fits the device's workgroup storage. On an H100 it is the
//   faster form for f16 at 16 rows (13-19.5 TFLOP/s on wide outputs), not for int8 (its chunks
//   are twice as wide in K); rowsTuningFor in matmul.ts has the measurements.
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // [rows, K/4]
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows
override TILED: bool = false;
override TROW: u32 = KS * XV;       // vec4s of one row of an x tile
override XT: u32 = select(1u, MR * TROW, TILED); // vec4s of an x tile

alias XChunk = array<vec4<f32>, XV>;

// The x tile (TILED), then the partial sums of the reduction: RED per lane, then (from RED on) RED2
// per group of 8 lanes. One array, so that f16 at 16 rows and kw4-ug2 fits the default 16 KiB.
override SG_LEN: u32 = 0u; // vec4s the shuffle reduction needs (rows_reduce.ts)
var<workgroup> red: array<vec4<f32>, max(max(RED + RED2, XT), SG_LEN)>;

fn active_rows() -> u32 {
  return select(step.rows, step.logit_rows, LOGIT_ROWS);
}

// Chunk j of the unit's 4 weight rows against one row's chunk of x.
fn unit_dot(c0: WChunk, c1: WChunk, c2: WChunk, c3: WChunk, r: vec4<u32>, j: u32, xs: XChunk) -> vec4<f32> {
  let xsum = chunk_sum(xs);
  return vec4<f32>(chunk_dot(c0, r.x, j, xs, xsum), chunk_dot(c1, r.y, j, xs, xsum),
                   chunk_dot(c2, r.z, j, xs, xsum), chunk_dot(c3, r.w, j, xs, xsum));
}

// One chunk of the unit's 4 rows against all MR rows of x, read from memory.
fn rows_dot_chunk(acc: ptr<function, array<vec4<f32>, ACC>>, c0: WChunk, c1: WChunk, c2: WChunk, c3: WChunk,
                  r: vec4<u32>, j: u32, m0: u32, last: u32) {
  var ss = 0.0; // unused: the plain input transform keeps no sum of squares
  for (var i = 0u; i < MR; i++) {
    row_index = min(m0 + i, last);
    (*acc)[i] += unit_dot(c0, c1, c2, c3, r, j, load_x(j, &ss));
  }
}

// TILED: K in tiles of KS chunks, x of each tile staged in workgroup memory for all MR rows. A tile
// row is stored part-major ([p][lane]: vec4 p of lane's chunk at p * KS + lane), so the 8 lanes of
// a group read 8 neighbouring vec4s. Every invocation runs every tile (the barriers); a lane whose
// chunk is past the end of K reads the tile and skips the arithmetic.
fn rows_tiled(acc: ptr<function, array<vec4<f32>, ACC>>, t: u32, r: vec4<u32>, lane: u32, m0: u32, last: u32) {
  let chunks = K / CHUNK;
  let tiles = (chunks + KS - 1u) / KS;
  var j = lane;
  let jc = min(j, chunks - 1u);
  var w0 = load_w(r.x, jc); var w1 = load_w(r.y, jc); var w2 = load_w(r.z, jc); var w3 = load_w(r.w, jc);
  for (var tt = 0u; tt < tiles; tt++) {
    for (var v = t; v < MR * TROW; v += WG) {
      let i = v / TROW;
      let c = v % TROW; // = lane' * XV + p
      let kv = tt * TROW + c;
      var xv = vec4<f32>(0.0);
      if (kv < K / 4u) { xv = X[min(m0 + i, last) * (K / 4u) + kv]; }
      red[i * TROW + (c % XV) * KS + c / XV] = xv;
    }
    let jn = min(j + KS, chunks - 1u);
    let n0 = load_w(r.x, jn); let n1 = load_w(r.y, jn); let n2 = load_w(r.z, jn); let n3 = load_w(r.w, jn);
    workgroupBarrier();
    if (j < chunks) {
      for (var i = 0u; i < MR; i++) {
        var xs: XChunk;
        for (var p = 0u; p < XV; p++) { xs[p] = red[i * TROW + p * KS + lane]; }
        (*acc)[i] += unit_dot(w0, w1, w2, w3, r, j, xs);
      }
    }
    workgroupBarrier();
    w0 = n0; w1 = n1; w2 = n2; w3 = n3;
    j += KS;
  }
}

// Dispatch: (ceil(UNITS / UT), ceil(rows / MR)), or the other way round where ROWS_X (prepended).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let rows = active_rows();
  let wx = unit_block(wid);
  let m0 = first_row(wid);
  let lo = t % KL;
  let ui = (t / KL) % UW;
  let kw = (t / 32u) % KW;
  let ug = t / (32u * KW);
  let ul = ug * UW + ui; // the unit within the workgroup
  let u = wx * UT + ul;
  let r = unit_rows(u);
  let lane = kw * KL + lo;
  // Rows past the last one re-read it; their sums are never stored.
  let last = max(rows, 1u) - 1u;

  var acc: array<vec4<f32>, ACC>;
  let chunks = K / CHUNK;
  if (TILED) {
    rows_tiled(&acc, t, r, lane, m0, last);
  } else {
    for (var j = lane; j < chunks; j += 2u * KS) {
      // Two chunks of each row in flight before any arithmetic; the second past the end re-reads
      // the first and is skipped.
      let j1 = min(j + KS, chunks - 1u);
      let a0 = load_w(r.x, j); let a1 = load_w(r.y, j); let a2 = load_w(r.z, j); let a3 = load_w(r.w, j);
      let b0 = load_w(r.x, j1); let b1 = load_w(r.y, j1); let b2 = load_w(r.z, j1); let b3 = load_w(r.w, j1);
      rows_dot_chunk(&acc, a0, a1, a2, a3, r, j, m0, last);
      if (j + KS < chunks) { rows_dot_chunk(&acc, b0, b1, b2, b3, r, j1, m0, last); }
    }
  }

  reduce_rows(t, &acc, m0, rows, wx);
}
