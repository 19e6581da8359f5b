import { describe, it, expect } from 'vitest';
import { packWeight, unpackWeight, packedBytes, DEFAULT_GROUP_SIZE } from '../../src/model/quantize';
import { f16ToF32 } from '../../src/model/dtype';

/** mulberry32 + Box-Muller: seeded normal values (kept local so unit tests need no GPU harness). */
function randn(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  const r = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r()) * scale;
  return out;
}

describe('packWeight / unpackWeight', () => {
  it('f32 n=5 k=7: exact round trip, rows zero-padded to 8', () => {
    const [n, k] = [5, 7];
    const w = randn(n * k, 1);
    const p = packWeight(w, n, k, 'f32');
    expect(p.rowStride).toBe(8);
    expect(p.data.length).toBe(n * 8);
    for (let r = 0; r < n; r++) expect(p.data[r * 8 + 7]).toBe(0);
    expect(Array.from(unpackWeight(p))).toEqual(Array.from(w));
  });

  it('f32 n=3 k=8: no padding needed, round trip exact', () => {
    const w = randn(24, 2);
    const p = packWeight(w, 3, 8, 'f32');
    expect(p.rowStride).toBe(8);
    expect(Array.from(unpackWeight(p))).toEqual(Array.from(w));
  });

  it('f16 n=6 k=13: round trip within half an f16 ulp, padding halves zero', () => {
    const [n, k] = [6, 13];
    const w = randn(n * k, 3, 2);
    const p = packWeight(w, n, k, 'f16');
    expect(p.rowStride).toBe(8); // ceil(13/4) * 2 words
    const d = p.data as Uint32Array;
    for (let r = 0; r < n; r++) {
      expect(d[r * 8 + 6]! >>> 16).toBe(0); // column 13
      expect(d[r * 8 + 7]).toBe(0); // columns 14, 15
    }
    const u = unpackWeight(p);
    for (let i = 0; i < n * k; i++) {
      // Normal f16 values: relative error <= 2^-11; tiny ones: absolute error <= 2^-25.
      expect(Math.abs(u[i]! - w[i]!)).toBeLessThanOrEqual(Math.max(Math.abs(w[i]!) * 2 ** -11, 2 ** -25));
      // unpackWeight reads back exactly the bits the GPU reads.
      const word = d[Math.floor(i / k) * 8 + ((i % k) >> 1)]!;
      expect(u[i]).toBe(f16ToF32((i % k) & 1 ? word >>> 16 : word & 0xffff));
    }
  });

  for (const [n, k, g] of [[4, 130, 128], [3, 67, 32], [2, 9, 4]] as const) {
    it(`int8 n=${n} k=${k} g=${g}: scale = maxabs/127 per group, error <= scale/2`, () => {
      const w = randn(n * k, n * k + g, 0.7);
      const p = packWeight(w, n, k, 'int8', g);
      const groups = Math.ceil(k / g);
      expect(p.groupSize).toBe(g);
      expect(p.rowStride).toBe(Math.ceil(k / 4));
      expect(p.scales!.length).toBe(n * groups);
      const u = unpackWeight(p);
      for (let r = 0; r < n; r++) {
        for (let gi = 0; gi < groups; gi++) {
          const cols = Array.from({ length: Math.min(k, (gi + 1) * g) - gi * g }, (_, j) => gi * g + j);
          const maxAbs = Math.max(...cols.map((c) => Math.abs(w[r * k + c]!)));
          const scale = p.scales![r * groups + gi]!;
          expect(scale).toBe(Math.fround(maxAbs / 127));
          for (const c of cols) {
            expect(Math.abs(u[r * k + c]! - w[r * k + c]!)).toBeLessThanOrEqual(scale / 2 + maxAbs * 1e-6);
          }
          // The largest magnitude maps to +-127 exactly: the full int8 range is used.
          const top = cols.reduce((a, c) => (Math.abs(w[r * k + c]!) > Math.abs(w[r * k + a]!) ? c : a));
          expect(Math.abs(u[r * k + top]! / scale)).toBeCloseTo(127, 3);
        }
        // Padding bytes past k are zero.
        const d = p.data as Uint32Array;
        for (let c = k; c < Math.ceil(k / 4) * 4; c++) expect((d[r * p.rowStride + (c >> 2)]! >>> (8 * (c & 3))) & 0xff).toBe(0);
      }
    });
  }

  it('int8 n=2 k=70 g=32: an all-zero group gets scale 0 and dequantizes to exact zeros', () => {
    const [n, k, g] = [2, 70, 32];
    const w = randn(n * k, 9);
    w.fill(0, k + 32, k + 64); // row 1, group 1
    const p = packWeight(w, n, k, 'int8', g);
    expect(p.scales![1 * 3 + 1]).toBe(0);
    const u = unpackWeight(p);
    for (let c = 32; c < 64; c++) expect(Object.is(u[k + c], 0) || Object.is(u[k + c], -0)).toBe(true);
    expect(u.every(Number.isFinite)).toBe(true);
    // The other groups of that row are unaffected.
    expect(p.scales![1 * 3]).toBeGreaterThan(0);
    expect(p.scales![1 * 3 + 2]).toBeGreaterThan(0);
  });

  it('int8 keeps an outlier from flattening the rest of the row (per-group, not per-row, scale)', () => {
    const [n, k, g] = [1, 256, 128];
    const w = randn(k, 10, 0.01);
    w[200] = 10; // second group only
    const u = unpackWeight(packWeight(w, n, k, 'int8', g));
    let err0 = 0;
    for (let c = 0; c < 128; c++) err0 = Math.max(err0, Math.abs(u[c]! - w[c]!));
    expect(err0).toBeLessThan(0.01 * 4 / 127); // first group: scale from its own max (~0.03)
    expect(u[200]).toBeCloseTo(10, 5);
  });

  it('int8 n=16 k=4096: packed bytes <= 0.55x of f16', () => {
    const [n, k] = [16, 4096];
    const w = randn(n * k, 11);
    const i8 = packedBytes(packWeight(w, n, k, 'int8', DEFAULT_GROUP_SIZE));
    const f16 = packedBytes(packWeight(w, n, k, 'f16'));
    expect(i8 / f16).toBeLessThanOrEqual(0.55);
    expect(i8).toBe(n * k + n * (k / DEFAULT_GROUP_SIZE) * 4);
  });

  it('rejects a wrong element count and an int8 group size that is not a multiple of 4', () => {
    expect(() => packWeight(new Float32Array(10), 3, 4, 'f32')).toThrow();
    expect(() => packWeight(new Float32Array(12), 3, 4, 'int8', 6)).toThrow();
  });
});
