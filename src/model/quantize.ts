// The three weight formats of a linear layer W[N, K] (HF layout: out x in, row-major) as the GPU
// kernels read them. Engines differ only in this format and in the matmul kernel that reads it.
//
// Rows are padded with zeros to a multiple of 4 columns so kernels always read 4 weights at a time.
//   f32  : Float32Array [N, K4*4]        K4 = ceil(K/4)
//   f16  : Uint32Array  [N, K4*2]  two f16 per word (low half = even k), read with unpack2x16float,
//          so the f16 engine needs no `shader-f16`
//   int8 : Uint32Array  [N, K4]    four signed bytes per word (byte j = k % 4), plus
//          Float32Array scales [N, ceil(K/groupSize)]: symmetric, w ~= q * scale, q in [-127, 127]
//
// int8 uses per-group scales along K (group 128 by default): 4 bytes of scale per 128 weights is
// 3% overhead (int8 weights ~0.52x of f16), and a group keeps one outlier from flattening a whole
// row the way a per-channel scale would.
import { f32ToF16, f16ToF32 } from './dtype';

export type WeightFormat = 'f32' | 'f16' | 'int8';
export const DEFAULT_GROUP_SIZE = 128;

export interface PackedWeight {
  format: WeightFormat;
  n: number; // rows (output features)
  k: number; // columns (input features)
  /** words (f16/int8) or floats (f32) per row */
  rowStride: number;
  data: Float32Array | Uint32Array;
  /** int8 only: [n, groups] */
  scales?: Float32Array;
  groupSize?: number;
}

export function packWeight(w: Float32Array, n: number, k: number, format: WeightFormat, groupSize = DEFAULT_GROUP_SIZE): PackedWeight {
  if (w.length !== n * k) throw new Error(`packWeight: expected ${n}x${k}=${n * k} values, got ${w.length}`);
  const k4 = Math.ceil(k / 4);
  if (format === 'f32') {
    if (k4 * 4 === k) return { format, n, k, rowStride: k, data: w };
    const out = new Float32Array(n * k4 * 4);
    for (let r = 0; r < n; r++) out.set(w.subarray(r * k, r * k + k), r * k4 * 4);
    return { format, n, k, rowStride: k4 * 4, data: out };
  }
  if (format === 'f16') {
    const stride = k4 * 2;
    const out = new Uint32Array(n * stride);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < k; c += 2) {
        const lo = f32ToF16(w[r * k + c]!);
        const hi = c + 1 < k ? f32ToF16(w[r * k + c + 1]!) : 0;
        out[r * stride + c / 2] = (lo | (hi << 16)) >>> 0;
      }
    }
    return { format, n, k, rowStride: stride, data: out };
  }
  if (groupSize % 4 !== 0) throw new Error('int8 group size must be a multiple of 4');
  const stride = k4;
  const groups = Math.ceil(k / groupSize);
  const out = new Uint32Array(n * stride);
  const scales = new Float32Array(n * groups);
  for (let r = 0; r < n; r++) {
    for (let g = 0; g < groups; g++) {
      const start = g * groupSize;
      const end = Math.min(k, start + groupSize);
      let maxAbs = 0;
      for (let c = start; c < end; c++) maxAbs = Math.max(maxAbs, Math.abs(w[r * k + c]!));
      const scale = maxAbs / 127;
      scales[r * groups + g] = scale;
      const inv = scale > 0 ? 1 / scale : 0;
      for (let c = start; c < end; c++) {
        const q = Math.max(-127, Math.min(127, Math.round(w[r * k + c]! * inv)));
        const word = r * stride + (c >> 2);
        out[word] = (out[word]! | ((q & 0xff) << (8 * (c & 3)))) >>> 0;
      }
    }
  }
  return { format, n, k, rowStride: stride, data: out, scales, groupSize };
}

/** The exact f32 values a kernel sees for a packed weight: the plain-TS reference for tests. */
export function unpackWeight(p: PackedWeight): Float32Array {
  const { n, k } = p;
  const out = new Float32Array(n * k);
  if (p.format === 'f32') {
    for (let r = 0; r < n; r++) out.set((p.data as Float32Array).subarray(r * p.rowStride, r * p.rowStride + k), r * k);
    return out;
  }
  const d = p.data as Uint32Array;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      if (p.format === 'f16') {
        const word = d[r * p.rowStride + (c >> 1)]!;
        out[r * k + c] = f16ToF32(c & 1 ? word >>> 16 : word & 0xffff);
      } else {
        const word = d[r * p.rowStride + (c >> 2)]!;
        const q = ((word >>> (8 * (c & 3))) << 24) >> 24;
        const groups = Math.ceil(k / p.groupSize!);
        out[r * k + c] = q * p.scales![r * groups + Math.floor(c / p.groupSize!)]!;
      }
    }
  }
  return out;
}

/** Bytes the GPU holds for this weight. */
export function packedBytes(p: PackedWeight): number {
  return p.data.byteLength + (p.scales?.byteLength ?? 0);
}
