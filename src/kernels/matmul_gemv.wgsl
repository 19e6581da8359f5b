// GEMV for one row (decode): y[n] = sum_k x[k] * W[n, k] (+ bias[n]).
// Prepended by matmul.ts: STEP_WGSL, weightWgsl(format) (W at binding 0, int8 scales at 1, and
// `fn w4(row, c4)`), and the bias snippet (`fn bias(n)`, reading binding 5 or returning 0).
//
// A workgroup computes WG / TPR consecutive outputs; the TPR threads of one output walk its row
// in 4-column steps (consecutive threads read consecutive words: coalesced), then sum their
// partials in workgroup memory. Decode is bound by reading W: every weight is read exactly once.
// TPR is chosen per k by matmul.ts (k = 64 -> 4 threads per row, 64 rows per workgroup).
@group(0) @binding(2) var<storage, read> X: array<f32>;       // [rows, K], only row 0 read
@group(0) @binding(3) var<storage, read_write> Y: array<f32>; // [rows, N], only row 0 written
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows
override ACCUMULATE: bool = false; // y += x W^T: the residual add fused into the epilogue
override WG: u32 = 256u;  // power of two
override TPR: u32 = 256u; // threads per output row: power of two, <= WG

var<workgroup> partial: array<f32, WG>;

fn active_rows() -> u32 {
  return select(step.rows, step.logit_rows, LOGIT_ROWS);
}

// x[base + 4*c4 .. +3], zero past K: x rows are not padded to 4 like W rows are.
fn x4(base: u32, c4: u32) -> vec4<f32> {
  let c = c4 * 4u;
  if (c + 3u < K) {
    return vec4<f32>(X[base + c], X[base + c + 1u], X[base + c + 2u], X[base + c + 3u]);
  }
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (c + j < K) { v[j] = X[base + c + j]; }
  }
  return v;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let lane = t % TPR;
  // The grid is 2-D past 1024 workgroups (matmul.ts); trailing ones get n >= N and write nothing.
  let n = (wid.y * nwg.x + wid.x) * (WG / TPR) + t / TPR;
  // Rows past N re-read row N-1 and are dropped at the end, so every thread reaches the barriers.
  let row = min(n, N - 1u);
  let k4 = (K + 3u) / 4u;
  var acc = 0.0;
  for (var c = lane; c < k4; c += TPR) {
    acc += dot(w4(row, c), x4(0u, c));
  }
  partial[t] = acc;
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
