// GEMM for many rows (prefill) on software adapters (SwiftShader): the thread schedule of
// matmul_gemv_thread.wgsl extended to TT rows of x. A thread owns 2 units of 4 output columns
// (8 rows of W) for TT rows of x: it loads each 16-byte chunk of its 8 weight rows once and uses
// it for all TT rows, so a weight load feeds TT times the multiply-adds it does in the GEMV.
// No workgroup memory, no barrier, no private arrays (matmul_gemm.wgsl, the tiled GEMM for GPUs,
// stages slabs in workgroup memory between barriers: on a CPU each barrier is a coroutine switch
// per 4 invocations). Assembled by matmul.ts from a GEMV reader (gemv_vec_<format>.wgsl, which
// reads x through gemv_input_plain.wgsl), `fn bias(n)` and the GEMM's `fn store(m, n, v)`.
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // [rows, K/4]
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows
override WG: u32 = 16u;
override UNITS: u32 = (N + 3u) / 4u;
const TT: u32 = 4u; // rows of x per thread

alias XChunk = array<vec4<f32>, XV>;

fn active_rows() -> u32 {
  return select(step.rows, step.logit_rows, LOGIT_ROWS);
}

fn unit_rows(u: u32) -> vec4<u32> {
  let n = 4u * min(u, UNITS - 1u);
  return min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), vec4<u32>(N - 1u));
}

struct UnitW { x: WChunk, y: WChunk, z: WChunk, w: WChunk }

fn load_unit(r: vec4<u32>, j: u32) -> UnitW {
  return UnitW(load_w(r.x, j), load_w(r.y, j), load_w(r.z, j), load_w(r.w, j));
}

fn dot_unit(w: UnitW, r: vec4<u32>, j: u32, xs: XChunk) -> vec4<f32> {
  let s = chunk_sum(xs);
  return vec4<f32>(chunk_dot(w.x, r.x, j, xs, s), chunk_dot(w.y, r.y, j, xs, s), chunk_dot(w.z, r.z, j, xs, s), chunk_dot(w.w, r.w, j, xs, s));
}

fn store_unit(m: u32, u: u32, v: vec4<f32>) {
  for (var c = 0u; c < 4u; c++) {
    let n = 4u * u + c;
    if (n < N) { store(m, n, v[c] + bias(n)); }
  }
}

// Dispatch: (ceil(UNITS / 2 / WG), ceil(rows / TT)).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let rows = active_rows();
  let u = 2u * gid.x;
  let m = TT * gid.y;
  if (u >= UNITS || m >= rows) { return; }
  let r0 = unit_rows(u);
  let r1 = unit_rows(u + 1u);
  // x rows past the last one re-read it; their sums are never stored.
  let chunks = K / CHUNK;
  let b0 = min(m, rows - 1u) * chunks;
  let b1 = min(m + 1u, rows - 1u) * chunks;
  let b2 = min(m + 2u, rows - 1u) * chunks;
  let b3 = min(m + 3u, rows - 1u) * chunks;
  var a00 = vec4<f32>(0.0); var a01 = vec4<f32>(0.0);
  var a10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0);
  var a20 = vec4<f32>(0.0); var a21 = vec4<f32>(0.0);
  var a30 = vec4<f32>(0.0); var a31 = vec4<f32>(0.0);
  var ss = 0.0; // unused: the plain input transform keeps no sum of squares
  for (var j = 0u; j < chunks; j++) {
    let w0 = load_unit(r0, j);
    let w1 = load_unit(r1, j);
    let x0 = load_x(b0 + j, &ss);
    a00 += dot_unit(w0, r0, j, x0); a01 += dot_unit(w1, r1, j, x0);
    let x1 = load_x(b1 + j, &ss);
    a10 += dot_unit(w0, r0, j, x1); a11 += dot_unit(w1, r1, j, x1);
    let x2 = load_x(b2 + j, &ss);
    a20 += dot_unit(w0, r0, j, x2); a21 += dot_unit(w1, r1, j, x2);
    let x3 = load_x(b3 + j, &ss);
    a30 += dot_unit(w0, r0, j, x3); a31 += dot_unit(w1, r1, j, x3);
  }
  let has1 = u + 1u < UNITS;
  store_unit(m, u, a00);
  if (has1) { store_unit(m, u + 1u, a01); }
  if (m + 1u < rows) { store_unit(m + 1u, u, a10); if (has1) { store_unit(m + 1u, u + 1u, a11); } }
  if (m + 2u < rows) { store_unit(m + 2u, u, a20); if (has1) { store_unit(m + 2u, u + 1u, a21); } }
  if (m + 3u < rows) { store_unit(m + 3u, u, a30); if (has1) { store_unit(m + 3u, u + 1u, a31); } }
}
