// What a weight format is: one object per format (f32.ts, f16.ts, int8.ts, q4.ts) holding its
// packed layout, how it packs and unpacks a tensor on the CPU, the WGSL that reads it, its bytes
// per weight and the tolerances it is tested to. Everything that lists or switches on formats
// (packing, the memory plan, synthetic weights, the kernels' readers, the CLI, the cache key, the
// app's engine pickers) reads the registry in index.ts, so a new format is a new module.
//
// Common layout: a weight W[N, K] (HF layout: out x in, row-major) is N rows of `rowStride` u32
// words (f32: floats), each row padded with zeros to whole words and to a multiple of 4 columns.
// A quantized format adds one 4-byte word per group of `groupSize` columns of a row (a separate
// buffer, [N, ceil(K / groupSize)]): an f32 scale (int8: w ~= q * scale), or what the format packs
// there (q4: an f16 scale and offset).

/** The formats an engine can hold its linear-layer weights in. */
export type WeightFormat = 'f32' | 'f16' | 'int8' | 'q4';

export interface PackedWeight {
  format: WeightFormat;
  n: number; // rows (output features)
  k: number; // columns (input features)
  /** words (packed formats) or floats (f32) per row */
  rowStride: number;
  data: Float32Array | Uint32Array;
  /** quantized formats only: [n, groups] (f32 scales, or a format's packed words) */
  scales?: Float32Array | Uint32Array;
  groupSize?: number;
}

/** A WGSL element type of a weight array and the 4-byte words it holds. */
export interface WeightElem {
  type: 'vec4<f32>' | 'vec4<u32>' | 'vec2<u32>' | 'u32';
  words: 1 | 2 | 4;
}

/**
 * How a quantized format turns integers into floats in the 16-byte GEMV reader: 'shift'
 * (sign-extending shifts), 'magic' / 'mantissa' (exponent-bit tricks, int8 only), 'mul'
 * (multiplications and masks: no per-lane shifts, for software adapters). f16 reads 'mul' as its
 * shift-free half conversion and anything else as unpack2x16float; f32 ignores it.
 */
export type Unpack = 'shift' | 'magic' | 'mantissa' | 'mul';

export interface FormatSpec {
  readonly name: WeightFormat;
  /** short label in tables and the app: 'FP16', 'INT8', 'Q4' */
  readonly label: string;
  /** what the engine is, in a few words */
  readonly title: string;
  /** weights per u32 word (f32: 1) */
  readonly perWord: 1 | 2 | 4 | 8;
  /** scale group along K when quantized (0: not quantized, no scales) */
  readonly defaultGroupSize: number;
  /** WGSL element of the scales array (`fn s_at(row, g)` returns it): 'f32', or 'u32' for packed words */
  readonly scaleElem: 'f32' | 'u32';
  /** a group's scale relative to its largest |w| (int8 1/127), for synthetic weights; 0 without scales */
  readonly syntheticScale: number;
  /** the 4-weight reader (`fn w4(row, c4) -> vec4<f32>`) of the reference GEMV and the tiled GEMM */
  readonly w4: { elem: WeightElem; code: string };
  /** weights per 16-byte load of the vectorized GEMV and the thread GEMM */
  readonly vecChunk: number;
  /** the 16-byte reader (`load_w`, `load_x`, `chunk_dot`, `chunk_sum`; see matmul_gemv_vec.wgsl) */
  vecReader(unpack: Unpack): string;
  /** unpack variants the 16-byte reader has (the kernel lab sweeps them) */
  readonly unpacks: readonly Unpack[];
  /** what a test may expect of an engine of this format against an f32 oracle */
  readonly tolerance: {
    /** normalized RMSE of whole-model logits */
    logitsNrmse: number;
    /** a greedy fork where the top-2 logits were within this many nats is a near-tie, not a bug */
    nearTie: number;
  };
  /** packs W[n, k] (row-major f32) */
  pack(w: Float32Array, n: number, k: number, groupSize?: number): PackedWeight;
  /** the exact f32 value a kernel sees at (r, c) of a packed weight: the plain-TS reference */
  valueAt(p: PackedWeight, r: number, c: number): number;
}

/** Words (f32: floats) per packed row: K padded to a multiple of 4 columns and to whole words. */
export function rowStrideOf(f: Pick<FormatSpec, 'perWord'>, k: number): number {
  const cols = Math.max(4, f.perWord);
  return (Math.ceil(k / cols) * cols) / f.perWord;
}
