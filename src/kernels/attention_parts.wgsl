// The layout of the decode attention's split results (attention_decode.wgsl writes them, its
// `combine` entry or a quantizer that folds the combine in (matmul_w8a8.ts, 'attn_combine') reads
// them): for row r and head h, SPLITS parts of PART floats at ((r * N_HEADS + h) * SPLITS + s) *
// PART, each the split's unnormalized output (HEAD_DIM floats), its max score m and its softmax
// sum l. A row at position p has live_splits(p) parts written this step; the ones after are stale.
// Needs row_pos (STEP_ROWS_WGSL) only in its users.
override N_HEADS: u32;
override HEAD_DIM: u32;     // multiple of 4
override WINDOW: u32 = 0u;  // 0: no window; else position p sees keys j with p - j < WINDOW
override SPLITS: u32;       // splits per head the scratch holds (dispatch size)
const SPLIT: u32 = 64u;     // keys per split
override PART: u32 = HEAD_DIM + 2u;
const NEG_BIG: f32 = -3.0e38;

// First visible key of the query at position p.
fn first_key(p: u32) -> u32 {
  if (WINDOW > 0u && p + 1u > WINDOW) { return p + 1u - WINDOW; }
  return 0u;
}

// Splits that hold keys visible at position p.
fn live_splits(p: u32) -> u32 {
  return (p - first_key(p)) / SPLIT + 1u;
}

// Where row r's head h begins in the scratch.
fn parts_base(r: u32, h: u32) -> u32 {
  return (r * N_HEADS + h) * SPLITS * PART;
}
