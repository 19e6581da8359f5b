// Generation-similarity metrics, on cases small enough to compute by hand (values in comments).
import { describe, it, expect } from 'vitest';
import { rougeL, lcsLength, tokenAgreement, firstDivergence, words, logitsAgreement } from '../../src/bench/metrics';

describe('lcsLength', () => {
  it('CLRS example ABCBDAB / BDCABA = 4 (e.g. BCBA), either argument order', () => {
    expect(lcsLength([...'ABCBDAB'], [...'BDCABA'])).toBe(4);
    expect(lcsLength([...'BDCABA'], [...'ABCBDAB'])).toBe(4);
  });
  it('reversed sequence keeps one element; disjoint keeps none; empty keeps none', () => {
    expect(lcsLength([1, 2, 3], [3, 2, 1])).toBe(1);
    expect(lcsLength([1, 2], [3, 4])).toBe(0);
    expect(lcsLength([], [1, 2])).toBe(0);
  });
});

describe('rougeL (whitespace tokens)', () => {
  it('one substituted word in six: P = R = F1 = 5/6', () => {
    const r = rougeL('the cat lay on the mat', 'the cat sat on the mat');
    expect(r.precision).toBeCloseTo(5 / 6, 12);
    expect(r.recall).toBeCloseTo(5 / 6, 12);
    expect(r.f1).toBeCloseTo(5 / 6, 12);
  });
  it("Lin's example: 'police kill the gunman' vs 'police killed the gunman' = 3/4, word order matters", () => {
    expect(rougeL('police kill the gunman', 'police killed the gunman').f1).toBeCloseTo(0.75, 12);
    // LCS is "the gunman": 2 of 4 words each way.
    expect(rougeL('the gunman kill police', 'police killed the gunman').f1).toBeCloseTo(0.5, 12);
  });
  it('unequal lengths: 5-word candidate, 4-word reference, LCS 3 -> P 3/5, R 3/4, F1 2/3', () => {
    const r = rougeL('a b c d e', 'a x c e');
    expect(r.precision).toBeCloseTo(0.6, 12);
    expect(r.recall).toBeCloseTo(0.75, 12);
    expect(r.f1).toBeCloseTo(2 / 3, 12);
  });
  it('any whitespace separates words; punctuation stays attached', () => {
    expect(words('  a\n b\t\tc  ')).toEqual(['a', 'b', 'c']);
    expect(rougeL('Hello, world.', 'Hello world').f1).toBe(0);
    expect(rougeL('a\nb  c', 'a b c').f1).toBe(1);
  });
  it('empty texts: both empty = 1, one empty = 0', () => {
    expect(rougeL('', '   ').f1).toBe(1);
    expect(rougeL('a', '').f1).toBe(0);
    expect(rougeL('', 'a').f1).toBe(0);
  });
});

describe('tokenAgreement', () => {
  it('same length: 3 of 4 positions agree', () => {
    expect(tokenAgreement([1, 2, 3, 4], [1, 2, 5, 4])).toBe(0.75);
  });
  it('extra tokens in the longer sequence count against it: 3 of 5', () => {
    expect(tokenAgreement([1, 2, 3], [1, 2, 3, 4, 5])).toBe(0.6);
    expect(tokenAgreement([1, 2, 3, 4, 5], [1, 2, 3])).toBe(0.6);
  });
  it('position-wise, not set-wise: a shifted copy agrees nowhere', () => {
    expect(tokenAgreement([7, 1, 2, 3], [1, 2, 3, 7])).toBe(0);
  });
  it('two empty sequences agree', () => {
    expect(tokenAgreement([], [])).toBe(1);
  });
});

describe('firstDivergence', () => {
  it('first differing index', () => {
    expect(firstDivergence([1, 2, 3, 4], [1, 2, 5, 4])).toBe(2);
    expect(firstDivergence([5], [6])).toBe(0);
  });
  it('a prefix diverges where the shorter one ends', () => {
    expect(firstDivergence([1, 2], [1, 2, 3])).toBe(2);
    expect(firstDivergence([], [1])).toBe(0);
  });
  it('identical sequences never diverge', () => {
    expect(firstDivergence([1, 2, 3], [1, 2, 3])).toBeNull();
    expect(firstDivergence([], [])).toBeNull();
  });
});

describe('logitsAgreement', () => {
  it('nRMSE by hand: want [0, 2 | 4, 6] (std sqrt 5), error 1 everywhere -> 1/sqrt(5)', () => {
    const want = [0, 2, 4, 6];
    const got = want.map((v) => v + 1);
    const r = logitsAgreement(got, want, 2, 2);
    expect(r.nrmse).toBeCloseTo(1 / Math.sqrt(5), 12);
    // Each row's gap (2) is under 4 x the error (4): no position is clear enough to judge.
    expect(r.clear).toBe(0);
  });

  it('top-1 is judged only where the reference winner is clear of the error', () => {
    // V = 50. Row 0: winner 2 (gap 10), got agrees. Row 1: winner 0 (gap 10), got puts 10.2 on
    // index 1. Row 2: a near tie (gap 1e-4). Error: one element off by 10.2 over 150 values,
    // rms 0.83, so 4x rms = 3.3 < 10: rows 0 and 1 are clear, row 2 is not.
    const V = 50;
    const want = new Float64Array(3 * V);
    want[2] = 10;
    want[V] = 10;
    want[2 * V + 6] = 5;
    want[2 * V + 7] = 5.0001;
    const got = Float64Array.from(want);
    got[V + 1] = 10.2;
    const r = logitsAgreement(got, want, 3, V);
    expect(r.clear).toBe(2);
    expect(r.agree).toBe(1);
  });

  it('identical logits: nRMSE 0, every clear position agrees', () => {
    const want = [1, 5, 2, 9, 0, 3];
    const r = logitsAgreement(want, want, 2, 3);
    expect(r).toEqual({ nrmse: 0, clear: 2, agree: 1 + 1 });
  });

  it('refuses mismatched sizes', () => {
    expect(() => logitsAgreement([1, 2, 3], [1, 2, 3, 4], 2, 2)).toThrow(RangeError);
  });
});
