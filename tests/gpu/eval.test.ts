// Teacher-forced evaluation on the real trained pycode-20M over the built-in text: the tokens equal
// HF's, the f32 engine's perplexity equals HF transformers' over the same window (reference made
// by scripts/hf/eval_reference.py, tests/data/README.md), and the engines' next-token
// distributions agree with the f16 baseline's as closely as their formats allow. On SwiftShader a
// pycode-20M prefill row costs about 30 ms, so CI scores the reference's first window (the text's
// first 1,024 tokens, 1,023 predictions; 3 engines in about 2 minutes); `bench --eval builtin`
// scores the whole text (README, teacher-forced evaluation).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { Engine } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import { evaluate, type EvalReport } from '../../src/bench/eval';
import { BUILTIN_EVAL_NAME, BUILTIN_EVAL_TEXT } from '../../src/bench/eval/builtin_text';
import { modelDir } from '../unit/fixtures';

const REF = JSON.parse(readFileSync(path.join(__dirname, '../data/eval/pycode-20M-builtin-v1.json'), 'utf8')) as {
  text: string; context: number; stride: number; input_ids: number[]; positions: number; perplexity: number;
  windows: Array<{ begin: number; end: number; from: number; nll: number }>;
};
const FIRST = REF.windows[0]!;
const firstPerplexity = Math.exp(FIRST.nll / (FIRST.end - FIRST.from));

describe('teacher-forced evaluation, pycode-20M, built-in text', () => {
  let gpu: GpuContext;
  const engines: Array<{ name: string; engine: Engine }> = [];
  let report: EvalReport;
  beforeAll(async () => {
    gpu = await acquireDevice();
    for (const format of ['f16', 'f32', 'int8'] as const) {
      const engine = await Engine.load(gpu, await folderSource(modelDir('pycode-20M')), { format, contextLength: REF.context, maxRows: 64, maxLogitRows: 64 });
      engines.push({ name: format, engine });
    }
  });
  afterAll(() => engines.forEach((e) => e.engine.destroy()));

  it('the text tokenizes to the ids HF transformers gave it', () => {
    expect(REF.text).toBe(BUILTIN_EVAL_NAME);
    expect(engines[0]!.engine.tokenizer!.encode(BUILTIN_EVAL_TEXT)).toEqual(REF.input_ids);
  });

  it(`first window: f32 perplexity within 1e-4 (relative) of HF's ${firstPerplexity.toFixed(3)}; f32 vs f16 mean KL < 1e-5 nats; int8 vs f16 < 0.01`, async () => {
    expect([FIRST.begin, FIRST.end, FIRST.from]).toEqual([0, REF.context, 1]);
    report = await evaluate(engines, REF.input_ids.slice(0, FIRST.end), { contextLength: REF.context, stride: REF.stride });
    const [f16, f32, int8] = report.engines;
    console.log(
      `[eval] pycode-20M ${report.tokens} tokens, ${report.windows} windows: perplexity f16 ${f16!.perplexity.toFixed(4)}, f32 ${f32!.perplexity.toFixed(4)} (HF ${firstPerplexity.toFixed(4)}), int8 ${int8!.perplexity.toFixed(4)}; ` +
        `KL vs f16: f32 mean ${f32!.vsBaseline!.meanKl.toExponential(2)} max ${f32!.vsBaseline!.maxKl.toExponential(2)}, int8 mean ${int8!.vsBaseline!.meanKl.toExponential(2)} p99 ${int8!.vsBaseline!.p99Kl.toExponential(2)} max ${int8!.vsBaseline!.maxKl.toExponential(2)}; ` +
        `top-1 int8 ${(100 * int8!.vsBaseline!.top1Agreement).toFixed(2)}%, same top where f16 is confident ${(100 * int8!.vsBaseline!.confidentSameTop).toFixed(2)}% of ${int8!.vsBaseline!.confidentPositions}`,
    );
    expect(report.positions).toBe(FIRST.end - FIRST.from);
    expect(Math.abs(f32!.perplexity / firstPerplexity - 1)).toBeLessThanOrEqual(1e-4);
    expect(f32!.vsBaseline!.meanKl).toBeLessThan(1e-5);
    expect(int8!.vsBaseline!.meanKl).toBeLessThan(0.01);
    // The histogram counts every position once.
    expect(int8!.vsBaseline!.klHistogram.reduce((a, b) => a + b, 0)).toBe(report.positions);
  });
});
