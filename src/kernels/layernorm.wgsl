// LayerNorm over rows (GPT-2): out[r] = (x[r] - mean) / sqrt(var + eps) * weight + bias, with
// mean and variance of the row (biased variance, as torch.nn.LayerNorm), computed in two passes
// over the row (mean first, then the squared deviations: no cancellation for rows with a large
// mean). One workgroup per row with tree reductions (`main`), or one invocation walking the row
// alone (`main_thread`, for software adapters, where a barrier is a coroutine switch).
@group(0) @binding(0) var<storage, read> x: array<f32>;          // [rows, DIM]
@group(0) @binding(1) var<storage, read> weight: array<f32>;     // [DIM]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [rows, DIM]
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // [DIM]

override DIM: u32;
override EPS: f32;
override WG: u32 = 128u;

var<workgroup> partial: array<f32, WG>;

// Sum of `v` over the workgroup (every invocation gets it).
fn workgroup_sum(t: u32, v: f32) -> f32 {
  partial[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // partial is reused by the next sum
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = wid.x * DIM;
  var s = 0.0;
  for (var i = t; i < DIM; i += WG) { s += x[base + i]; }
  let mean = workgroup_sum(t, s) / f32(DIM);
  var ss = 0.0;
  for (var i = t; i < DIM; i += WG) {
    let d = x[base + i] - mean;
    ss += d * d;
  }
  let inv = inverseSqrt(workgroup_sum(t, ss) / f32(DIM) + EPS);
  for (var i = t; i < DIM; i += WG) {
    out[base + i] = (x[base + i] - mean) * inv * weight[i] + bias[i];
  }
}

@compute @workgroup_size(1)
fn main_thread(@builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * DIM;
  var s = 0.0;
  for (var i = 0u; i < DIM; i++) { s += x[base + i]; }
  let mean = s / f32(DIM);
  var ss = 0.0;
  for (var i = 0u; i < DIM; i++) {
    let d = x[base + i] - mean;
    ss += d * d;
  }
  let inv = inverseSqrt(ss / f32(DIM) + EPS);
  for (var i = 0u; i < DIM; i++) {
    out[base + i] = (x[base + i] - mean) * inv * weight[i] + bias[i];
  }
}
