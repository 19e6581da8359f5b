// Deterministic pseudo-random fill of a packed buffer, for synthetic benchmark weights: word w of
// the output holds PER_WORD values of one row (f32: 1, f16 pair: 2, int8: 4, q4: 8), with the row
// layout of kernels/formats, so values past `cols` in a row (the padding to 4 columns) are zero.
// Every value is a pure function of (seed, row, column): the same tensor comes out at any grid
// shape, and tests can recompute it in TypeScript.
struct Params {
  seed: u32,
  words: u32,      // words to write
  row_words: u32,  // words per row (the packed row stride)
  cols: u32,       // valid values per row
  mode: u32,       // 0 = f32, 1 = f16 pairs, 2 = int8 quads, 3 = q4 octets
  lo: f32,         // f32 / f16 values are uniform in [lo, hi)
  hi: f32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;

override WG: u32 = 256u;

// A 32-bit integer mixer with full avalanche (xor-shift / multiply rounds): consecutive indices
// give unrelated outputs, which a plain LCG would not.
fn mix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x21f0aaadu;
  h ^= h >> 15u;
  h *= 0x735a2d97u;
  h ^= h >> 15u;
  return h;
}

// Hash of one value position; columns, not words, so the formats share one stream per tensor.
fn hash_at(row: u32, col: u32) -> u32 {
  return mix32(mix32(p.seed ^ mix32(row)) + col);
}

fn uniform_at(row: u32, col: u32) -> f32 {
  // 24 high bits -> [0, 1): exact in f32.
  let u = f32(hash_at(row, col) >> 8u) * (1.0 / 16777216.0);
  return p.lo + (p.hi - p.lo) * u;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let w = (wid.y * nwg.x + wid.x) * WG + t;
  if (w >= p.words) { return; }
  let row = w / p.row_words;
  let word_in_row = w % p.row_words;
  if (p.mode == 0u) {
    let c = word_in_row;
    out[w] = select(0u, bitcast<u32>(uniform_at(row, c)), c < p.cols);
  } else if (p.mode == 1u) {
    let c = word_in_row * 2u;
    let a = select(0.0, uniform_at(row, c), c < p.cols);
    let b = select(0.0, uniform_at(row, c + 1u), c + 1u < p.cols);
    out[w] = pack2x16float(vec2<f32>(a, b));
  } else {
    // Signed integers of `bits` bits, never the most negative: int8 bytes in [-127, 127] (mode 2,
    // like int8.ts), q4 nibbles in [-7, 7] (mode 3; q4.ts may use -8, a speed run need not);
    // value j = column per*word + j.
    let bits = select(8u, 4u, p.mode == 3u);
    let per = 32u / bits;
    let mask = (1u << bits) - 1u; // also the count of values drawn: 255 or 15
    var word = 0u;
    for (var j = 0u; j < per; j++) {
      let c = word_in_row * per + j;
      if (c < p.cols) {
        let q = i32(hash_at(row, c) % mask) - i32(mask / 2u);
        word |= (bitcast<u32>(q) & mask) << (bits * j);
      }
    }
    out[w] = word;
  }
}
