// GEMV for one row (decode), vectorized, over units of 4 output rows; also for a few rows at once
// (a batched decode step, a short prompt): each workgroup serves one row of x, and the workgroups
// of one weight slice and different rows are consecutive, so the slice is read from memory once
// and from the cache for the other rows. Assembled by gemv.ts from:
//   STEP_WGSL;
//   a 16-byte weight reader (gemv_vec_<format>.wgsl): CHUNK weights per load, XV vec4s of x per
//     load, `fn load_w(row, j)` the load, `fn chunk_dot(w, row, j, xs, xsum)` = the dot of those
//     weights (columns [j*CHUNK, (j+1)*CHUNK) of a row) with xs, and `fn chunk_sum(xs)`, anything
//     the reader wants of a chunk of x once rather than per row;
//   an input transform (gemv_input_*.wgsl): `fn input_vec(i, &ss) -> vec4<f32>`, 4 values of x as
//     the matmul sees them (e.g. times RMSNorm's weight, adding their squares to ss), and
//     `fn input_scale(sum of squares) -> f32`; the reader's `load_x(j, &ss)` gathers a chunk of them;
//   a row layout (gemv_rows_*.wgsl): UNITS, `fn unit_rows(u)` = the 4 weight rows of unit u, and
//     `fn store_unit(u, v)`, the epilogue (bias, residual add, RoPE, KV-cache write, SiLU...);
//   a lane reduction (gemv_reduce_*.wgsl): workgroup memory, or subgroup shuffles.
//
// Decode is bound by reading W, so each thread issues 16-byte loads and the TPR threads of a row
// group read consecutive 16-byte words of its rows (coalesced). A thread serves UPT units (4 * UPT
// rows) per load of x: without that, x (f32) would be read as often as the int8 weights themselves.
// It issues UNROLL such loads per row before using any, to keep enough bytes in flight.
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // [rows, K/4]
@group(0) @binding(4) var<uniform> step: Step;

override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows
override WG: u32 = 256u;  // power of two
override TPR: u32 = 32u;  // threads per row group: power of two, <= WG

alias XChunk = array<vec4<f32>, XV>;

struct Lanes {
  acc: array<vec4<f32>, UPT>,
  ss: f32,
}

fn active_rows() -> u32 {
  return select(step.rows, step.logit_rows, LOGIT_ROWS);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let lane = t % TPR;
  // Workgroup `flat` serves row flat % rows of x (the rows of a weight slice are neighbours).
  let n_rows = max(active_rows(), 1u);
  let flat = wid.y * nwg.x + wid.x;
  row_index = flat % n_rows;
  // Row group g owns units g*UPT .. g*UPT+UPT-1. Units past the end re-read the last one and
  // are dropped at the end, so every thread reaches the reduction.
  let g = (flat / n_rows) * (WG / TPR) + t / TPR;
  var rows: array<vec4<u32>, UPT>;
  for (var q = 0u; q < UPT; q++) { rows[q] = unit_rows(min(g * UPT + q, UNITS - 1u)); }
  var lanes: Lanes;
  let chunks = K / CHUNK;
  for (var j = lane; j < chunks; j += TPR * UNROLL) {
    // Every weight load of the batch first (UNROLL chunks of each row), so a thread has them all
    // in flight at once; loads past the end re-read the last chunk and are skipped below.
    var w: array<array<WChunk, 4 * UPT>, UNROLL>;
    for (var u = 0u; u < UNROLL; u++) {
      let jj = min(j + u * TPR, chunks - 1u);
      for (var q = 0u; q < UPT; q++) {
        let r = rows[q];
        w[u][4u * q] = load_w(r.x, jj);
        w[u][4u * q + 1u] = load_w(r.y, jj);
        w[u][4u * q + 2u] = load_w(r.z, jj);
        w[u][4u * q + 3u] = load_w(r.w, jj);
      }
    }
    for (var u = 0u; u < UNROLL; u++) {
      let jj = j + u * TPR;
      if (jj < chunks) {
        let xs = load_x(jj, &lanes.ss);
        let xsum = chunk_sum(xs); // what the reader needs of x once per chunk (0 for most)
        for (var q = 0u; q < UPT; q++) {
          let r = rows[q];
          let b = 4u * q;
          lanes.acc[q] += vec4<f32>(chunk_dot(w[u][b], r.x, jj, xs, xsum), chunk_dot(w[u][b + 1u], r.y, jj, xs, xsum),
                                    chunk_dot(w[u][b + 2u], r.z, jj, xs, xsum), chunk_dot(w[u][b + 3u], r.w, jj, xs, xsum));
        }
      }
    }
  }
  let total = reduce_lanes(t, lane, lanes);
  if (lane == 0u && active_rows() > 0u) {
    let scale = input_scale(total.ss);
    for (var q = 0u; q < UPT; q++) {
      let u = g * UPT + q;
      if (u < UNITS) { store_unit(u, total.acc[q] * scale); }
    }
  }
}
