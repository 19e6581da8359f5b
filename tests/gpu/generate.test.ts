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

  it('reuseCache: a next turn prefills only what follows the cached prefix and gives the ids of a from-scratch run', async () => {
    for (const format of ['f32', 'f16'] as const) {
      const engine = engines.get(format)!;
      const [a, b] = [cases[0]!, cases[1]!];
      const run = async (prompt: number[], n: number, reuseCache: boolean, signal?: AbortSignal) => {
        const ids: number[] = [];
        let prefill = { reusedTokens: -1, prefillTokens: -1 };
        for await (const t of engine.generate(prompt, { maxNewTokens: n, stopIds: [], reuseCache, signal, onPrefill: (p) => (prefill = p) })) ids.push(t.id);
        return { ids, ...prefill };
      };
      // Turn 1, then turn 2 = turn 1's prompt and reply and new text: the reply's last token has no
      // KV entry yet (it was never fed back), so it is prefilled with the new text.
      const t1 = await run(a.prompt_ids, 20, true);
      expect(t1.reusedTokens).toBe(0);
      const p2 = [...a.prompt_ids, ...t1.ids, ...b.prompt_ids.slice(1)];
      const t2 = await run(p2, 16, true);
      expect(t2.reusedTokens).toBe(a.prompt_ids.length + 19);
      expect(t2.prefillTokens).toBe(p2.length - t2.reusedTokens);
      const fresh2 = await run(p2, 16, false);
      expect(fresh2.reusedTokens).toBe(0);
      expect(t2.ids, format).toEqual(fresh2.ids);
      // The from-scratch run rewrote the cache with the same ids: the same prompt reuses all but its last token.
      expect(engine.reusableTokens(p2)).toBe(p2.length - 1);
      // A stopped run keeps exactly the tokens it fed back: all it yielded but the last.
      const ctrl = new AbortController();
      const stopped = { ids: [] as number[] };
      for await (const t of engine.generate(b.prompt_ids, { maxNewTokens: 50, stopIds: [], reuseCache: true, signal: ctrl.signal })) {
        stopped.ids.push(t.id);
        if (stopped.ids.length === 3) ctrl.abort();
      }
      expect(stopped.ids.length).toBe(3);
      const p3 = [...b.prompt_ids, ...stopped.ids, ...a.prompt_ids.slice(1)];
      expect(engine.reusableTokens(p3)).toBe(b.prompt_ids.length + 2);
      const t3 = await run(p3, 12, true);
      expect(t3.ids, format).toEqual((await run(p3, 12, false)).ids);
      // Scoring overwrites the cache: nothing is reusable after it.
      await engine.lastLogits(p3);
      expect(engine.reusableTokens(p3)).toBe(0);
    }
  });
});
