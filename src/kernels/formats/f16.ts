// f16: Uint32Array [N, K4*2], two halves per word (low half = even column), read with
// unpack2x16float (or, on software adapters, gemv_f16_mul.wgsl's shift-free conversion), so the
// f16 engine needs no `shader-f16`.
import weightF16 from '../weight_f16.wgsl';
import vecF16 from '../gemv_vec_f16.wgsl';
import f16Builtin from '../gemv_f16_builtin.wgsl';
import f16Mul from '../gemv_f16_mul.wgsl';
import { f32ToF16, f16ToF32 } from './dtype';
import { rowStrideOf, type FormatSpec } from './format';

export const f16: FormatSpec = {
  name: 'f16',
  label: 'FP16',
  title: 'FP16 baseline',
  perWord: 2,
  defaultGroupSize: 0,
  scaleElem: 'f32',
  syntheticScale: 0,
  w4: { elem: { type: 'vec2<u32>', words: 2 }, code: weightF16 },
  vecChunk: 8,
  vecReader: (unpack) => (unpack === 'mul' ? f16Mul : f16Builtin) + vecF16,
  unpacks: ['shift', 'mul'],
  tolerance: { logitsNrmse: 1e-2, nearTie: 0.05 },
  pack(w, n, k) {
    if (w.length !== n * k) throw new Error(`packWeight: expected ${n}x${k}=${n * k} values, got ${w.length}`);
    const stride = rowStrideOf(this, k);
    const out = new Uint32Array(n * stride);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < k; c += 2) {
        const lo = f32ToF16(w[r * k + c]!);
        const hi = c + 1 < k ? f32ToF16(w[r * k + c + 1]!) : 0;
        out[r * stride + c / 2] = (lo | (hi << 16)) >>> 0;
      }
    }
    return { format: 'f16', n, k, rowStride: stride, data: out };
  },
  valueAt(p, r, c) {
    const word = (p.data as Uint32Array)[r * p.rowStride + (c >> 1)]!;
    return f16ToF32(c & 1 ? word >>> 16 : word & 0xffff);
  },
};
