// GEMV for one row (decode): y[n] = sum_k x[k] * W[n, k] (+ bias[n]).
// Prepended by matmul.ts: STEP_WGSL, weightWgsl(format) (W at binding 0, int8 scales at 1, and
// `fn w4(row, c4)`), and the bias snippet (`fn bias(n)`, reading binding 5 or returning 0).
//
// Each workgroup computes OUTS consecutive outputs: every thread walks k in steps of 4 columns,
// loads its 4 x values once and reuses them for all OUTS weight rows, then the workgroup sums the
// per-thread partials. Decode is bound by reading W, so the point is to touch every weight once,
// in row-contiguous runs, with enough workgroups in flight to cover a 152k-row lm_head.
@group(0) @binding(2) var<storage, read> X: array<f32>;       // [rows, K], only row 0 read
@group(0) @binding(3) var<storage, read_write> Y: array<f32>; // [rows, N], only row 0 written
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows
override WG: u32 = 256u;           // power of two (tree reduction)

// One vec4 lane per output, so the per-thread accumulators and the reduction are single vec4s.
const OUTS: u32 = 4u;

var<workgroup> partial: array<vec4<f32>, WG>;

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
  // The grid is 2-D past 1024 workgroups (matmul.ts); trailing ones get n0 >= N and write nothing.
  let n0 = (wid.y * nwg.x + wid.x) * OUTS;
  // Outputs past N re-read row N-1 and are dropped at the end, so every thread reaches the barriers.
  let r0 = min(n0, N - 1u);
  let r1 = min(n0 + 1u, N - 1u);
  let r2 = min(n0 + 2u, N - 1u);
  let r3 = min(n0 + 3u, N - 1u);

  let k4 = (K + 3u) / 4u;
  var acc = vec4<f32>(0.0);
  for (var c = t; c < k4; c += WG) {
    let xv = x4(0u, c);
    acc += vec4<f32>(dot(w4(r0, c), xv), dot(w4(r1, c), xv), dot(w4(r2, c), xv), dot(w4(r3, c), xv));
  }
  partial[t] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  let n = n0 + t;
  if (t < OUTS && n < N && active_rows() > 0u) {
    Y[n] = partial[0][t] + bias(n);
  }
}
