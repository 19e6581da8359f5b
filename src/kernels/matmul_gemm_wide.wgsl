// Wide tiled GEMM for many rows (prefill on GPUs): y[m, n] = sum_k x[m, k] * W[n, k] (+ bias[n]).
// Same contract as matmul_gemm.wgsl (prepended by matmul.ts: STEP_WGSL, the format's `fn w4(row, c4)`,
// `fn bias(n)`, the output's `fn store(m, n, v)`, and `const TM: u32` = 64 or 128).
//
// A workgroup of 256 threads owns a TM x 128 tile of y. Per K-step of 16 it stages a TM x 16 slab
// of x and a 128 x 16 slab of W (dequantized once, by w4) in workgroup memory, k-major as vec4s;
// each thread then accumulates a (TM / 16) x 8 block: per k, TM / 64 + 2 vec4 reads from the slabs
// feed TM / 2 multiply-adds (64 at TM = 128, where the 64 x 64 kernel gets 16 from 8 scalar reads).
// The next K-step's x and W are read from memory into registers before the current step's
// arithmetic, so the loads are in flight while it runs (16 KiB of workgroup memory at TM = 128:
// within WebGPU's default limit, so no second slab buffer).
// A thread's rows are 4 neighbours (4 * ty + i) in each 64-row half, its columns 4 neighbours
// (4 * tx + j) in each 64-column half: one vec4 read per half.
@group(0) @binding(2) var<storage, read> X: array<f32>;       // [rows, K]
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows

const TN: u32 = 128u;        // rows of W (outputs) per tile
const TK: u32 = 16u;         // columns per K-step
const RH: u32 = TM / 64u;    // 64-row halves of the tile
const XL: u32 = TM / 64u;    // x slab vec4 loads per thread (TM rows x 4 vec4 / 256 threads)
const WL: u32 = 2u;          // W slab vec4 loads per thread (128 rows x 4 vec4 / 256 threads)

var<workgroup> xs: array<vec4<f32>, TK * TM / 4u>; // [k][m / 4]
var<workgroup> ws: array<vec4<f32>, TK * TN / 4u>; // [k][n / 4]

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

// Row m of the thread's block: columns n .. n+3 from a, n+64 .. n+67 from b.
fn store_row(rows: u32, m: u32, n: u32, a: vec4<f32>, b: vec4<f32>) {
  if (m >= rows) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (n + j < N) { store(m, n + j, a[j] + bias(n + j)); }
    if (n + 64u + j < N) { store(m, n + 64u + j, b[j] + bias(n + 64u + j)); }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let rows = active_rows();
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  let k4 = (K + 3u) / 4u;

  // Loader role: load l covers slab row (t + 256 l) / 4, vec4 column (t % 4) of the K-step.
  let lq = t % 4u;
  let lr = t / 4u; // + 64 l
  // Compute role: rows 4 ty + i (+ 64 per half), columns 4 tx + j (+ 64 per half).
  let ty = t / 16u;
  let tx = t % 16u;

  var xv: array<vec4<f32>, XL>;
  var wv: array<vec4<f32>, WL>;
  var acc: array<vec4<f32>, 16>; // acc[(h * 4 + i) * 2 + c][j]; the second half unused at TM = 64

  // The first K-step's slabs, into registers.
  for (var l = 0u; l < XL; l++) {
    let r = m0 + lr + 64u * l;
    xv[l] = vec4<f32>(0.0);
    if (r < rows) { xv[l] = x4(r * K, lq); }
  }
  for (var l = 0u; l < WL; l++) {
    let r = min(n0 + lr + 64u * l, N - 1u); // rows past N load row N-1; their outputs are never written
    wv[l] = vec4<f32>(0.0);
    if (lq < k4) { wv[l] = w4(r, lq); }
  }

  for (var kt = 0u; kt < K; kt += TK) {
    for (var l = 0u; l < XL; l++) {
      let r = lr + 64u * l;
      for (var j = 0u; j < 4u; j++) { xs[(lq * 4u + j) * (TM / 4u) + r / 4u][r % 4u] = xv[l][j]; }
    }
    for (var l = 0u; l < WL; l++) {
      let r = lr + 64u * l;
      for (var j = 0u; j < 4u; j++) { ws[(lq * 4u + j) * (TN / 4u) + r / 4u][r % 4u] = wv[l][j]; }
    }
    workgroupBarrier();

    // The next K-step's slabs, in flight during this step's arithmetic.
    let c4 = (kt + TK) / 4u + lq;
    if (kt + TK < K) {
      for (var l = 0u; l < XL; l++) {
        let r = m0 + lr + 64u * l;
        xv[l] = vec4<f32>(0.0);
        if (r < rows) { xv[l] = x4(r * K, c4); }
      }
      for (var l = 0u; l < WL; l++) {
        let r = min(n0 + lr + 64u * l, N - 1u);
        wv[l] = vec4<f32>(0.0);
        if (c4 < k4) { wv[l] = w4(r, c4); }
      }
    }

    for (var kk = 0u; kk < TK; kk++) {
      let b0 = ws[kk * (TN / 4u) + tx];
      let b1 = ws[kk * (TN / 4u) + 16u + tx];
      for (var h = 0u; h < RH; h++) {
        let a = xs[kk * (TM / 4u) + 16u * h + ty];
        for (var i = 0u; i < 4u; i++) {
          acc[(h * 4u + i) * 2u] += a[i] * b0;
          acc[(h * 4u + i) * 2u + 1u] += a[i] * b1;
        }
      }
    }
    workgroupBarrier();
  }

  // Written out with constant indices: a loop that indexes acc (with an early exit, or around a
  // split output's branches) can keep the compiler from unrolling it, and acc then lives in local
  // memory for the whole kernel (H200: a split GEMM 12x slower).
  let m = m0 + 4u * ty;
  let n = n0 + 4u * tx;
  store_row(rows, m, n, acc[0], acc[1]);
  store_row(rows, m + 1u, n, acc[2], acc[3]);
  store_row(rows, m + 2u, n, acc[4], acc[5]);
  store_row(rows, m + 3u, n, acc[6], acc[7]);
  if (RH > 1u) {
    store_row(rows, m + 64u, n, acc[8], acc[9]);
    store_row(rows, m + 65u, n, acc[10], acc[11]);
    store_row(rows, m + 66u, n, acc[12], acc[13]);
    store_row(rows, m + 67u, n, acc[14], acc[15]);
  }
}
