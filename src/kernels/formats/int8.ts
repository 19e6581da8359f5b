// int8: Uint32Array [N, K4], four signed bytes per word (byte j = column 4 * word + j), plus f32
// scales [N, ceil(K / groupSize)]: symmetric, w ~= q * scale, q in [-127, 127].
// Per-group scales along K (group 128 by default): 4 bytes of scale per 128 weights is 3%
// overhead (int8 weights ~0.52x of f16), and a group keeps one outlier from flattening a whole row
// the way a per-channel scale would.
import weightInt8 from '../weight_int8.wgsl';
import vecInt8 from '../gemv_vec_int8.wgsl';
import unpackShift from '../gemv_unpack_shift.wgsl';
import unpackMagic from '../gemv_unpack_magic.wgsl';
import unpackMantissa from '../gemv_unpack_mantissa.wgsl';
import unpackMul from '../gemv_unpack_mul.wgsl';
import { rowStrideOf, type FormatSpec, type PackedWeight } from './format';

/** Per-group symmetric quantization of W[n, k]: scale = max |w| of the group / 127, q = round(w / scale). */
function packInt8(w: Float32Array, n: number, k: number, groupSize = 128): PackedWeight {
  if (w.length !== n * k) throw new Error(`packWeight: expected ${n}x${k}=${n * k} values, got ${w.length}`);
  if (!(Number.isInteger(groupSize) && groupSize > 0 && groupSize % 4 === 0)) throw new Error(`int8 group size must be a positive multiple of 4, got ${groupSize}`);
  const stride = rowStrideOf({ perWord: 4 }, k);
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
  return { format: 'int8', n, k, rowStride: stride, data: out, scales, groupSize };
}

const UNPACK = { shift: unpackShift, magic: unpackMagic, mantissa: unpackMantissa, mul: unpackMul };

export const int8: FormatSpec = {
  name: 'int8',
  label: 'INT8',
  title: 'INT8 weight-only',
  perWord: 4,
  defaultGroupSize: 128,
  scaleElem: 'f32',
  syntheticScale: 1 / 127,
  w4: { elem: { type: 'u32', words: 1 }, code: weightInt8 },
  vecChunk: 16,
  vecReader: (unpack) => UNPACK[unpack] + vecInt8,
  unpacks: ['shift', 'magic', 'mantissa', 'mul'],
  tolerance: { logitsNrmse: 5e-2, nearTie: 0.05 },
  pack: packInt8,
  valueAt(p, r, c) {
    const word = (p.data as Uint32Array)[r * p.rowStride + (c >> 2)]!;
    const q = ((word >>> (8 * (c & 3))) << 24) >> 24;
    return q * p.scales![r * Math.ceil(p.k / p.groupSize!) + Math.floor(c / p.groupSize!)]!;
  },
};
