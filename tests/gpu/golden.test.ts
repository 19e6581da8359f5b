// Whole models against the HF transformers oracle in ../shared/fixtures (llama2.c test_all.py).
import { describe, it, expect, beforeAll } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { Engine } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import type { WeightFormat } from '../../src/model/quantize';
import { GOLDEN_MODELS, modelDir, reference } from '../unit/fixtures';

const LIMITS: Record<WeightFormat, number> = { f32: 1e-4, f16: 1e-2, int8: 5e-2 };

function rowStats(row: Float32Array): { top: number; margin: number; std: number } {
  let top = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[top]!) top = i;
  let second = -Infinity;
  for (let i = 0; i < row.length; i++) if (i !== top && row[i]! > second) second = row[i]!;
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  const std = Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length);
  return { top, margin: row[top]! - second, std };
}

function argmax(row: Float32Array): number {
  let top = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[top]!) top = i;
  return top;
}

describe('logits against the HF oracle', () => {
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await acquireDevice();
  });

  for (const model of GOLDEN_MODELS) {
    for (const format of ['f32', 'f16', 'int8'] as const) {
      it(`${model} ${format}: nRMSE <= ${LIMITS[format]}, top-1 agrees where the margin is clear`, async () => {
        const { ref, logits: want } = reference(model);
        const ids = ref.input_ids;
        const [T, V] = ref.logits_shape;
        const engine = await Engine.load(gpu, await folderSource(modelDir(model)), { format, maxRows: T, maxLogitRows: T });
        try {
          const got = await engine.logits(ids);
          expect(got.length).toBe(T * V);
          let se = 0;
          let sum = 0;
          let sum2 = 0;
          for (let i = 0; i < want.length; i++) {
            se += (got[i]! - want[i]!) ** 2;
            sum += want[i]!;
            sum2 += want[i]! ** 2;
          }
          const mean = sum / want.length;
          const nrmse = Math.sqrt(se / want.length) / Math.sqrt(sum2 / want.length - mean * mean);
          // A clear margin: the reference's top-2 gap exceeds 4x this engine's own logit error.
          const err = Math.sqrt(se / want.length);
          let clear = 0;
          let agree = 0;
          for (let t = 0; t < T; t++) {
            const w = want.subarray(t * V, (t + 1) * V);
            const s = rowStats(w);
            if (s.margin > 4 * err + 1e-4 * s.std) {
              clear++;
              if (argmax(got.subarray(t * V, (t + 1) * V)) === s.top) agree++;
            }
          }
          console.log(`[golden] ${model} ${format}: nRMSE ${nrmse.toExponential(2)}, top-1 ${agree}/${clear} clear positions (of ${T})`);
          expect(nrmse).toBeLessThanOrEqual(LIMITS[format]);
          expect(clear).toBeGreaterThan(0);
          expect(agree).toBe(clear);
        } finally {
          engine.destroy();
        }
      });
    }
  }
});
