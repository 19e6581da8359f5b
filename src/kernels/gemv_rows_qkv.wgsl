// Row layout for matmul_gemv_vec.wgsl over the stacked q/k/v projection [Q + 2*KV, D] at decode,
// with RoPE (unless ROPE is false) and the KV-cache append fused into the epilogue (HF rotate_half: inside a head, row
// d pairs with d + HALF). Unit u covers rows (i, i + HALF, i + 1, i + 1 + HALF) of one head, so
// the thread that finishes it holds both members of two rotation pairs: it rotates them and
// writes q rows to Yq, k rows to the layer's key cache and v rows to its value cache, at
// position step.pos. q, k and v parts are whole heads, so a unit never straddles two parts.
// Prepended by gemv_qkv.ts: sincos.wgsl and the bias snippet.
@group(0) @binding(3) var<storage, read_write> Yq: array<f32>;     // [Q]
@group(0) @binding(7) var<storage, read_write> k_cache: array<f32>; // [maxCtx, KV]
@group(0) @binding(8) var<storage, read_write> v_cache: array<f32>; // [maxCtx, KV]
@group(0) @binding(9) var<uniform> inv_freq: array<vec4<f32>, 32>;  // [HALF] RoPE inverse frequencies

override HEAD_DIM: u32; // multiple of 4
override Q_DIM: u32;    // heads * HEAD_DIM
override KV_DIM: u32;   // kv heads * HEAD_DIM
override UNITS: u32 = (Q_DIM + 2u * KV_DIM) / 4u;
override HALF: u32 = HEAD_DIM / 2u;
override ROPE: bool = true; // false: no rotation (GPT-2's learned positions), the rest as is

fn unit_rows(u: u32) -> vec4<u32> {
  let r = 4u * u;
  let head = r - r % HEAD_DIM;
  let i = (r % HEAD_DIM) / 2u;
  return vec4<u32>(head + i, head + i + HALF, head + i + 1u, head + i + 1u + HALF);
}

fn freq(i: u32) -> f32 {
  return inv_freq[i / 4u][i % 4u];
}

// (a, b) -> (a cos - b sin, b cos + a sin) at frequency i, the angle formed as HF does.
fn rotate(a: f32, b: f32, i: u32) -> vec2<f32> {
  let sc = sincos(f32(step.pos) * freq(i));
  return vec2<f32>(a * sc.y - b * sc.x, b * sc.y + a * sc.x);
}

fn put(row: u32, v: f32) {
  if (row < Q_DIM) {
    Yq[row] = v;
  } else if (row < Q_DIM + KV_DIM) {
    k_cache[step.pos * KV_DIM + row - Q_DIM] = v;
  } else {
    v_cache[step.pos * KV_DIM + row - Q_DIM - KV_DIM] = v;
  }
}

fn store_unit(u: u32, v: vec4<f32>) {
  let rows = unit_rows(u);
  var y = v + vec4<f32>(bias(rows.x), bias(rows.y), bias(rows.z), bias(rows.w));
  if (ROPE && rows.x < Q_DIM + KV_DIM) {
    let i = rows.x % HEAD_DIM;
    let p0 = rotate(y.x, y.y, i);
    let p1 = rotate(y.z, y.w, i + 1u);
    y = vec4<f32>(p0, p1);
  }
  put(rows.x, y.x);
  put(rows.y, y.y);
  put(rows.z, y.z);
  put(rows.w, y.w);
}
