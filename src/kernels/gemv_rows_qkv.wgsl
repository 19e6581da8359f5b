// Row layout for matmul_gemv_vec.wgsl over the stacked q/k/v projection [Q + 2*KV, D] at decode,
// with RoPE (unless ROPE is false) and the KV-cache append fused into the epilogue (HF rotate_half: inside a head, row
// d pairs with d + HALF). Unit u covers rows (i, i + HALF, i + 1, i + 1 + HALF) of one head, so
// the thread that finishes it holds both members of two rotation pairs: it rotates them and
// writes q rows to Yq, k rows to the layer's key cache and v rows to its value cache, at
// position step.pos. q, k and v parts are whole heads, so a unit never straddles two parts.
// Rows i and i + 1 (i even) are neighbours in the cache: they are written as one pair, which an f16
// cache stores in one u32.
// Prepended by gemv_qkv.ts: sincos.wgsl, the bias snippet and the cache's bindings 7, 8 (kv_cache.ts).
@group(0) @binding(3) var<storage, read_write> Yq: array<f32>;     // [Q]
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

// Rows row and row + 1 (row even: a head starts at a multiple of 4).
fn put2(row: u32, v: vec2<f32>) {
  if (row < Q_DIM) {
    Yq[row] = v.x;
    Yq[row + 1u] = v.y;
  } else if (row < Q_DIM + KV_DIM) {
    kv_put_k(step.pos * KV_DIM + row - Q_DIM, v);
  } else {
    kv_put_v(step.pos * KV_DIM + row - Q_DIM - KV_DIM, v);
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
  put2(rows.x, y.xz); // rows.z = rows.x + 1
  put2(rows.y, y.yw); // rows.w = rows.y + 1
}
