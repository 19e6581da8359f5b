import { describe, it, expect } from 'vitest';
import { sampleReference, samplingUniform, pcgHash, type SamplingParams } from '../../src/model/sampling';

const base: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1 };
const logOf = (p: number[]) => Float32Array.from(p, Math.log);

/** A seed whose draw at `counter` lies in [lo, hi): lets a test pin u to a known interval. */
function seedWithU(counter: number, lo: number, hi: number): number {
  for (let s = 0; s < 100000; s++) {
    const u = samplingUniform(s, counter);
    if (u >= lo && u < hi) return s;
  }
  throw new Error('no seed');
}

describe('samplingUniform (shared RNG)', () => {
  it('pcgHash matches known values of the PCG-RXS-M-XS hash', () => {
    // Hand-computed: state = 2891336453, shift = (state >>> 28) + 4 = 14.
    const state = 2891336453;
    const word = Math.imul(((state >>> 14) ^ state) >>> 0, 277803737) >>> 0;
    expect(pcgHash(0)).toBe(((word >>> 22) ^ word) >>> 0);
    expect(pcgHash(1)).not.toBe(pcgHash(0));
  });

  it('is in [0, 1), a multiple of 2^-24, deterministic, and roughly uniform over 100k draws', () => {
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const u = samplingUniform(42, i);
      expect(u >= 0 && u < 1).toBe(true);
      if (i < 1000) expect(Number.isInteger(u * 16777216)).toBe(true);
      bins[Math.floor(u * 10)]!++;
      sum += u;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(n / 10 * 0.05);
    expect(samplingUniform(42, 7)).toBe(samplingUniform(42, 7));
  });

  it('different seeds give different streams', () => {
    let same = 0;
    for (let i = 0; i < 1000; i++) if (samplingUniform(1, i) === samplingUniform(2, i)) same++;
    expect(same).toBeLessThan(5);
    // Seed s at counter c+1 must not just replay seed s+? at counter c: check neighbours differ.
    let shifted = 0;
    for (let i = 0; i < 1000; i++) if (samplingUniform(1, i + 1) === samplingUniform(2, i)) shifted++;
    expect(shifted).toBeLessThan(5);
  });
});

describe('sampleReference', () => {
  it('vocab=3 repetition penalty divides a positive logit: argmax flips', () => {
    const logits = new Float32Array([2, 1.9, 0]);
    expect(sampleReference(logits, [], base, 0)).toBe(0);
    // 2 / 1.1 = 1.818 < 1.9
    expect(sampleReference(logits, [0], { ...base, repetitionPenalty: 1.1 }, 1)).toBe(1);
  });

  it('vocab=3 repetition penalty multiplies a negative logit: argmax flips', () => {
    const logits = new Float32Array([-1, -1.05, -3]);
    expect(sampleReference(logits, [], base, 0)).toBe(0);
    // -1 * 1.1 = -1.1 < -1.05
    expect(sampleReference(logits, [0], { ...base, repetitionPenalty: 1.1 }, 1)).toBe(1);
  });

  it('vocab=3 penalty applies once per distinct token and only within kv_len', () => {
    const logits = new Float32Array([2, 1.5, 0]);
    const p = { ...base, repetitionPenalty: 1.2 };
    // Once: 2 / 1.2 = 1.667 > 1.5. Twice would be 1.389 < 1.5.
    expect(sampleReference(logits, [0, 0, 0], p, 3)).toBe(0);
    // history[1] = 1 is past kv_len = 1, so token 1 is not penalized.
    expect(sampleReference(new Float32Array([1.6, 1.8, 0]), [2, 1], p, 1)).toBe(1);
    expect(sampleReference(new Float32Array([1.6, 1.8, 0]), [2, 1], p, 2)).toBe(0); // 1.8/1.2 = 1.5 < 1.6
  });

  it('greedy takes the lowest index on ties', () => {
    expect(sampleReference(new Float32Array([0, 3, 1, 3]), [], base, 0)).toBe(1);
  });

  it('vocab=97 top-k=1 and top-p tiny equal greedy for any seed', () => {
    for (let s = 0; s < 20; s++) {
      const logits = Float32Array.from({ length: 97 }, (_, i) => Math.sin(i * 12.9898 + s) * 4);
      const g = sampleReference(logits, [], base, 0);
      expect(sampleReference(logits, [], { ...base, temperature: 1.3, topK: 1, seed: s }, s)).toBe(g);
      expect(sampleReference(logits, [], { ...base, temperature: 0.8, topP: 1e-6, seed: s }, s)).toBe(g);
    }
  });

  it('vocab=4 probs [.1 .2 .3 .4]: a pinned u picks the token by cumulative mass', () => {
    const logits = logOf([0.1, 0.2, 0.3, 0.4]); // cumulative 0.1 0.3 0.6 1.0
    const p = { ...base, temperature: 1 };
    for (const [lo, hi, want] of [[0, 0.09, 0], [0.11, 0.29, 1], [0.31, 0.59, 2], [0.61, 1, 3]] as const) {
      const seed = seedWithU(5, lo, hi);
      expect(sampleReference(logits, [], { ...p, seed }, 5)).toBe(want);
    }
  });

  it('vocab=4 top-k=2 renormalizes over tokens 2, 3 (3/7, 4/7)', () => {
    const logits = logOf([0.1, 0.2, 0.3, 0.4]);
    const p = { ...base, temperature: 1, topK: 2 };
    expect(sampleReference(logits, [], { ...p, seed: seedWithU(9, 0, 0.42) }, 9)).toBe(2);
    expect(sampleReference(logits, [], { ...p, seed: seedWithU(9, 0.44, 1) }, 9)).toBe(3);
  });

  it('vocab=4 top-p keeps the smallest prefix reaching p', () => {
    const logits = logOf([0.1, 0.2, 0.3, 0.4]);
    // p = 0.5: 0.4 < 0.5, 0.4 + 0.3 >= 0.5 -> {3, 2}, renormalized 3/7 and 4/7.
    const p = { ...base, temperature: 1, topP: 0.5 };
    expect(sampleReference(logits, [], { ...p, seed: seedWithU(3, 0, 0.42) }, 3)).toBe(2);
    expect(sampleReference(logits, [], { ...p, seed: seedWithU(3, 0.44, 1) }, 3)).toBe(3);
    // p = 0.35: the top token alone reaches it, whatever u is.
    for (let s = 0; s < 20; s++) expect(sampleReference(logits, [], { ...base, temperature: 1, topP: 0.35, seed: s }, 3)).toBe(3);
  });

  it('vocab=4 temperature flattens: T=100 makes a u just above .25 pick token 1', () => {
    // probs -> ~uniform 0.25 each as T grows: u in (0.26, 0.49) lands in token 1.
    const logits = logOf([0.1, 0.2, 0.3, 0.4]);
    expect(sampleReference(logits, [], { ...base, temperature: 100, seed: seedWithU(0, 0.27, 0.48) }, 0)).toBe(1);
  });
});
