// Generation-similarity metrics, on cases small enough to compute by hand (values in comments).
import { describe, it, expect } from 'vitest';
import { rougeL, lcsLength, tokenAgreement, firstDivergence, words } from '../../src/bench/metrics';

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
