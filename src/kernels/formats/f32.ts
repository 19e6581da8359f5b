// f32: Float32Array [N, K4*4] (K4 = ceil(K/4)), the weights as they are: the oracle's precision.
import weightF32 from '../weight_f32.wgsl';
import vecF32 from '../gemv_vec_f32.wgsl';
import type { FormatSpec } from './format';

export const f32: FormatSpec = {
  name: 'f32',
  label: 'FP32',
  title: 'FP32 reference',
  perWord: 1,
  defaultGroupSize: 0,
  scaleElem: 'f32',
  syntheticScale: 0,
  w4: { elem: { type: 'vec4<f32>', words: 4 }, code: weightF32 },
  vecChunk: 4,
  vecReader: () => vecF32,
  unpacks: ['shift'],
  tolerance: { logitsNrmse: 1e-4, nearTie: 1e-3 },
  pack(w, n, k) {
    if (w.length !== n * k) throw new Error(`packWeight: expected ${n}x${k}=${n * k} values, got ${w.length}`);
    const k4 = Math.ceil(k / 4);
    if (k4 * 4 === k) return { format: 'f32', n, k, rowStride: k, data: w };
    const out = new Float32Array(n * k4 * 4);
    for (let r = 0; r < n; r++) out.set(w.subarray(r * k, r * k + k), r * k4 * 4);
    return { format: 'f32', n, k, rowStride: k4 * 4, data: out };
  },
  valueAt: (p, r, c) => (p.data as Float32Array)[r * p.rowStride + c]!,
};
