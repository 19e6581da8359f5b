// q4: weight-only 4-bit, asymmetric, group 32 (llama.cpp's Q4_1 scheme, with a better fit).
//   data   : Uint32Array [N, K8] (K8 = ceil(K / 8)), eight nibbles per word (nibble j = column
//            8 * word + j), each a signed q in [-8, 7] (two's complement)
//   scales : Uint32Array [N, ceil(K / groupSize)], one word per group: the f16 pair (scale s, offset m),
//            s in the low half: w ~= m + q * s
// 4 bits of weight + 1 bit of scale and offset per weight (at group 32): 0.3125x the bytes of f16.
//
// Why asymmetric with a fitted range, not the symmetric int4 (max |w| / 7) of the pycode-20M
// oracle's `sim_int4_g32_ids`, nor an NF4 codebook: measured by logits nRMSE against the f32 oracle
// (quantize -> dequantize -> the f32 engine, 2026-11-30; .probe-style runs recorded in the README):
// on pycode-20M symmetric int4 g32 gives 0.26, NF4 g32 0.22, NF4 g32 with a clipping search 0.19,
// asymmetric min/max 0.18, and asymmetric with a clipping search and least-squares refits 0.134;
// the same bytes as symmetric int4 with f32 scales, one extra multiply-add per group in the
// kernels (m times the sum of x over the group, computed once per chunk for all rows), and no
// codebook lookup (a table indexed per weight is a gather on a CPU adapter).
import weightQ4 from '../weight_q4.wgsl';
import vecQ4 from '../gemv_vec_q4.wgsl';
import unpackShift from '../gemv_unpack_q4_shift.wgsl';
import unpackMul from '../gemv_unpack_q4_mul.wgsl';
import f16Builtin from '../gemv_f16_builtin.wgsl';
import f16Mul from '../gemv_f16_mul.wgsl';
import { f16ToF32, f32ToF16 } from './dtype';
import { rowStrideOf, type FormatSpec, type PackedWeight } from './format';

/** Candidate ranges tried per group, as fractions of (min, max): the first is plain min/max. */
const CLIP: ReadonlyArray<readonly [number, number]> = [[1, 1], [0.95, 0.95], [0.9, 0.9], [0.85, 0.85], [0.8, 0.8], [1, 0.9], [0.9, 1], [1, 0.8], [0.8, 1]];
const REFITS = 3;

const round16 = (x: number) => f16ToF32(f32ToF16(x));

/**
 * round(t) clamped to [0, 15]: Math.round's result (halves round up) for every t, computed as
 * floor(t + 0.5) by truncation once t is known to be in range (several times faster in V8).
 */
function level(t: number): number {
  return t <= 0 ? 0 : t >= 15 ? 15 : (t + 0.5) | 0;
}

/** Squared error of quantizing g[0..n) to a + u s, u = round((v - a) / s) clamped to [0, 15] (by the reciprocal: ties may round either way). */
function sse(g: Float64Array, n: number, a: number, s: number): number {
  const inv = 1 / s;
  let e = 0;
  for (let i = 0; i < n; i++) {
    const v = g[i]!;
    const d = a + level((v - a) * inv) * s - v;
    e += d * d;
  }
  return e;
}

const scratch = new Float64Array(256);

/**
 * Fits (offset m, scale s) for one group w[start .. start + n): the clipped range with the least
 * squared error, then up to REFITS least-squares refits of (m, s) to the levels it picked; finally
 * s and m are rounded to f16 (what the GPU holds) and the levels recomputed against them. Writes q
 * into `q`. (Plain loops over a Float64Array copy: this runs for every 32 weights of a model.)
 */
