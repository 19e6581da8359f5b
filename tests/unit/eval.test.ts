// The teacher-forced statistics against hand-computed cases, and the windowed runner over fake
// engines whose distributions are known in closed form (no GPU).
import { describe, it, expect } from 'vitest';
import { logSoftmax, klDivergence, perplexity, evalWindows, evaluate, quantile, KL_BINS } from '../../src/bench/eval';
import type { Engine } from '../../src/model/engine';

/** An engine whose logits at every position are `row(t)` (t: the position in the window). */
function fakeEngine(V: number, context: number, row: (pos: number, ids: number[]) => number[], chunk = 3): Engine {
  return {
    config: { vocabSize: V },
    contextLength: context,
    async *logitChunks(ids: number[]) {
      for (let pos = 0; pos < ids.length; pos += chunk) {
        const rows = Math.min(chunk, ids.length - pos);
        const logits = new Float32Array(rows * V);
        for (let r = 0; r < rows; r++) logits.set(row(pos + r, ids), r * V);
        yield { pos, rows, logits };
      }
    },
  } as unknown as Engine;
}

describe('statistics', () => {
  it('log softmax: probabilities sum to 1, invariant to a shift of the logits', () => {
    const x = [1.5, -2, 0.25, 7, 3];
    const a = logSoftmax(x, 5);
    const b = logSoftmax(x.map((v) => v + 1000), 5);
    expect(Array.from(a, Math.exp).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
    for (let i = 0; i < 5; i++) expect(b[i]).toBeCloseTo(a[i]!, 9);
  });

  it('KL of identical distributions is 0', () => {
    const lp = logSoftmax([0.3, -1.2, 2.2, 0, 5.5, -3], 6);
    expect(klDivergence(lp, lp)).toBe(0);
  });

  it('KL of known pairs: (1/2, 1/2) against (0.9, 0.1) is 0.5 ln(0.5/0.9) + 0.5 ln 5 = 0.510826 nats; not symmetric', () => {
    const p = logSoftmax([0, 0], 2);
    const q = logSoftmax([Math.log(0.9), Math.log(0.1)], 2);
    expect(klDivergence(p, q)).toBeCloseTo(0.510826, 6);
    // KL((0.9, 0.1) || (1/2, 1/2)) = 0.9 ln 1.8 + 0.1 ln 0.2 = 0.368064
    expect(klDivergence(q, p)).toBeCloseTo(0.368064, 6);
    // A zero of p contributes nothing: KL((1, 0) || (1/2, 1/2)) = ln 2.
    expect(klDivergence([0, -Infinity], p)).toBeCloseTo(Math.LN2, 12);
  });

  it('perplexity is exp(mean NLL); nearest-rank quantiles', () => {
    expect(perplexity(4 * Math.log(7), 4)).toBeCloseTo(7, 12);
    const s = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([quantile(s, 0.5), quantile(s, 0.99), quantile(s, 0.1), quantile(s, 1)]).toEqual([5, 10, 1, 10]);
  });
});

describe('windows', () => {
  for (const [n, context, stride] of [[10, 4, 2], [10, 4, 3], [10, 4, 1], [3, 8, 4], [1000, 256, 128], [257, 256, 200], [2, 2, 1]] as const) {
    it(`n=${n} context=${context} stride=${stride}: every target 1..n-1 scored exactly once, inside a window, with context before it`, () => {
      const w = evalWindows(n, context, stride);
      const scored = new Array<number>(n).fill(0);
      for (const x of w) {
        expect(x.end - x.begin).toBeLessThanOrEqual(context);
        for (let t = x.from; t < x.end; t++) scored[t]!++;
        expect(x.from).toBeGreaterThan(x.begin);
      }
      expect(scored[0]).toBe(0);
      expect(scored.slice(1).every((c) => c === 1)).toBe(true);
      expect(w[w.length - 1]!.end).toBe(n);
    });
  }
  it('refuses a stride outside [1, context - 1] (a stride of the context would never score each window\'s first token)', () => {
    expect(() => evalWindows(10, 4, 4)).toThrow(RangeError);
    expect(() => evalWindows(10, 4, 5)).toThrow(RangeError);
    expect(() => evalWindows(10, 4, 0)).toThrow(RangeError);
  });
});

describe('evaluate over fake engines', () => {
  const V = 8;
  const ids = Array.from({ length: 23 }, (_, i) => (i * 5) % V);
  it('a uniform model has perplexity V; identical engines have KL 0 and full agreement', async () => {
    const uniform = () => new Array<number>(V).fill(0.25);
    const r = await evaluate([{ name: 'a', engine: fakeEngine(V, 6, uniform) }, { name: 'b', engine: fakeEngine(V, 6, uniform) }], ids, { stride: 4 });
    expect(r.positions).toBe(22);
    expect(r.windows).toBe(evalWindows(23, 6, 4).length);
    expect(r.engines[0]!.perplexity).toBeCloseTo(V, 9);
    expect(r.engines[1]!.vsBaseline).toMatchObject({ meanKl: 0, maxKl: 0, top1Agreement: 1 });
  });

  it('a model sure of the right next token has perplexity 1; against it a uniform one has KL ln V at every position', async () => {
    // The oracle puts all but e^-40 of its mass on the token that follows (it reads the window's ids).
    const oracle = fakeEngine(V, 6, (pos, window) => Array.from({ length: V }, (_, v) => (v === window[pos + 1] ? 40 : 0)));
    const uniform = fakeEngine(V, 6, () => new Array<number>(V).fill(0));
    const r = await evaluate([{ name: 'oracle', engine: oracle }, { name: 'uniform', engine: uniform }], ids, { stride: 3 });
    expect(r.engines[0]!.perplexity).toBeCloseTo(1, 9);
    expect(r.engines[1]!.perplexity).toBeCloseTo(V, 9);
    const vs = r.engines[1]!.vsBaseline!;
    expect(vs.meanKl).toBeCloseTo(Math.log(V), 6);
    expect(vs.p99Kl).toBeCloseTo(Math.log(V), 6);
    // Every position is confident for the oracle; the uniform engine's argmax (token 0) matches
    // only where the next token is 0.
    expect(vs.confidentPositions).toBe(22);
    const zeros = ids.slice(1).filter((t) => t === 0).length;
    expect(vs.top1Agreement).toBeCloseTo(zeros / 22, 12);
    expect(vs.confidentSameTop).toBeCloseTo(zeros / 22, 12);
    // ln 8 = 2.08 falls in the (1, 10] bin.
    expect(vs.klHistogram[KL_BINS.indexOf(10)]).toBe(22);
  });

  it('several sequences are windowed each on its own: the statistics pool the separate runs; a 1-token sequence is skipped', async () => {
    // A model whose logits depend on the position and the token read: different per sequence.
    const peaky = (pos: number, window: readonly number[]) => Array.from({ length: V }, (_, v) => (v === (window[pos]! + pos) % V ? 2 : v === window[pos] ? 1 : 0));
    const flat = () => new Array<number>(V).fill(0);
    const a = ids.slice(0, 15);
    const b = ids.slice(15).map((t) => (t + 3) % V);
    const run = (input: number[] | number[][]) => evaluate([{ name: 'p', engine: fakeEngine(V, 6, peaky) }, { name: 'u', engine: fakeEngine(V, 6, flat) }], input, { stride: 4 });
    const [ra, rb, both] = [await run(a), await run(b), await run([a, [5], b])];
    expect(both.sequences).toBe(2);
    expect(both.tokens).toBe(a.length + b.length);
    expect(both.positions).toBe(a.length - 1 + b.length - 1);
    expect(both.windows).toBe(ra.windows + rb.windows);
    const nll = (r: typeof ra, e: number) => r.engines[e]!.meanNll * r.positions;
    for (const e of [0, 1]) expect(nll(both, e)).toBeCloseTo(nll(ra, e) + nll(rb, e), 9);
    const kl = (r: typeof ra) => r.engines[1]!.vsBaseline!.meanKl * r.positions;
    expect(kl(both)).toBeCloseTo(kl(ra) + kl(rb), 9);
    expect(both.engines[1]!.vsBaseline!.klHistogram.reduce((x, y) => x + y, 0)).toBe(both.positions);
  });

  it('stops with an AbortError when its signal aborts, and reports each window done', async () => {
    const u = () => new Array<number>(V).fill(0);
    const ctl = new AbortController();
    const seen: Array<[number, number]> = [];
    const run = evaluate([{ name: 'a', engine: fakeEngine(V, 6, u) }], ids, {
      stride: 4,
      signal: ctl.signal,
      onWindow: (d, t) => {
        seen.push([d, t]);
        if (d === 2) ctl.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([[1, evalWindows(23, 6, 4).length], [2, evalWindows(23, 6, 4).length]]);
  });

  it('engines that chunk differently are refused', async () => {
    const u = () => new Array<number>(V).fill(0);
    await expect(evaluate([{ name: 'a', engine: fakeEngine(V, 6, u, 3) }, { name: 'b', engine: fakeEngine(V, 6, u, 2) }], ids)).rejects.toThrow(/chunked the window differently/);
  });
});

describe('command line: --eval', () => {
  it('parses the text, engines, windows and rows; refuses a stride not below the context and unknown flags', async () => {
    const { parseArgs, UsageError } = await import('../../src/bench/args');
    expect(parseArgs(['--eval', 'builtin', '--model', 'M', '--engines', 'f16,q4', '--context', '512', '--stride', '128', '--json', '-'])).toEqual({
      mode: 'eval', json: '-', options: { model: 'M', text: 'builtin', engines: ['f16', 'q4'], contextLength: 512, stride: 128, rows: 64 },
    });
    expect(parseArgs(['--eval', 'notes.txt', '--model', 'M', '--rows', '8'])).toMatchObject({ options: { text: 'notes.txt', engines: ['f16', 'int8'], rows: 8 } });
    expect(() => parseArgs(['--eval', 'builtin', '--model', 'M', '--context', '256', '--stride', '256'])).toThrow(/--stride must be below --context/);
    expect(() => parseArgs(['--eval', 'builtin', '--model', 'M', '--runs', '3'])).toThrow(UsageError);
    expect(() => parseArgs(['--eval', 'builtin'])).toThrow(/--model is required/);
  });
});
