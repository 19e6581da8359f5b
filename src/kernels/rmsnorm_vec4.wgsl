// RMSNorm over rows for widths divisible by 4 (GPUs): one workgroup of WG invocations per row, each
// reading whole vec4s. A row of 4096 is 4 loads per invocation instead of 32 in rmsnorm.wgsl's
// scalar loop, whose loads a compiler issues one after another (the sum carries a dependency), so
// the dispatch was bound by memory latency (about 29 us for 16 rows on an H100, as long as a
// 4096x4096 GEMM over the same rows), not by bytes.
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;      // [rows, DIM / 4]
@group(0) @binding(1) var<storage, read> weight: array<vec4<f32>>; // [DIM / 4]
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>; // [rows, DIM / 4]

override DIM: u32;
override EPS: f32;
// Workgroups are RMS_WG invocations (rmsnorm_row.wgsl, prepended).

fn rms_in(i: u32) -> vec4<f32> { return x[i]; }

@compute @workgroup_size(RMS_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let units = DIM / 4u;
  let base = wid.x * units;
  let inv = row_inv_rms(base, units, t, EPS);
  for (var i = t; i < units; i += RMS_WG) {
    out[base + i] = x[base + i] * inv * weight[i];
  }
}
