// RMSNorm over rows: out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight. One workgroup per row:
// WG invocations and a tree reduction (`main`), or one invocation walking the row alone
// (`main_thread`, for software adapters, where a barrier is a coroutine switch).
@group(0) @binding(0) var<storage, read> x: array<f32>;      // [rows, DIM]
@group(0) @binding(1) var<storage, read> weight: array<f32>; // [DIM]
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [rows, DIM]

override DIM: u32;
override EPS: f32;
override WG: u32 = 128u;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = wid.x * DIM;
  var ss = 0.0;
  for (var i = t; i < DIM; i += WG) {
    let v = x[base + i];
    ss += v * v;
  }
  partial[t] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(partial[0] / f32(DIM) + EPS);
  for (var i = t; i < DIM; i += WG) {
    out[base + i] = x[base + i] * inv * weight[i];
  }
}

@compute @workgroup_size(1)
fn main_thread(@builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * DIM;
  var ss = 0.0;
  for (var i = 0u; i < DIM; i++) {
    let v = x[base + i];
    ss += v * v;
  }
  let inv = inverseSqrt(ss / f32(DIM) + EPS);
  for (var i = 0u; i < DIM; i++) {
    out[base + i] = x[base + i] * inv * weight[i];
  }
}
