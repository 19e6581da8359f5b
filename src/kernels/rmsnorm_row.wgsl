// The inverse RMS of one row of vec4s, over a workgroup of RMS_WG invocations: each sums the
// squares of every RMS_WG-th vec4 (fma, in order), then a tree of workgroup sums. Every kernel that
// normalizes a row includes this (rmsnorm_vec4.wgsl; the W8A8 quantizer's fused RMSNorm in
// matmul_w8a8.ts), so they get the same bits. The includer defines `fn rms_in(i: u32) ->
// vec4<f32>` (vec4 i of its input) and calls row_inv_rms in uniform control flow (barriers).
const RMS_WG: u32 = 256u;
var<workgroup> rms_partial: array<f32, RMS_WG>;

fn row_inv_rms(base: u32, units: u32, t: u32, eps: f32) -> f32 {
  var ss = vec4<f32>(0.0);
  for (var i = t; i < units; i += RMS_WG) {
    let v = rms_in(base + i);
    ss = fma(v, v, ss);
  }
  rms_partial[t] = (ss.x + ss.y) + (ss.z + ss.w);
  workgroupBarrier();
  for (var s = RMS_WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { rms_partial[t] += rms_partial[t + s]; }
    workgroupBarrier();
  }
  return inverseSqrt(rms_partial[0] / f32(4u * units) + eps);
}
