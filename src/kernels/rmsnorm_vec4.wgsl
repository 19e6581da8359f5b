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
override WG: u32 = 256u;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let units = DIM / 4u;
  let base = wid.x * units;
  var ss = vec4<f32>(0.0);
  for (var i = t; i < units; i += WG) {
    let v = x[base + i];
    ss = fma(v, v, ss);
  }
  partial[t] = (ss.x + ss.y) + (ss.z + ss.w);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(partial[0] / f32(DIM) + EPS);
  for (var i = t; i < units; i += WG) {
    out[base + i] = x[base + i] * inv * weight[i];
  }
}
