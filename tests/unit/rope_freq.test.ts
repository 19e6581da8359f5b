import { describe, it, expect } from 'vitest';
import { ropeInvFreq } from '../../src/kernels/rope';

// Independent float64 evaluation of the HF formulas; ropeInvFreq rounds through f32 like HF's
// float32 tensors, so agreement is to f32 precision (a few ulp), not bitwise.
function defaultRef(theta: number, hd: number): number[] {
  return Array.from({ length: hd / 2 }, (_, i) => 1 / theta ** ((2 * i) / hd));
}

function llama3Ref(theta: number, hd: number, factor: number, low: number, high: number, orig: number): number[] {
  return defaultRef(theta, hd).map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen > orig / low) return f / factor;
    if (wavelen < orig / high) return f;
    const smooth = (orig / wavelen - low) / (high - low);
    return ((1 - smooth) * f) / factor + smooth * f;
  });
}

function expectRel(got: Float32Array, want: number[], rtol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.abs(want[i]!);
    if (!(err <= rtol)) throw new Error(`[${i}] got ${got[i]} want ${want[i]} (rel err ${err})`);
  }
}

describe('ropeInvFreq', () => {
  it('default theta=10000 hd=64', () => {
    const got = ropeInvFreq({ theta: 10000, type: 'default' }, 64);
    expectRel(got, defaultRef(10000, 64), 1e-6);
    expect(got[0]).toBe(1);
    expect(got[1]).toBeCloseTo(10000 ** (-2 / 64), 7);
  });

  it('linear factor=4 theta=10000 hd=64', () => {
    const got = ropeInvFreq({ theta: 10000, type: 'linear', factor: 4 }, 64);
    expectRel(got, defaultRef(10000, 64).map((f) => f / 4), 1e-6);
  });

  it('llama3 factor=32 low=1 high=4 orig=8192 theta=500000 hd=64', () => {
    const p = { theta: 500000, type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 } as const;
    const got = ropeInvFreq(p, 64);
    const want = llama3Ref(500000, 64, 32, 1, 4, 8192);
    expectRel(got, want, 1e-6);
    // The three bands must all occur at this shape, or the test would not cover the blend.
    const base = defaultRef(500000, 64);
    const wl = base.map((f) => (2 * Math.PI) / f);
    expect(wl.some((w) => w < 8192 / 4)).toBe(true);
    expect(wl.some((w) => w > 8192)).toBe(true);
    const mid = wl.findIndex((w) => w >= 8192 / 4 && w <= 8192);
    expect(mid).toBeGreaterThanOrEqual(0);
    expect(got[mid]! < base[mid]! && got[mid]! > base[mid]! / 32).toBe(true);
  });

  it('rejects llama3 without its parameters', () => {
    expect(() => ropeInvFreq({ theta: 500000, type: 'llama3', factor: 8 }, 64)).toThrow();
  });
});
