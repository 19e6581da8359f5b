// GEMV for one row (decode), one thread per four units of 4 output rows: the schedule for software
// adapters (SwiftShader), which run 4 invocations as the lanes of one CPU SIMD register. There,
// what costs is instructions, not bandwidth: a workgroup barrier is a coroutine switch per 4
// invocations, an array indexed by a runtime value becomes a gather through memory, and every
// storage load is a gather with a bounds check per lane. So a thread walks its rows' whole length
// alone (no lane reduction, no barrier), keeps everything in named values (no private arrays),
// and uses each load of x for 16 rows (measured on 2 cores: int8 and f16 ~20% less CPU per token
// than 8 rows; f32 the same). Assembled by gemv.ts from the same parts as
// matmul_gemv_vec.wgsl (reader, input transform, row layout), which is its correctness reference.
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // [rows, K/4], only row 0 read (row_index stays 0)
@group(0) @binding(4) var<uniform> step: Step;

override K: u32;
override LOGIT_ROWS: bool = false; // count rows with step.logit_rows instead of step.rows
override WG: u32 = 64u;

alias XChunk = array<vec4<f32>, XV>;

fn active_rows() -> u32 {
  return select(step.rows, step.logit_rows, LOGIT_ROWS);
}

fn dot_unit(r: vec4<u32>, j: u32, xs: XChunk, xsum: f32) -> vec4<f32> {
  return vec4<f32>(chunk_dot(load_w(r.x, j), r.x, j, xs, xsum), chunk_dot(load_w(r.y, j), r.y, j, xs, xsum),
                   chunk_dot(load_w(r.z, j), r.z, j, xs, xsum), chunk_dot(load_w(r.w, j), r.w, j, xs, xsum));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let u = 4u * ((wid.y * nwg.x + wid.x) * WG + t);
  // Units past the end re-read the last one and store nothing, so every lane runs the same loop.
  let r0 = unit_rows(min(u, UNITS - 1u));
  let r1 = unit_rows(min(u + 1u, UNITS - 1u));
  let r2 = unit_rows(min(u + 2u, UNITS - 1u));
  let r3 = unit_rows(min(u + 3u, UNITS - 1u));
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var ss = 0.0;
  for (var j = 0u; j < K / CHUNK; j++) {
    let xs = load_x(j, &ss);
    let xsum = chunk_sum(xs);
    acc0 += dot_unit(r0, j, xs, xsum);
    acc1 += dot_unit(r1, j, xs, xsum);
    acc2 += dot_unit(r2, j, xs, xsum);
    acc3 += dot_unit(r3, j, xs, xsum);
  }
  if (active_rows() > 0u) {
    let scale = input_scale(ss);
    if (u < UNITS) { store_unit(u, acc0 * scale); }
    if (u + 1u < UNITS) { store_unit(u + 1u, acc1 * scale); }
    if (u + 2u < UNITS) { store_unit(u + 2u, acc2 * scale); }
    if (u + 3u < UNITS) { store_unit(u + 3u, acc3 * scale); }
  }
}
