// pycode-20M, a real trained Llama with the real SmolLM2 tokenizer (../shared/fixtures), decoded
// greedily for all 8 oracle prompts x 200 tokens: f32 and f16 must give HF's ids, int8 the ids of
// the oracle's own simulation of our int8 scheme; agreement with both is printed per prompt. A
// fork is allowed only at a near-tie of the engine's own teacher-forced logits (greedy_check.ts),
// and is printed with both logits and the margin. One engine per test file (pycode_<engine>.test.ts),
// so the two test workers can run them side by side with the rest of the suite.
import { describe, it, expect, beforeAll } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { Engine } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import { checkGreedy, describeGreedy, nearTie } from '../../src/bench/greedy_check';
import { modelDir, reference, type GreedyCase } from '../unit/fixtures';
import type { WeightFormat } from '../../src/kernels/formats';

const MODEL = 'pycode-20M';
const cases = reference(MODEL).ref.greedy as GreedyCase[];

/** The greedy checks of one engine, as a describe block of the calling test file. */
export function pycodeGreedySuite(format: WeightFormat): void {
  describe(`${MODEL} ${format} greedy generation against the HF oracle`, () => {
    let gpu: GpuContext;
    beforeAll(async () => {
      gpu = await acquireDevice();
    });

    it('the oracle has 8 prompts x 200 tokens, with the int8 simulation', () => {
      expect(cases.length).toBe(8);
      for (const c of cases) {
        expect(c.continuation_ids.length).toBe(200);
        expect(c.sim_int8_g128_ids?.length).toBe(200);
      }
    });

    it(`${format}: every prompt equals ${format === 'int8' ? 'the int8 simulation' : 'the oracle'} (forks only at near-ties <= ${nearTie(format)})`, async () => {
      const engine = await Engine.load(gpu, await folderSource(modelDir(MODEL)), { format, contextLength: 256 });
      try {
        // The tokenizer gives the oracle's prompt ids for the prompt text.
        for (const c of cases) expect(engine.tokenizer!.encode(c.prompt!), c.prompt).toEqual(c.prompt_ids);
        const results = await checkGreedy(engine, cases);
        for (const line of describeGreedy(MODEL, format, results)) console.log(line);
        for (const [i, r] of results.entries()) {
          if (r.fork) expect(r.fork.nearTie, `prompt ${i} forks at ${r.fork.position} with margin ${r.fork.margin}`).toBe(true);
          expect(r.expected).toBe(format === 'int8' ? 'sim' : 'oracle');
        }
        if (format !== 'int8') {
          // Exact text too, where the ids are exact.
          for (const [i, r] of results.entries()) if (!r.fork) expect(engine.tokenizer!.decode(r.ids)).toBe(cases[i]!.text!.slice(cases[i]!.prompt!.length));
        }
      } finally {
        engine.destroy();
      }
    });
  });
}
