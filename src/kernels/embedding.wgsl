// Embedding lookup: out[r, :] = W[ids[r], :], read through the weight format's w4 reader (prepended
// by the wrapper), so the same packed table can also serve as a tied lm_head.
// One invocation per 4 columns of one row: x = column quad, y = row.
@group(0) @binding(2) var<storage, read> ids: array<u32>;          // [rows]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // [rows, DIM]

override DIM: u32;   // embedding width (any value: rows of out are not padded)
override VOCAB: u32; // rows of the table
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let c = g.x * 4u;
  if (c >= DIM) { return; }
  let r = g.y;
  // An out-of-range id is a caller bug; clamping keeps the read inside the table.
  let id = min(ids[r], VOCAB - 1u);
  let v = w4(id, g.x);
  let base = r * DIM + c;
  out[base] = v.x;
  // DIM need not be a multiple of 4, and out rows are packed: never write into the next row.
  if (c + 1u < DIM) { out[base + 1u] = v.y; }
  if (c + 2u < DIM) { out[base + 2u] = v.z; }
  if (c + 3u < DIM) { out[base + 3u] = v.w; }
}
