// A GPU that binds at most 8 MiB per buffer, on any adapter (acquireDevice's `limits` lowers what
// the engine plans for): pycode-20M's embedding table (49152 x 256, also its tied lm_head) must be
// split over buffers rather than refused, and the model must still match the HF oracle, through
// the prefill schedule (embedding gather, GEMM: logits) and the decode step (GEMV over the split
// lm_head: a greedy continuation).
import { describe, it, expect, beforeAll } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { Engine } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import { logitsAgreement } from '../../src/bench/metrics';
import { greedyIds, expectedIds } from '../../src/bench/greedy_check';
import { modelDir, reference, type GreedyCase } from '../unit/fixtures';

const MiB = 2 ** 20;
const MODEL = 'pycode-20M';
// The golden test's bounds, restated.
const LIMITS = { f32: 1e-4, f16: 1e-2, int8: 5e-2 } as const;
// 8 MiB / 1024 B per f32 row = 8192 rows: 6 buffers; f16 16384 rows: 3; int8 32768 rows: 2.
const PARTS = { f32: 6, f16: 3, int8: 2 } as const;

describe(`${MODEL} with 8 MiB per binding: weights split over buffers`, () => {
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await acquireDevice({ limits: { maxStorageBufferBindingSize: 8 * MiB } });
    expect(gpu.limits.maxStorageBufferBindingSize).toBe(8 * MiB);
    expect(gpu.device.limits.maxStorageBufferBindingSize).toBeGreaterThan(8 * MiB);
  });

  for (const format of ['f32', 'f16', 'int8'] as const) {
    it(`${format}: embedding over ${PARTS[format]} buffers, logits within ${LIMITS[format]} of the oracle, greedy as expected`, async () => {
      const { ref, logits: want } = reference(MODEL);
      const [T, V] = ref.logits_shape;
      // The prefill schedule (16 rows a pass, so the logits buffer, 16 x 49152 x 4 B, fits), then
      // the decode step's GEMV over the split lm_head in a greedy continuation.
      for (const rows of [16, 1]) {
        const engine = await Engine.load(gpu, await folderSource(modelDir(MODEL)), { format, maxRows: rows, maxLogitRows: rows, contextLength: 256 });
        try {
          expect(engine.weights.embed.more.length + 1).toBe(PARTS[format]);
          for (const b of engine.weights.buffers) expect(b.size, b.label).toBeLessThanOrEqual(8 * MiB);
          if (rows > 1) {
            const a = logitsAgreement(await engine.logits(ref.input_ids), want, T, V);
            console.log(`[split] ${MODEL} ${format} prefill path: nRMSE ${a.nrmse.toExponential(2)}, top-1 ${a.agree}/${a.clear}`);
            expect(a.nrmse).toBeLessThanOrEqual(LIMITS[format]);
            expect(a.agree).toBe(a.clear);
          } else {
            const c = (ref.greedy as GreedyCase[])[1]!;
            const ids = await greedyIds(engine, c.prompt_ids, 32);
            expect(ids).toEqual(expectedIds(c, format).ids.slice(0, 32));
          }
        } finally {
          engine.destroy();
        }
      }
    });
  }

  it('a model whose weight needs more than 8 buffers is refused before loading, naming the weight', async () => {
    const tiny = await acquireDevice({ limits: { maxStorageBufferBindingSize: 1 * MiB } });
    await expect(Engine.load(tiny, await folderSource(modelDir(MODEL)), { format: 'f32', maxRows: 1, contextLength: 64 })).rejects.toThrow(
      /embedding table \[49152, 256\] f32 needs 48 MiB; this adapter binds at most 1 MiB per buffer, and a weight is split into at most 8 buffers/,
    );
  });
});
