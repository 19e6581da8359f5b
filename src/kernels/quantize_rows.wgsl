// Activations to 8 bits for the W8A8 GEMMs (matmul_w8a8.ts): each row of x [rows, K] in groups of
// G columns (the weight's scale group), symmetric like the int8 weights: s = max |x| / 127,
// q = round(x / s) in [-127, 127], four per u32 (byte j = column 4 * word + j).
// Prepended: STEP_WGSL (STEP_ROWS_WGSL for the attention form), `fn pass_rows()` (the pass's rows: step.rows or step.logit_rows) and an input form (matmul_w8a8.ts: inputWgsl), which declares the source
// buffers and `prepare(r, t, c)` (once per row, in uniform control flow: a norm's reduction, or
// the attention splits' weights; c is the invocation's vec4 column) and `load(r, c)` (vec4 c of
// row r of x). Grid: x = chunks of 4 * WG columns, y = rows (a workgroup
// per row walking it chunk by chunk took 20 us for 16 rows on an H100: 16 workgroups). G divides
// 4 * WG, so a group never straddles two chunks, and its G / 4 threads meet in workgroup memory.
@group(0) @binding(1) var<storage, read_write> XQ: array<u32>;  // [rows, K / 4]
@group(0) @binding(2) var<storage, read_write> XS: array<f32>;  // [rows, GROUPS]
@group(0) @binding(3) var<uniform> step: Step;

override K: u32;      // a multiple of 4
override G: u32;      // group size: a multiple of 4 that divides 4 * WG
override GROUPS: u32; // ceil(K / G)
const WG: u32 = 256u;

var<workgroup> amax: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let r = wid.y;
  if (r >= pass_rows()) { return; }
  prepare(r, t, wid.x * WG + t);
  let k4 = K / 4u;
  let tpg = G / 4u; // threads per group
  let first = (t / tpg) * tpg;
  let c = wid.x * WG + t;
  var v = vec4<f32>(0.0);
  if (c < k4) { v = load(r, c); }
  let a = abs(v);
  amax[t] = max(max(a.x, a.y), max(a.z, a.w));
  workgroupBarrier();
  var m = 0.0;
  for (var i = 0u; i < tpg; i++) { m = max(m, amax[first + i]); }
  if (c < k4) {
    let inv = select(0.0, 127.0 / m, m > 0.0);
    XQ[r * k4 + c] = pack4xI8(vec4<i32>(clamp(round(v * inv), vec4<f32>(-127.0), vec4<f32>(127.0))));
    if (t == first) { XS[r * GROUPS + (4u * c) / G] = m / 127.0; }
  }
}
