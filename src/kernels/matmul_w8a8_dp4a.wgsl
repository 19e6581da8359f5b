// W8A8 GEMM, the readable form: y[m, n] = sum over groups g of
//   f32(sum_{k in g} xq[m, k] * wq[n, k]) * (xs[m, g] * ws[n, g])  (+ bias[n]),
// int8 weights (formats/int8.ts) against x quantized per row and group (quantize_rows.wgsl).
// A group's products are summed exactly in i32 (dot4I8Packed: four at a time), so every W8A8
// kernel gets the same group sums and differs only in the order of the f32 sums across groups;
// this one adds them in group order, as the subgroup-matrix kernel does. It runs on any adapter
// (CI's SwiftShader too) and is the correctness reference of matmul_w8a8_sgmat.
// Prepended: STEP_WGSL, `fn pass_rows()` (PASS_ROWS_WGSL), the int8 weight declarations (`w_at`, `s_at`, W_STRIDE, W_GROUPS,
// W_GROUP_SIZE), `fn bias(n)` and `fn store(m, n, v)`.
@group(0) @binding(8) var<storage, read> XQ: array<u32>; // [rows, W_STRIDE]
@group(0) @binding(9) var<storage, read> XS: array<f32>; // [rows, W_GROUPS]
@group(0) @binding(4) var<uniform> step: Step;

override N: u32;
override K: u32;
const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let m = gid.y;
  let rows = pass_rows();
  if (n >= N || m >= rows) { return; }
  let per_group = W_GROUP_SIZE / 4u;
  var acc = 0.0;
  for (var g = 0u; g < W_GROUPS; g++) {
    let c0 = g * per_group;
    let c1 = min(c0 + per_group, W_STRIDE);
    var s = 0i;
    for (var c = c0; c < c1; c++) {
      s += dot4I8Packed(XQ[m * W_STRIDE + c], w_at(n, c));
    }
    acc += f32(s) * (XS[m * W_GROUPS + g] * s_at(n, g));
  }
  store(m, n, acc + bias(n));
}
