// pycode-20M greedy, q4 engine. q4 is not the oracle's int4 scheme (kernels/formats/q4.ts), so the
// ids it is held to come from our own: the f32 engine run on the weights quantized to q4 and
// dequantized on the CPU (bench/simulate.ts), greedy for the 8 oracle prompts. The q4 engine must
// give those ids (forks only at near-ties of its own logits); its agreement with the f32 oracle
// and with the oracle's symmetric-int4 simulation is printed. 64 tokens per prompt keeps the f32
// simulation affordable in CI (~1 min on SwiftShader); `bench --verify ... --engines q4` reports
// all 200.
import { describe, it, expect, beforeAll } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { Engine } from '../../src/model/engine';
import { folderSource } from '../../src/model/source';
import { checkGreedy, describeGreedy, greedyIds, nearTie } from '../../src/bench/greedy_check';
import { dequantizedTensors } from '../../src/bench/simulate';
import { firstDivergence, tokenAgreement } from '../../src/bench/metrics';
import { modelDir, reference, type GreedyCase } from '../unit/fixtures';

const MODEL = 'pycode-20M';
const TOKENS = 64;
const cases = reference(MODEL).ref.greedy as GreedyCase[];

describe(`${MODEL} q4 greedy generation`, () => {
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await acquireDevice();
  });

  it(`q4: every prompt equals q4 simulated on the f32 engine for ${TOKENS} tokens (forks only at near-ties <= ${nearTie('q4')})`, async () => {
    const source = await folderSource(modelDir(MODEL));
    const sim = await Engine.load(gpu, source, { format: 'f32', contextLength: 128, tensors: dequantizedTensors(source, 'q4') });
    const simmed: GreedyCase[] = [];
    try {
      for (const c of cases) simmed.push({ ...c, continuation_ids: await greedyIds(sim, c.prompt_ids, TOKENS) });
    } finally {
      sim.destroy();
    }
    const engine = await Engine.load(gpu, await folderSource(modelDir(MODEL)), { format: 'q4', contextLength: 128 });
    try {
      // Held to our simulation: checkGreedy's "oracle" here is the f32 engine on q4's values.
      const results = await checkGreedy(engine, simmed.map(({ sim_int8_g128_ids: _a, sim_int4_g32_ids: _b, ...c }) => c));
      for (const line of describeGreedy(`${MODEL} (vs q4 on the f32 engine)`, 'q4', results)) console.log(line);
      for (const [i, r] of results.entries()) {
        if (r.fork) expect(r.fork.nearTie, `prompt ${i} forks at ${r.fork.position} with margin ${r.fork.margin}`).toBe(true);
        const oracle = cases[i]!.continuation_ids.slice(0, TOKENS);
        const int4 = cases[i]!.sim_int4_g32_ids!.slice(0, TOKENS);
        const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
        console.log(`[greedy] ${MODEL} q4 prompt ${i}: f32 oracle ${pct(tokenAgreement(r.ids, oracle))} (first divergence ${firstDivergence(r.ids, oracle) ?? 'none'}), ` +
          `oracle's symmetric int4 ${pct(tokenAgreement(r.ids, int4))} (first divergence ${firstDivergence(r.ids, int4) ?? 'none'}) over ${TOKENS} tokens`);
      }
    } finally {
      engine.destroy();
    }
  });
});
