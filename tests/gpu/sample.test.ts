import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, run, stepBuffer } from './harness';
import { uploadStorage, readBuffer } from '../../src/gpu/buffers';
import { Sampler } from '../../src/kernels/sample';
import { sampleReference, samplerScratchLayout, SAMPLER_THRESHOLDS, type SamplingParams } from '../../src/model/sampling';
import type { PipelineCache } from '../../src/gpu/pipelines';

const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };
const MAX_CTX = 64;
const HISTORY_FILL = 0xdeadbeef;

/** Random prompt-like history of length kvLen, then a fill that must stay untouched past kvLen + 1. */
function makeHistory(vocab: number, kvLen: number, seed: number): Uint32Array {
  const h = new Uint32Array(MAX_CTX).fill(HISTORY_FILL);
  const r = randn(kvLen, seed);
  for (let i = 0; i < kvLen; i++) h[i] = Math.floor(Math.abs(r[i]! * 1e4)) % vocab;
  return h;
}

describe('sampler kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  /** Sets up buffers once; `draw` rewrites step + params, runs, and returns (ids[0], history). */
  async function sampler(vocab: number, logits: Float32Array, history: Uint32Array, logitRows = 1, threadGreedy?: boolean) {
    const s = await Sampler.create(cache, { vocab, maxCtx: MAX_CTX, threadGreedy });
    if (threadGreedy !== undefined) expect(s.threadGreedy).toBe(threadGreedy);
    const historyBuf = uploadStorage(device, 'history', history);
    const ids = uploadStorage(device, 'ids', new Uint32Array([HISTORY_FILL]));
    const step = stepBuffer(device, 1, 0, logitRows);
    const bound = s.bind(device, 'sample', { logits: uploadStorage(device, 'logits', logits), history: historyBuf, ids, step: step.buffer });
    const { choiceWord } = samplerScratchLayout(vocab);
    return async (p: SamplingParams, kvLen: number) => {
      device.queue.writeBuffer(historyBuf, 0, history); // undo the previous draw's write
      device.queue.writeBuffer(bound.scratch, choiceWord * 4, new Uint32Array([HISTORY_FILL]));
      step.write({ rows: 1, pos: kvLen - 1, logitRows });
      s.setParams(device, bound, p);
      await run(device, (pass) => s.encode(pass, bound));
      const id = new Uint32Array(await readBuffer(device, ids, 4))[0]!;
      const hist = new Uint32Array(await readBuffer(device, historyBuf, MAX_CTX * 4));
      // The threshold sample_select chose: a candidate list (< SAMPLER_THRESHOLDS), the whole
      // vocabulary (== SAMPLER_THRESHOLDS), or untouched (the mode has no select pass).
      const choice = new Uint32Array(await readBuffer(device, bound.scratch, choiceWord * 4 + 4))[choiceWord]!;
      return { id, hist, path: choice === HISTORY_FILL ? 'no select' : choice < SAMPLER_THRESHOLDS ? 'candidates' : 'full' };
    };
  }

  // Greedy runs the workgroup argmax (GPUs) or the barrier-free one (software adapters): ties in
  // one part and across parts, at the first and last logit.
  const TIES = [[1000, 700, 771], [50257, 40001, 50256], [1000, 300, 301], [5000, 0, 4999]] as const;
  for (const [vocab, a, b] of TIES) for (const threadGreedy of [false, true]) {
    it(`greedy vocab=${vocab} with a tie at ${a} and ${b} (${threadGreedy ? 'thread' : 'workgroup'} argmax)`, async () => {
      const logits = randn(vocab, vocab, 3);
      const top = Math.max(...logits) + 1;
      logits[a] = top;
      logits[b] = top;
      const hist = makeHistory(vocab, 9, 1);
      const draw = await sampler(vocab, logits, hist, 1, threadGreedy);
      const { id } = await draw(GREEDY, 9);
      expect(id).toBe(a);
      expect(sampleReference(logits, hist, GREEDY, 9)).toBe(a);
      // Top-k = 1 keeps both tied tokens (HF's warper removes only values below the k-th), so the
      // draw may pick either, exactly as the reference does.
      for (const seed of [3, 4, 5, 6]) {
        const p = { ...GREEDY, temperature: 0.7, topK: 1, seed };
        const got = (await draw(p, 9)).id;
        expect([a, b]).toContain(got);
        expect(got).toBe(sampleReference(logits, hist, p, 9));
      }
    });
  }

  for (const sign of [1, -1]) {
    it(`vocab=1000 repetition penalty flips the argmax (${sign > 0 ? 'positive' : 'negative'} logits), once per distinct token`, async () => {
      const vocab = 1000;
      // Everything else well below; first / second differ by a factor 1.1, so one penalty of 1.2 on
      // the top token flips the order, and the top token appears 3 times in history.
      const r = randn(vocab, 77);
      const logits = Float32Array.from(r, (v) => (sign > 0 ? 1 + Math.abs(v) * 0.3 : -(4 + Math.abs(v))));
      const [first, second] = [613, 402];
      logits[first] = sign > 0 ? 5 : -1;
      logits[second] = sign > 0 ? 5 / 1.1 : -1.1;
      const hist = makeHistory(vocab, 12, 5).map((t) => (t === first || t === second ? 0 : t));
      hist.set([first, first, first], 4);
      const draw = await sampler(vocab, logits, hist);
      const p = { ...GREEDY, repetitionPenalty: 1.2 };
      expect((await draw(GREEDY, 12)).id).toBe(first);
      expect((await draw(p, 12)).id).toBe(second);
      expect(sampleReference(logits, hist, p, 12)).toBe(second);
      // kv_len = 4 stops before the repeats: no flip.
      expect((await draw(p, 4)).id).toBe(first);
    });
  }

  it('vocab=1000 temperature/top-k/top-p/penalty: GPU token == sampleReference for 30 (seed, kv_len) pairs', async () => {
    const vocab = 1000;
    const logits = randn(vocab, 2024, 2.5); // distinct with probability 1
    expect(new Set(logits).size).toBe(vocab);
    const hist = makeHistory(vocab, 40, 9);
    const draw = await sampler(vocab, logits, hist);
    const configs: Array<Omit<SamplingParams, 'seed'>> = [
      { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 },
      { temperature: 0.7, topK: 50, topP: 0.9, repetitionPenalty: 1 },
      { temperature: 1.3, topK: 0, topP: 0.95, repetitionPenalty: 1.1 },
      { temperature: 0.9, topK: 7, topP: 1, repetitionPenalty: 1.3 },
      { temperature: 2.5, topK: 300, topP: 0.6, repetitionPenalty: 0.9 },
      { temperature: 1, topK: 999, topP: 0.999, repetitionPenalty: 1 },
    ];
    const got: number[] = [];
    for (let n = 0; n < 30; n++) {
      const p = { ...configs[n % configs.length]!, seed: 1000 + 7919 * n };
      const kvLen = 1 + ((n * 13) % 40);
      const want = sampleReference(logits, hist, p, kvLen);
      const { id } = await draw(p, kvLen);
      expect(id, `pair ${n}: seed ${p.seed} kv_len ${kvLen} ${JSON.stringify(p)}`).toBe(want);
      got.push(id);
    }
    // The draws are actually random, not a degenerate argmax.
    expect(new Set(got).size).toBeGreaterThan(10);
  });

  it('vocab=1000 logits rounded to 0.25 (ties at the top-k/top-p cuts): GPU == sampleReference for 12 pairs', async () => {
    const vocab = 1000;
    const logits = Float32Array.from(randn(vocab, 31, 2), (v) => Math.round(v * 4) / 4);
    const hist = makeHistory(vocab, 20, 3);
    const draw = await sampler(vocab, logits, hist);
    for (let n = 0; n < 12; n++) {
      const p = { temperature: 0.8, topK: 10 + n * 17, topP: n % 2 ? 0.75 : 1, repetitionPenalty: n % 3 ? 1 : 1.15, seed: n * 31 + 1 };
      const kvLen = 5 + n;
      expect((await draw(p, kvLen)).id, `pair ${n}`).toBe(sampleReference(logits, hist, p, kvLen));
    }
  });

  it('vocab=32000 over 32 parts: every mode == sampleReference; top-k/top-p take the candidate list when it holds them, the whole vocabulary when not', async () => {
    const vocab = 32000;
    // LLM-like: a bulk of low logits and a few hundred plausible tokens spread over all parts.
    const logits = randn(vocab, 4242, 1);
    const r = randn(600, 99);
    const peak: number[] = [];
    for (let i = 0; i < 300; i++) {
      const tok = Math.floor(Math.abs(r[2 * i]! * 7919 * (i + 1))) % vocab;
      logits[tok] = 6 + 2 * Math.abs(r[2 * i + 1]!);
      peak.push(tok);
    }
    // A flat row: the nucleus is most of the vocabulary, far more than the candidate list holds.
    const flat = randn(vocab, 777, 0.2);
    const hist = makeHistory(vocab, 40, 11);
    hist.set(peak.slice(0, 10), 20); // the penalty hits plausible tokens
    const cases: Array<{ row: Float32Array; p: Omit<SamplingParams, 'seed'>; path: string }> = [
      { row: logits, p: { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 }, path: 'no select' },
      { row: logits, p: { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.5 }, path: 'no select' },
      { row: logits, p: { temperature: 0.8, topK: 40, topP: 1, repetitionPenalty: 1 }, path: 'candidates' },
      { row: logits, p: { temperature: 1, topK: 0, topP: 0.9, repetitionPenalty: 1 }, path: 'candidates' },
      { row: logits, p: { temperature: 1.2, topK: 0, topP: 0.95, repetitionPenalty: 1.3 }, path: 'full' },
      { row: logits, p: { temperature: 0.9, topK: 0, topP: 0.95, repetitionPenalty: 1.3 }, path: 'candidates' },
      { row: logits, p: { temperature: 0.7, topK: 100, topP: 0.8, repetitionPenalty: 0.9 }, path: 'candidates' },
      { row: logits, p: { temperature: 1, topK: 5000, topP: 1, repetitionPenalty: 1 }, path: 'full' },
      { row: flat, p: { temperature: 1, topK: 0, topP: 0.99, repetitionPenalty: 1 }, path: 'full' },
    ];
    const draws = new Map<Float32Array, Awaited<ReturnType<typeof sampler>>>();
    for (const row of [logits, flat]) draws.set(row, await sampler(vocab, row, hist));
    const got: number[] = [];
    for (const [c, { row, p: base, path }] of cases.entries()) {
      for (let n = 0; n < 3; n++) {
        const p = { ...base, seed: 17 + 101 * c + n };
        const kvLen = 21 + 9 * n;
        const out = await draws.get(row)!(p, kvLen);
        expect(out.id, `case ${c} draw ${n}: ${JSON.stringify(p)} kv_len ${kvLen}`).toBe(sampleReference(row, hist, p, kvLen));
        expect(out.path, `case ${c}`).toBe(path);
        got.push(out.id);
      }
    }
    expect(new Set(got).size).toBeGreaterThan(12);
  });

  it('vocab=257 logit_rows=3 samples the last row', async () => {
    const vocab = 257;
    const logits = randn(3 * vocab, 8, 2);
    // Make the first two rows' argmax a token that is far from the top in the last row.
    logits[0 * vocab + 5] = 100;
    logits[1 * vocab + 5] = 100;
    const last = logits.subarray(2 * vocab);
    const hist = makeHistory(vocab, 6, 2);
    const draw = await sampler(vocab, logits, hist, 3);
    expect((await draw(GREEDY, 6)).id).toBe(sampleReference(last, hist, GREEDY, 6));
    for (let seed = 0; seed < 4; seed++) {
      const p = { temperature: 1, topK: 40, topP: 0.9, repetitionPenalty: 1, seed };
      expect((await draw(p, 6)).id).toBe(sampleReference(last, hist, p, 6));
    }
  });

  it('vocab=300 writes ids[0] and history[kv_len] and nothing else', async () => {
    const vocab = 300;
    const logits = randn(vocab, 12, 2);
    const kvLen = 17;
    const hist = makeHistory(vocab, kvLen, 4);
    const draw = await sampler(vocab, logits, hist);
    const p = { temperature: 0.9, topK: 20, topP: 0.95, repetitionPenalty: 1.1, seed: 5 };
    const { id, hist: after } = await draw(p, kvLen);
    expect(id).toBe(sampleReference(logits, hist, p, kvLen));
    const want = Uint32Array.from(hist);
    want[kvLen] = id;
    expect([...after]).toEqual([...want]);
    // kv_len = MAX_CTX: no room in history, only ids[0] is written.
    const full = await draw(GREEDY, MAX_CTX);
    expect([...full.hist]).toEqual([...hist]);
  });
});
