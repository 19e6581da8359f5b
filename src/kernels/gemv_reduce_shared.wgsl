// Lane reduction for matmul_gemv_vec.wgsl through workgroup memory (any adapter): a tree over the
// TPR lanes of each row group. The sum lands in lane 0.
var<workgroup> red_acc: array<vec4<f32>, WG * UPT>;
var<workgroup> red_ss: array<f32, WG>;

fn reduce_lanes(t: u32, lane: u32, mine: Lanes) -> Lanes {
  for (var q = 0u; q < UPT; q++) { red_acc[t * UPT + q] = mine.acc[q]; }
  if (NORM) { red_ss[t] = mine.ss; }
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      for (var q = 0u; q < UPT; q++) { red_acc[t * UPT + q] += red_acc[(t + s) * UPT + q]; }
      if (NORM) { red_ss[t] += red_ss[t + s]; }
    }
    workgroupBarrier();
  }
  var out: Lanes;
  for (var q = 0u; q < UPT; q++) { out.acc[q] = red_acc[t * UPT + q]; }
  if (NORM) { out.ss = red_ss[t]; }
  return out;
}
