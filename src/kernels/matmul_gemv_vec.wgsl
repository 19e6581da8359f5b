// GEMV for one row (decode), vectorized: y[n] = sum_k x[k] * W[n, k] (+ bias[n]).
// Prepended by matmul.ts: STEP_WGSL, the bias snippet, and a 16-byte weight reader
// (gemv_vec_<format>.wgsl) that provides CHUNK (weights per 16-byte load) and
// `fn chunk_dot(row, j) -> f32`: the dot product of weights [j*CHUNK, (j+1)*CHUNK) of a row with x.
//
// Decode is bound by reading W, so each thread issues 16-byte loads (a whole vec4<u32>: 16 int8
// or 8 f16 weights) and the TPR threads of a row group read consecutive 16-byte words (coalesced).
// Each thread serves RPT = 4 rows with one load of x: without that, x (f32) would be read 4x as
// often as the int8 weights themselves, and int8 ran at a third of the bandwidth f16 reached.
// Used when K is a multiple of CHUNK (every real model); matmul_gemv.wgsl is the reference.
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // [rows, K/4], only row 0 read
const RPT: u32 = 4u; // rows per thread
@group(0) @binding(3) var<storage, read_write> Y: array<f32>; // [rows, N], only row 0 written
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false;
override ACCUMULATE: bool = false; // y += x W^T: the residual add fused into the epilogue
override WG: u32 = 256u;  // power of two
override TPR: u32 = 32u;  // threads per output row: power of two, <= WG

var<workgroup> partial: array<vec4<f32>, WG>;

fn active_rows() -> u32 {
  return select(step.rows, step.logit_rows, LOGIT_ROWS);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let lane = t % TPR;
  // Row group g of this workgroup owns rows n0 .. n0+3.
  let n0 = ((wid.y * nwg.x + wid.x) * (WG / TPR) + t / TPR) * RPT;
  // Rows past N re-read row N-1 and are dropped at the end, so every thread reaches the barriers.
  let r0 = min(n0, N - 1u);
  let r1 = min(n0 + 1u, N - 1u);
  let r2 = min(n0 + 2u, N - 1u);
  let r3 = min(n0 + 3u, N - 1u);
  let chunks = K / CHUNK;
  var acc = vec4<f32>(0.0);
  for (var j = lane; j < chunks; j += TPR) {
    let xs = load_x(j);
    acc += vec4<f32>(chunk_dot(r0, j, xs), chunk_dot(r1, j, xs), chunk_dot(r2, j, xs), chunk_dot(r3, j, xs));
  }
  partial[t] = acc;
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  // The group's lanes write its four rows (a lane writes several when TPR < 4).
  if (active_rows() > 0u) {
    for (var r = lane; r < RPT; r += TPR) {
      let n = n0 + r;
      if (n < N) {
        var v = partial[t - lane][r] + bias(n);
        if (ACCUMULATE) { v += Y[n]; }
        Y[n] = v;
      }
    }
  }
}
