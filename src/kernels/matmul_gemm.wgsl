// Tiled GEMM for many rows (prefill): y[m, n] = sum_k x[m, k] * W[n, k] (+ bias[n]).
// Prepended by matmul.ts: STEP_WGSL, weightWgsl(format) (`fn w4(row, c4)`), `fn bias(n)`, and the
// output snippet: `fn store(m, n, v)` into Y (with the residual add when ACCUMULATE), or split by
// columns into several outputs (the stacked q/k/v and gate/up projections).
//
// A workgroup owns a 64x64 tile of y (64 rows of x against 64 rows of W). Per K-step of 16 it
// stages a 64x16 slab of x and of W (dequantized once, by w4) in workgroup memory; each of the
// 256 threads then accumulates a 4x4 block from it, so every staged value feeds 64 multiply-adds.
// A thread's block is strided (rows tm + 16i, cols tn + 16j) so neighbouring threads read
// neighbouring words of the slabs and write neighbouring words of y.
@group(0) @binding(2) var<storage, read> X: array<f32>;       // [rows, K]
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows

const TM: u32 = 64u; // rows of x per tile
const TN: u32 = 64u; // rows of W (outputs) per tile
const TK: u32 = 16u; // columns per K-step: 64 x 16 = 256 threads x one vec4 each

// Slabs stored k-major ([TK][TM]) so the inner loop reads 4 rows at a fixed k.
var<workgroup> xs: array<f32, 1024>;
var<workgroup> ws: array<f32, 1024>;

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

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let rows = active_rows();
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;

  // Loader role: slab row lr, columns 4*lq .. 4*lq+3 of the current K-step.
  let lr = t / 4u;
  let lq = t % 4u;
  let xrow = m0 + lr;
  let wrow = min(n0 + lr, N - 1u); // rows past N load row N-1; their outputs are never written
  // Compute role: 4x4 block at rows tm + 16i, cols tn + 16j of the tile.
  let tm = t / 16u;
  let tn = t % 16u;

  let k4 = (K + 3u) / 4u;
  var acc: array<vec4<f32>, 4>; // acc[i][j]
  for (var kt = 0u; kt < K; kt += TK) {
    let c4 = kt / 4u + lq;
    var xv = vec4<f32>(0.0);
    if (xrow < rows) { xv = x4(xrow * K, c4); }
    var wv = vec4<f32>(0.0);
    if (c4 < k4) { wv = w4(wrow, c4); }
    for (var j = 0u; j < 4u; j++) {
      xs[(lq * 4u + j) * TM + lr] = xv[j];
      ws[(lq * 4u + j) * TN + lr] = wv[j];
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a = vec4<f32>(xs[kk * TM + tm], xs[kk * TM + tm + 16u], xs[kk * TM + tm + 32u], xs[kk * TM + tm + 48u]);
      let b = vec4<f32>(ws[kk * TN + tn], ws[kk * TN + tn + 16u], ws[kk * TN + tn + 32u], ws[kk * TN + tn + 48u]);
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let m = m0 + tm + 16u * i;
    if (m >= rows) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + tn + 16u * j;
      if (n < N) { store(m, n, acc[i][j] + bias(n)); }
    }
  }
}
