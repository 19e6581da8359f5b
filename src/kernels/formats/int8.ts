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
import { packSymmetric, symmetricValueAt, type FormatSpec } from './format';

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
  pack: (w, n, k, groupSize = 128) => packSymmetric('int8', 8, 127, w, n, k, groupSize),
  valueAt: (p, r, c) => symmetricValueAt(p, 8, r, c),
};
