// A format simulated on the f32 engine: every matrix quantized to `format` on the CPU, dequantized
// back to f32 (unpackWeight: exactly the values the format's kernels see) and run by the f32
// kernels. What a quantized engine must reproduce up to f32 rounding: the test that separates a
// format's quantization error (what 4 or 8 bits cost) from its kernels' (which should cost nothing).
import type { ModelConfig } from '../model/config';
import type { ModelSource } from '../model/source';
import { readPackedTensors, type PackedTensor } from '../model/weights';
import { packWeight, unpackWeight, type WeightFormat } from '../kernels/formats';

/** Engine.load's `tensors` option for an f32 engine whose weights carry `format`'s rounding. */
export function dequantizedTensors(source: ModelSource, format: WeightFormat, groupSize?: number): (c: ModelConfig) => AsyncIterable<PackedTensor> {
  return (c) =>
    (async function* () {
      for await (const t of readPackedTensors(source, c, 'f32')) {
        if (!t.matrix) {
          yield t;
          continue;
        }
        const m = t.matrix;
        const dense = new Float32Array(m.n * m.k);
        for (let r = 0; r < m.n; r++) dense.set((m.data as Float32Array).subarray(r * m.rowStride, r * m.rowStride + m.k), r * m.k);
        yield { ...t, matrix: packWeight(unpackWeight(packWeight(dense, m.n, m.k, format, groupSize)), m.n, m.k, 'f32') };
      }
    })();
}
