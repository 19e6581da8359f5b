// Whole models against the HF transformers oracle in ../shared/fixtures (llama2.c test_all.py).
import { describe, it, expect, beforeAll } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { Engine } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import type { WeightFormat } from '../../src/model/quantize';
import { GOLDEN_MODELS, modelDir, reference } from '../unit/fixtures';
import { logitsAgreement } from '../../src/bench/metrics';

// The acceptance bounds, written here rather than imported, so the tests cannot loosen with the code.
const LIMITS: Record<WeightFormat, number> = { f32: 1e-4, f16: 1e-2, int8: 5e-2 };

/** Loads `model` in `format` and checks its logits for the reference ids against the oracle. */
async function checkAgainstOracle(
  gpu: GpuContext,
  model: string,
  format: WeightFormat,
  maxRows?: number,
  decodeNorm?: 'fused' | 'separate',
  kernels?: 'gpu' | 'software',
): Promise<Engine> {
  const { ref, logits: want } = reference(model);
  const ids = ref.input_ids;
  const [T, V] = ref.logits_shape;
  const rows = maxRows ?? T;
  const engine = await Engine.load(gpu, await folderSource(modelDir(model)), { format, maxRows: rows, maxLogitRows: rows, decodeNorm, kernels });
  try {
    const got = await engine.logits(ids);
    expect(got.length).toBe(T * V);
    const { nrmse, clear, agree } = logitsAgreement(got, want, T, V);
    console.log(`[golden] ${model} ${format}${maxRows === 1 ? ` (decode path${decodeNorm ? `, ${decodeNorm} norm` : ''})` : ''}${kernels ? ` [${kernels} kernels]` : ''}: nRMSE ${nrmse.toExponential(2)}, top-1 ${agree}/${clear} clear positions (of ${T})`);
    expect(nrmse).toBeLessThanOrEqual(LIMITS[format]);
    expect(clear).toBeGreaterThan(0);
    expect(agree).toBe(clear);
    return engine;
  } catch (e) {
    engine.destroy();
    throw e;
  }
}

describe('logits against the HF oracle', () => {
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await acquireDevice();
  });

  for (const model of GOLDEN_MODELS) {
    for (const format of ['f32', 'f16', 'int8'] as const) {
      it(`${model} ${format}: nRMSE <= ${LIMITS[format]}, top-1 agrees where the margin is clear`, async () => {
        (await checkAgainstOracle(gpu, model, format)).destroy();
      });
    }
  }

  // One row per pass: every position runs the decode step's fused kernels (RoPE and the KV append
  // inside the q/k/v GEMV, SiLU inside gate/up), with RMSNorm fused into the GEMVs (the GPU
  // default) or as its own dispatch (the software-adapter default), each on some of the models.
  const DECODE: Array<[string, WeightFormat, 'fused' | 'separate' | undefined]> = [
    ...GOLDEN_MODELS.map((m) => [m, 'f32', undefined] as [string, WeightFormat, undefined]),
    ['qwen2-bias-f16', 'int8', 'fused'],
    ['stories260K', 'f16', 'fused'],
    ['llama3-ropescaled-bf16', 'f32', 'fused'],
    ['pycode-20M', 'int8', 'separate'],
  ];
  // The GPU kernels (lanes GEMV, tiled GEMM, split attention, workgroup RMSNorm and argmax) on whole
  // models, though this adapter would pick the software ones: prefill and decode schedules.
  for (const [model, format] of [['stories260K', 'int8'], ['qwen2-bias-f16', 'f16'], ['llama3-ropescaled-bf16', 'f32']] as const) {
    for (const rows of [undefined, 1]) {
      it(`${model} ${format}, GPU kernels, ${rows ? 'decode' : 'prefill'} path: nRMSE <= ${LIMITS[format]}`, async () => {
        const engine = await checkAgainstOracle(gpu, model, format, rows, undefined, 'gpu');
        try {
          expect(engine.pipelines.software).toBe(false);
          expect(engine.forward.separateDecodeNorm).toBe(false);
        } finally {
          engine.destroy();
        }
      });
    }
  }

  for (const [model, format, decodeNorm] of DECODE) {
    it(`${model} ${format}, decode path${decodeNorm ? ` (${decodeNorm} norm)` : ''}: nRMSE <= ${LIMITS[format]}`, async () => {
      const engine = await checkAgainstOracle(gpu, model, format, 1, decodeNorm);
      try {
        expect(engine.forward.fusedDecode).toBe(true);
      } finally {
        engine.destroy();
      }
    });
  }
});