export function fitGroup(w: ArrayLike<number>, start: number, n: number, q: Int8Array): { s: number; m: number } {
  const g = n <= scratch.length ? scratch : new Float64Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = w[start + i]!;
    g[i] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) {
    // A constant group: m holds it exactly (to f16), every q is 0.
    q.fill(0, 0, n);
    return { s: 0, m: round16(n > 0 ? lo : 0) };
  }
  // w = a + u * s with u in [0, 15]; m = a + 8 s makes q = u - 8 signed.
  let a = lo;
  let s = (hi - lo) / 15;
  let best = sse(g, n, a, s);
  for (let c = 1; c < CLIP.length; c++) {
    const a2 = lo * CLIP[c]![0];
    const s2 = (hi * CLIP[c]![1] - a2) / 15;
    if (!(s2 > 0)) continue;
    const e = sse(g, n, a2, s2);
    if (e < best) {
      a = a2;
      s = s2;
      best = e;
    }
  }
  for (let it = 0; it < REFITS; it++) {
    let su = 0, suu = 0, sw = 0, suw = 0;
    const inv = 1 / s;
    for (let i = 0; i < n; i++) {
      const v = g[i]!;
      const u = level((v - a) * inv);
      su += u;
      suu += u * u;
      sw += v;
      suw += u * v;
    }
    const det = n * suu - su * su;
    if (det === 0) break;
    const s2 = (n * suw - su * sw) / det;
    const a2 = (sw - s2 * su) / n;
    if (!(s2 > 0)) break;
    const e = sse(g, n, a2, s2);
    if (!(e < best)) break;
    a = a2;
    s = s2;
    best = e;
  }
  const s16 = round16(s);
  const m16 = round16(a + 8 * s);
  for (let i = 0; i < n; i++) {
    const u = s16 > 0 ? Math.round((g[i]! - m16) / s16) : 0;
    q[i] = u < -8 ? -8 : u > 7 ? 7 : u;
  }
  return { s: s16, m: m16 };
}

function packQ4(w: Float32Array, n: number, k: number, groupSize = 32): PackedWeight {
  if (w.length !== n * k) throw new Error(`packWeight: expected ${n}x${k}=${n * k} values, got ${w.length}`);
  if (!(Number.isInteger(groupSize) && groupSize > 0 && groupSize % 8 === 0)) throw new Error(`q4 group size must be a positive multiple of 8, got ${groupSize}`);
  const stride = rowStrideOf(q4, k);
  const groups = Math.ceil(k / groupSize);
  const out = new Uint32Array(n * stride);
  const scales = new Uint32Array(n * groups);
  const q = new Int8Array(groupSize);
  for (let r = 0; r < n; r++) {
    for (let g = 0; g < groups; g++) {
      const c0 = g * groupSize;
      const len = Math.min(k, c0 + groupSize) - c0;
      const { s, m } = fitGroup(w, r * k + c0, len, q);
      scales[r * groups + g] = (f32ToF16(s) | (f32ToF16(m) << 16)) >>> 0;
      for (let i = 0; i < len; i++) {
        const c = c0 + i;
        const word = r * stride + (c >> 3);
        out[word] = (out[word]! | ((q[i]! & 0xf) << (4 * (c & 7)))) >>> 0;
      }
    }
  }
  return { format: 'q4', n, k, rowStride: stride, data: out, scales, groupSize };
}

export const q4: FormatSpec = {
  name: 'q4',
  label: 'Q4',
  title: '4-bit weight-only',
  perWord: 8,
  defaultGroupSize: 32,
  scaleElem: 'u32',
  syntheticScale: 2 / 15,
  w4: { elem: { type: 'u32', words: 1 }, code: f16Builtin + weightQ4 },
  vecChunk: 32,
  vecReader: (unpack) => (unpack === 'mul' ? f16Mul + unpackMul : f16Builtin + unpackShift) + vecQ4,
  unpacks: ['shift', 'mul'],
  tolerance: { logitsNrmse: 0.15, nearTie: 0.1 },
  pack: packQ4,
  valueAt(p, r, c) {
    const word = (p.data as Uint32Array)[r * p.rowStride + (c >> 3)]!;
    const q = ((word >>> (4 * (c & 7))) << 28) >> 28;
    const sm = (p.scales as Uint32Array)[r * Math.ceil(p.k / p.groupSize!) + Math.floor(c / p.groupSize!)]!;
    return Math.fround(f16ToF32(sm >>> 16) + Math.fround(q * f16ToF32(sm & 0xffff)));
  },
};
