// Generation on the real trained stories260K model: greedy output must equal HF's exactly for the
// unquantized engines; a decode step must create no GPU objects; stop and cancel behave.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { greedyIds as greedy } from '../../src/bench/greedy_check';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { Engine, EngineBusyError, ContextOverflowError } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import type { WeightFormat } from '../../src/kernels/formats';
import { modelDir, reference, type GreedyCase } from '../unit/fixtures';

const cases = reference('stories260K').ref.greedy as GreedyCase[];


describe('stories260K greedy generation', () => {
  let gpu: GpuContext;
  const engines = new Map<WeightFormat, Engine>();
  beforeAll(async () => {
    gpu = await acquireDevice();
    for (const f of ['f32', 'f16', 'int8'] as const) engines.set(f, await Engine.load(gpu, await folderSource(modelDir('stories260K')), { format: f }));
  });
  afterAll(() => engines.forEach((e) => e.destroy()));

  for (const format of ['f32', 'f16'] as const) {
    it(`${format}: all ${cases.length} prompts x 200 tokens equal the HF reference`, async () => {
      for (const c of cases) {
        const got = await greedy(engines.get(format)!, c.prompt_ids, c.continuation_ids.length);
        expect(got, `prompt ${JSON.stringify(c.prompt)}`).toEqual(c.continuation_ids);
        expect(engines.get(format)!.tokenizer!.decode(got)).toBe(c.text);
      }
    });
  }

  it('int8: close to the reference (agreement reported)', async () => {
    const engine = engines.get('int8')!;
    const firstDivergence: number[] = [];
    for (const c of cases) {
      const got = await greedy(engine, c.prompt_ids, c.continuation_ids.length);
      const d = got.findIndex((t, i) => t !== c.continuation_ids[i]);
      firstDivergence.push(d < 0 ? got.length : d);
    }
    // Free-running greedy paths fork at the first near-tie and never rejoin, so also measure
    // teacher-forced agreement: int8's argmax at every position of the reference text.
    const teacher = await Engine.load(gpu, await folderSource(modelDir('stories260K')), { format: 'int8', maxRows: 256, maxLogitRows: 256 });
    let same = 0;
    let total = 0;
    try {
      for (const c of cases) {
        const seq = [...c.prompt_ids, ...c.continuation_ids];
        const logits = await teacher.logits(seq.slice(0, -1));
        const V = teacher.config.vocabSize;
        for (let i = c.prompt_ids.length - 1; i < seq.length - 1; i++) {
          const row = logits.subarray(i * V, (i + 1) * V);
          let top = 0;
          for (let v = 1; v < V; v++) if (row[v]! > row[top]!) top = v;
          same += Number(top === seq[i + 1]);
          total++;
        }
      }
    } finally {
      teacher.destroy();
    }
    const mean = firstDivergence.reduce((a, b) => a + b, 0) / firstDivergence.length;
    console.log(
      `[golden] stories260K int8 greedy: first divergence from HF at tokens ${firstDivergence.join(', ')} (mean ${mean.toFixed(1)} of 200); ` +
        `teacher-forced top-1 agreement ${same}/${total} (${((100 * same) / total).toFixed(1)}%)`,
    );
    expect(Math.min(...firstDivergence)).toBeGreaterThanOrEqual(10);
    expect(same / total).toBeGreaterThanOrEqual(0.9);
  });

  it('a decode step creates no pipeline, buffer, bind group or shader module', async () => {
    const engine = engines.get('int8')!;
    const device = gpu.device as unknown as Record<string, (...a: unknown[]) => unknown>;
    const watched = ['createBuffer', 'createBindGroup', 'createBindGroupLayout', 'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule', 'createPipelineLayout', 'createQuerySet'];
    const calls: string[] = [];
    const originals = watched.map((m) => device[m]);
    const compiledBefore = engine.pipelines.compiled;
    watched.forEach((m, i) => {
      device[m] = function (this: unknown, ...a: unknown[]) {
        calls.push(m);
        return originals[i]!.apply(this, a);
      };
    });
    let tokens = 0;
    try {
      for await (const t of engine.generate(cases[1]!.prompt_ids, { maxNewTokens: 12, stopIds: [] })) tokens += Number(t.id >= 0);
    } finally {
      watched.forEach((m, i) => (device[m] = originals[i]!));
    }
    expect(tokens).toBe(12);
    expect(calls).toEqual([]);
    expect(engine.pipelines.compiled).toBe(compiledBefore);
  });

  it('stops at EOS, cancels through an AbortSignal, refuses a second concurrent generation', async () => {
    const engine = engines.get('f32')!;
    const c = cases[0]!;
    // Make the 5th reference token a stop id: generation must end right there.
    const stopAt = c.continuation_ids[4]!;
    const first = c.continuation_ids.indexOf(stopAt);
    const ids: number[] = [];
    for await (const t of engine.generate(c.prompt_ids, { maxNewTokens: 50, stopIds: [stopAt] })) ids.push(t.id);
    expect(ids).toEqual(c.continuation_ids.slice(0, first + 1));

    const ctrl = new AbortController();
    const got: number[] = [];
    const gen = engine.generate(c.prompt_ids, { maxNewTokens: 100, stopIds: [], signal: ctrl.signal });
    for await (const t of gen) {
      got.push(t.id);
      if (got.length === 3) {
        await expect(engine.generate(c.prompt_ids, { maxNewTokens: 1 }).next()).rejects.toThrow(EngineBusyError);
        ctrl.abort();
      }
    }
    expect(got.length).toBe(3);
    // The engine is usable again and still exact.
    expect(await greedy(engine, c.prompt_ids, 10)).toEqual(c.continuation_ids.slice(0, 10));
  });

  it('reports timings and refuses a prompt longer than the context', async () => {
    const engine = engines.get('f16')!;
    const times: number[] = [];
    for await (const t of engine.generate([1], { maxNewTokens: 5, stopIds: [] })) times.push(t.timeMs);
    expect(times.length).toBe(5);
    expect(times.every((t, i) => t > 0 && (i === 0 || t >= times[i - 1]!))).toBe(true);
    const long = new Array(engine.contextLength + 3).fill(5);
    await expect(engine.generate(long, { maxNewTokens: 1 }).next()).rejects.toThrow(ContextOverflowError);
  });
});
