// A skinny GEMM for 2..RMAX rows (a batched decode step, a short prompt): matmul_gemv_vec.wgsl's
// schedule (row groups of TPR lanes over units of 4 weight rows, 16-byte loads, lane reduction),
// but each thread multiplies every weight chunk it loads by the chunk of x of every active row, so
// each weight is read from memory once for all of them. Assembled by gemv.ts from the same parts
// as the GEMV (reader, plain input, row layout, lane reduction); the input and the layout read and
// write row `row_index`. UNROLL is 1 or 2 here: the RMAX x UPT accumulators take the registers.
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // [rows, K/4]
@group(0) @binding(4) var<uniform> step: Step;

override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows
override WG: u32 = 256u;  // power of two
override TPR: u32 = 32u;  // threads per row group: power of two, <= WG

const RMAX: u32 = 16u;

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
  let n_rows = min(active_rows(), RMAX);
  let g = (wid.y * nwg.x + wid.x) * (WG / TPR) + t / TPR;
  var rows: array<vec4<u32>, UPT>;
  for (var q = 0u; q < UPT; q++) { rows[q] = unit_rows(min(g * UPT + q, UNITS - 1u)); }
  var acc: array<array<vec4<f32>, UPT>, RMAX>;
  let chunks = K / CHUNK;
  for (var j = lane; j < chunks; j += TPR * UNROLL) {
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
        for (var m = 0u; m < RMAX; m++) {
          if (m < n_rows) {
            row_index = m;
            var ss = 0.0;
            let xs = load_x(jj, &ss);
            let xsum = chunk_sum(xs);
            for (var q = 0u; q < UPT; q++) {
              let r = rows[q];
              let b = 4u * q;
              acc[m][q] += vec4<f32>(chunk_dot(w[u][b], r.x, jj, xs, xsum), chunk_dot(w[u][b + 1u], r.y, jj, xs, xsum),
                                     chunk_dot(w[u][b + 2u], r.z, jj, xs, xsum), chunk_dot(w[u][b + 3u], r.w, jj, xs, xsum));
            }
          }
        }
      }
    }
  }
  // Each row's lanes reduced in turn (n_rows comes from a uniform: every thread takes the same branches).
  for (var m = 0u; m < RMAX; m++) {
    if (m < n_rows) {
      var mine: Lanes;
      mine.acc = acc[m];
      let total = reduce_lanes(t, lane, mine);
      if (lane == 0u) {
        row_index = m;
        for (var q = 0u; q < UPT; q++) {
          let u = g * UPT + q;
          if (u < UNITS) { store_unit(u, total.acc[q]); }
        }
      }
      workgroupBarrier(); // the reduction's memory is rewritten for the next row
    }
  }
}
