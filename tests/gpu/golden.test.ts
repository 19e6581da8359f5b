// Whole models against the HF transformers oracle in ../shared/fixtures (llama2.c test_all.py). The
// engines of a kernel set share one pipeline cache (sharedPipelines): compiling is most of a load here.
import { describe, it, expect, beforeAll } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { Engine } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import type { WeightFormat } from '../../src/kernels/formats';
import { GOLDEN_MODELS, modelDir, reference } from '../unit/fixtures';
import { logitsAgreement } from '../../src/bench/metrics';
import { dequantizedTensors } from '../../src/bench/simulate';
import { greedyIds } from '../../src/bench/greedy_check';
import { sharedPipelines } from './harness';

// The acceptance bounds, written here rather than imported, so the tests cannot loosen with the code.
const LIMITS: Record<WeightFormat, number> = { f32: 1e-4, f16: 1e-2, int8: 5e-2, q4: 0.15 };
// 4 bits cost more than 0.15 on the tiny and the random-weight fixtures whatever the scheme: the
// same q4 quantization run on the f32 engine (dequantized weights) gives the same nRMSE, and no
// 4-bit scheme tried (symmetric int4, NF4, asymmetric, with and without fitted ranges) took the
// random-weight models below 0.23 (README, 4-bit format choice). There q4 is held to the measured level
// plus a margin (stories260K 0.159, random models 0.236-0.256 on 2026-11-30), and below to
// reproducing that simulation.
const Q4_LIMITS: Record<string, number> = { 'pycode-20M': 0.15, stories260K: 0.2 };
const limitFor = (model: string, format: WeightFormat) => (format === 'q4' ? Q4_LIMITS[model] ?? 0.3 : LIMITS[format]);

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
  const engine = await Engine.load(gpu, await folderSource(modelDir(model)), { format, maxRows: rows, maxLogitRows: rows, decodeNorm, pipelines: sharedPipelines(gpu, kernels) });
  try {
    const got = await engine.logits(ids);
    expect(got.length).toBe(T * V);
    const { nrmse, clear, agree } = logitsAgreement(got, want, T, V);
    console.log(`[golden] ${model} ${format}${maxRows === 1 ? ` (decode path${decodeNorm ? `, ${decodeNorm} norm` : ''})` : ''}${kernels ? ` [${kernels} kernels]` : ''}: nRMSE ${nrmse.toExponential(2)}, top-1 ${agree}/${clear} clear positions (of ${T})`);
    expect(nrmse).toBeLessThanOrEqual(limitFor(model, format));
    // (4 bits blur every position of some random-weight fixtures: q4 may have none clear there.)
    if (format !== 'q4') expect(clear).toBeGreaterThan(0);
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
    for (const format of ['f32', 'f16', 'int8', 'q4'] as const) {
      it(`${model} ${format}: nRMSE <= ${limitFor(model, format)}, top-1 agrees where the margin is clear`, async () => {
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
    ['pycode-20M', 'q4', 'separate'],
    ['llama-gqa-tied-f32', 'q4', 'fused'],
    ['gpt2-f32', 'int8', undefined],
  ];
  // The GPU kernels (lanes GEMV, tiled GEMM, split attention, workgroup RMSNorm and argmax) on whole
  // models, though this adapter would pick the software ones: prefill and decode schedules.
  for (const [model, format] of [['stories260K', 'int8'], ['qwen2-bias-f16', 'f16'], ['llama3-ropescaled-bf16', 'f32'], ['mistral-swa-f16', 'q4']] as const) {
    for (const rows of [undefined, 1]) {
      it(`${model} ${format}, GPU kernels, ${rows ? 'decode' : 'prefill'} path: nRMSE <= ${limitFor(model, format)}`, async () => {
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
    it(`${model} ${format}, decode path${decodeNorm ? ` (${decodeNorm} norm)` : ''}: nRMSE <= ${limitFor(model, format)}`, async () => {
      const engine = await checkAgainstOracle(gpu, model, format, 1, decodeNorm);
      try {
        expect(engine.forward.fusedDecode).toBe(true);
      } finally {
        engine.destroy();
      }
    });
  }

  // Greedy generation (prefill, then one decode step per token) of the random-weight fixtures, f32:
  // the same ids as HF's generate().
  for (const model of GOLDEN_MODELS) {
    const g = reference(model).ref.greedy;
    if (Array.isArray(g)) continue; // the trained models' prompt sets have tests of their own
    const { prompt_ids: prompt, continuation_ids: want } = g as { prompt_ids: number[]; continuation_ids: number[] };
    it(`${model} f32: greedy continuation of ${want.length} tokens equals the reference`, async () => {
      const engine = await Engine.load(gpu, await folderSource(modelDir(model)), { format: 'f32', pipelines: sharedPipelines(gpu) });
      try {
        expect(await greedyIds(engine, prompt, want.length)).toEqual(want);
      } finally {
        engine.destroy();
      }
    });
  }

  // The kernels of a quantized format must cost nothing beyond its quantization: its engine's logits
  // equal those of the f32 engine run on the same weights quantized and dequantized on the CPU, up
  // to f32 rounding (the two sum in different orders), on the prefill and the decode schedules.
  // Both keep an f32 KV cache, so that only the weights differ (the golden checks above run the
  // engines as shipped, with their f16 cache).
  for (const [model, format, rows] of [['pycode-20M', 'q4', undefined], ['qwen2-bias-f16', 'q4', 1], ['mistral-swa-f16', 'q4', undefined], ['pycode-20M', 'int8', 1]] as const) {
    it(`${model} ${format}${rows ? ' decode path' : ''}: equals its scheme simulated on the f32 engine (nRMSE <= 1e-4)`, async () => {
      const { ref } = reference(model);
      const [T, V] = ref.logits_shape;
      const r = rows ?? T;
      const source = await folderSource(modelDir(model));
      const sim = await Engine.load(gpu, source, { format: 'f32', maxRows: r, maxLogitRows: r, tensors: dequantizedTensors(source, format), pipelines: sharedPipelines(gpu) });
      const want = await sim.logits(ref.input_ids);
      sim.destroy();
      const engine = await Engine.load(gpu, await folderSource(modelDir(model)), { format, maxRows: r, maxLogitRows: r, kvCache: 'f32', pipelines: sharedPipelines(gpu) });
      const got = await engine.logits(ref.input_ids);
      engine.destroy();
      const { nrmse, clear, agree } = logitsAgreement(got, want, T, V);
      console.log(`[golden] ${model} ${format}${rows ? ' (decode path)' : ''} vs its f32 simulation: nRMSE ${nrmse.toExponential(2)}, top-1 ${agree}/${clear}`);
      expect(nrmse).toBeLessThanOrEqual(1e-4);
      expect(agree).toBe(clear);
    });
  }
});

