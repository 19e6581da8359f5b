// GEMV for one row (decode), vectorized: y[n] = sum_k x[k] * W[n, k] (+ bias[n]).
// Prepended by matmul.ts: STEP_WGSL, the bias snippet, and a 16-byte weight reader
// (gemv_vec_<format>.wgsl) that provides CHUNK (weights per 16-byte load) and
// `fn chunk_dot(row, j) -> f32`: the dot product of weights [j*CHUNK, (j+1)*CHUNK) of a row with x.
//
// Decode is bound by reading W, so each thread issues 16-byte loads (a whole vec4<u32>: 16 int8
// or 8 f16 weights), two independent ones per loop trip to keep bytes in flight, and the TPR
// threads of a row read consecutive 16-byte words (coalesced). Used when K is a multiple of
// CHUNK (every real model); matmul_gemv.wgsl is the general reference.
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // [rows, K/4], only row 0 read
@group(0) @binding(3) var<storage, read_write> Y: array<f32>; // [rows, N], only row 0 written
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false;
override ACCUMULATE: bool = false; // y += x W^T: the residual add fused into the epilogue
override WG: u32 = 256u;  // power of two
override TPR: u32 = 32u;  // threads per output row: power of two, <= WG

var<workgroup> partial: array<f32, WG>;

fn active_rows() -> u32 {
  return select(step.rows, step.logit_rows, LOGIT_ROWS);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let lane = t % TPR;
  let n = (wid.y * nwg.x + wid.x) * (WG / TPR) + t / TPR;
  // Rows past N re-read row N-1 and are dropped at the end, so every thread reaches the barriers.
  let row = min(n, N - 1u);
  let chunks = K / CHUNK;
  var acc0 = 0.0;
  var acc1 = 0.0;
  var j = lane;
  for (; j + TPR < chunks; j += 2u * TPR) {
    acc0 += chunk_dot(row, j);
    acc1 += chunk_dot(row, j + TPR);
  }
  if (j < chunks) {
    acc0 += chunk_dot(row, j);
  }
  partial[t] = acc0 + acc1;
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  if (lane == 0u && n < N && active_rows() > 0u) {
    var v = partial[t] + bias(n);
    if (ACCUMULATE) { v += Y[n]; }
    Y[n] = v;
  }
}
