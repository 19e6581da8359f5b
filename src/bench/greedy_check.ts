// Greedy continuations against an HF oracle's: the check behind `bench --verify` and the golden
// tests of trained models. An unquantized engine must reproduce the oracle's ids; a quantized engine
// must reproduce the oracle's own simulation of its scheme where the reference has one
// (`sim_int8_g128_ids`, `sim_int4_g32_ids`: what a perfect implementation produces), and is only
// measured against the f32 oracle. Where a continuation forks, the engine's own teacher-forced logits at
// that position say whether it was a near-tie (the two candidates' logits and their margin).
import type { Engine } from '../model/engine';
import { formatSpec, type WeightFormat } from '../kernels/formats';
import { firstDivergence, tokenAgreement } from './metrics';

export interface OracleGreedyCase {
  prompt?: string;
  prompt_ids: number[];
  /** the f32 oracle's greedy ids (no EOS stop) */
  continuation_ids: number[];
  /** the oracle's greedy ids with its weights quantized as this project's int8 (group 128) */
  sim_int8_g128_ids?: number[];
  /** the same with symmetric int4, group 32 (max |w| / 7): not q4's scheme, compared with it only */
  sim_int4_g32_ids?: number[];
}

/**
 * The oracle's simulations of quantized formats: the field holding the ids, and whether it is this
 * format's exact scheme (an engine is then held to it). int8 is; the oracle's int4 is symmetric
 * (max |w| / 7), while q4 is asymmetric with a fitted range (kernels/formats/q4.ts), so q4 is only
 * compared with it.
 */
const SIMULATION: Partial<Record<WeightFormat, { key: 'sim_int8_g128_ids' | 'sim_int4_g32_ids'; exact: boolean }>> = {
  int8: { key: 'sim_int8_g128_ids', exact: true },
  q4: { key: 'sim_int4_g32_ids', exact: false },
};

/** The oracle's simulation of (a scheme like) `format` for this case, when it has one. */
export function simulatedIds(c: OracleGreedyCase, format: WeightFormat): { ids: number[]; exact: boolean } | undefined {
  const s = SIMULATION[format];
  const ids = s ? c[s.key] : undefined;
  return s && ids ? { ids, exact: s.exact } : undefined;
}

/** Largest logit margin (nats) at which a fork is put down to rounding: a near-tie. */
export function nearTie(format: WeightFormat): number {
  return formatSpec(format).tolerance.nearTie;
}

export interface Fork {
  /** index into the continuation */
  position: number;
  expected: number;
  got: number;
  /** the engine's logits for both tokens, teacher-forced on the expected prefix */
  expectedLogit: number;
  gotLogit: number;
  /** |gotLogit - expectedLogit| */
  margin: number;
  nearTie: boolean;
}

export interface Comparison {
  /** same id at the same position, over the longer sequence */
  agreement: number;
  /** first differing position, or null when identical */
  firstDivergence: number | null;
}

export interface GreedyCaseResult {
  prompt: string;
  ids: number[];
  /** what the engine is held to: the f32 oracle, or the oracle's simulation of its format */
  expected: 'oracle' | 'sim';
  vsOracle: Comparison;
  vsSim?: Comparison;
  /** where the continuation left the expected one (absent when identical) */
  fork?: Fork;
}

export async function greedyIds(engine: Engine, prompt: number[], n: number): Promise<number[]> {
  const out: number[] = [];
  for await (const t of engine.generate(prompt, { maxNewTokens: n, stopIds: [] })) out.push(t.id);
  return out;
}

const compare = (got: number[], want: number[]): Comparison => ({ agreement: tokenAgreement(got, want), firstDivergence: firstDivergence(got, want) });

/** The reference an engine of `format` is held to for this case. */
export function expectedIds(c: OracleGreedyCase, format: WeightFormat): { ids: number[]; from: GreedyCaseResult['expected'] } {
  const sim = simulatedIds(c, format);
  return sim?.exact ? { ids: sim.ids, from: 'sim' } : { ids: c.continuation_ids, from: 'oracle' };
}

/**
 * Runs every case greedily (as many tokens as the oracle has) and compares. `teacher`, when given,
 * computes the fork logits (an engine of the same format with room for prompt + continuation in
 * its passes); else `engine` does.
 */
export async function checkGreedy(engine: Engine, cases: OracleGreedyCase[], teacher: Engine = engine): Promise<GreedyCaseResult[]> {
  const format = engine.format;
  const out: GreedyCaseResult[] = [];
  for (const c of cases) {
    const ids = await greedyIds(engine, c.prompt_ids, c.continuation_ids.length);
    const want = expectedIds(c, format);
    const sim = simulatedIds(c, format);
    const r: GreedyCaseResult = {
      prompt: c.prompt ?? c.prompt_ids.join(','),
      ids,
      expected: want.from,
      vsOracle: compare(ids, c.continuation_ids),
      ...(sim ? { vsSim: compare(ids, sim.ids) } : {}),
    };
    const at = firstDivergence(ids, want.ids);
    if (at !== null && at < Math.min(ids.length, want.ids.length)) {
      const logits = await teacher.lastLogits([...c.prompt_ids, ...want.ids.slice(0, at)]);
      const [e, g] = [want.ids[at]!, ids[at]!];
      const margin = Math.abs(logits[g]! - logits[e]!);
      r.fork = { position: at, expected: e, got: g, expectedLogit: logits[e]!, gotLogit: logits[g]!, margin, nearTie: margin <= nearTie(format) };
    } else if (at !== null) {
      // One sequence stopped early: a fork with no position to explain it.
      r.fork = { position: at, expected: want.ids[at] ?? -1, got: ids[at] ?? -1, expectedLogit: NaN, gotLogit: NaN, margin: Infinity, nearTie: false };
    }
    out.push(r);
  }
  return out;
}

/** One line per case: agreement and first divergence against the oracle (and the simulation). */
export function describeGreedy(model: string, format: WeightFormat, results: GreedyCaseResult[]): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const at = (d: number | null) => (d === null ? 'identical' : `diverges at ${d}`);
  return results.map((r, i) => {
    let line = `[greedy] ${model} ${format} prompt ${i} ${JSON.stringify(r.prompt.slice(0, 40))}: oracle ${pct(r.vsOracle.agreement)} (${at(r.vsOracle.firstDivergence)})`;
    if (r.vsSim) line += `, oracle's ${format === 'q4' ? 'int4' : format} simulation ${pct(r.vsSim.agreement)} (${at(r.vsSim.firstDivergence)})`;
    if (r.fork) {
      const f = r.fork;
      line += `; fork from the ${r.expected === 'oracle' ? 'oracle' : 'simulation'} at ${f.position}: expected ${f.expected} (logit ${f.expectedLogit.toFixed(4)}), got ${f.got} (${f.gotLogit.toFixed(4)}), margin ${f.margin.toExponential(2)}${f.nearTie ? ' (near-tie)' : ''}`;
    }
    return line;
  });
}

/** Passes when every case equals its reference or forks only at a near-tie. */
export function greedyPasses(results: GreedyCaseResult[]): boolean {
  return results.every((r) => !r.fork || r.fork.nearTie);
}
