import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run, stepBuffer, unpackF16, rng } from './harness';
import { uploadStorage, readF32, readBuffer } from '../../src/gpu/buffers';
import { KvAppend } from '../../src/kernels/kv_append';
import type { PipelineCache } from '../../src/gpu/pipelines';

describe('kv_append kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  // [rows, pos, kvDim, maxCtx]
  const cases = [
    [1, 0, 24, 20],
    [6, 0, 24, 20],
    [1, 13, 72, 20],
    [6, 13, 72, 20],
    [6, 14, 70, 20], // last row lands on maxCtx - 1
    [6, 17, 24, 20], // rows past maxCtx are dropped, not clamped onto the last cache row
    [3, 2, 21, 20], // an odd KV width (f32 only): each row's last value is written alone
  ] as const;
  for (const [rows, pos, kvDim, maxCtx] of cases) {
    it(`rows=${rows} pos=${pos} kvDim=${kvDim} maxCtx=${maxCtx}`, async () => {
      const k = randn(rows * kvDim, rows * 7 + pos, 1);
      const v = randn(rows * kvDim, rows * 7 + pos + 1000, 1);
      // Caches start as recognisable noise so that stray writes anywhere show up.
      const kc0 = randn(maxCtx * kvDim, 5 + kvDim, 3);
      const vc0 = randn(maxCtx * kvDim, 6 + kvDim, 3);
      const kCache = uploadStorage(device, 'kCache', kc0);
      const vCache = uploadStorage(device, 'vCache', vc0);
      const op = await KvAppend.create(cache, { kvDim, maxCtx });
      const bg = op.bind(device, 't', { k: uploadStorage(device, 'k', k), v: uploadStorage(device, 'v', v), kCache, vCache, step: stepBuffer(device, rows, pos).buffer });
      await run(device, (p) => op.encode(p, bg, rows));
      const wantK = kc0.slice();
      const wantV = vc0.slice();
      const fit = Math.min(rows, maxCtx - pos) * kvDim;
      wantK.set(k.subarray(0, fit), pos * kvDim);
      wantV.set(v.subarray(0, fit), pos * kvDim);
      // Bitwise copy: zero tolerance.
      expectClose(await readF32(device, kCache, maxCtx * kvDim), wantK, 0, 0, 'kCache');
      expectClose(await readF32(device, vCache, maxCtx * kvDim), wantV, 0, 0, 'vCache');
    });
  }

  // f16 cache: each pair of values one u32 word; the words outside the rows written stay as they were.
  for (const [rows, pos, kvDim, maxCtx] of [...cases.filter(([, , kvDim]) => kvDim % 4 === 0), [6, 14, 68, 20] as const]) {
    it(`f16 cache: rows=${rows} pos=${pos} kvDim=${kvDim} maxCtx=${maxCtx}`, async () => {
      const k = randn(rows * kvDim, rows * 7 + pos, 1);
      const v = randn(rows * kvDim, rows * 7 + pos + 1000, 1);
      const r = rng(kvDim + 17);
      const noise = () => Uint32Array.from({ length: (maxCtx * kvDim) / 2 }, () => Math.floor(r() * 2 ** 32));
      const kc0 = noise();
      const vc0 = noise();
      const kCache = uploadStorage(device, 'kCache', kc0);
      const vCache = uploadStorage(device, 'vCache', vc0);
      const op = await KvAppend.create(cache, { kvDim, maxCtx, kv: 'f16' });
      const bg = op.bind(device, 't', { k: uploadStorage(device, 'k', k), v: uploadStorage(device, 'v', v), kCache, vCache, step: stepBuffer(device, rows, pos).buffer });
      await run(device, (p) => op.encode(p, bg, rows));
      const fit = Math.min(rows, maxCtx - pos) * kvDim;
      for (const [name, buf, before, x] of [['kCache', kCache, kc0, k], ['vCache', vCache, vc0, v]] as const) {
        const got = new Uint32Array(await readBuffer(device, buf, (maxCtx * kvDim) * 2));
        // Outside the written rows: the very same words.
        const lo = (pos * kvDim) / 2;
        const hi = lo + fit / 2;
        expect(Array.from(got.subarray(0, lo)), `${name} before`).toEqual(Array.from(before.subarray(0, lo)));
        expect(Array.from(got.subarray(hi)), `${name} after`).toEqual(Array.from(before.subarray(hi)));
        // Inside: the values rounded to f16 (either neighbour: WGSL leaves the rounding to the
        // implementation), checked against the f32 input with one f16 ulp of slack.
        expectClose(unpackF16(got.subarray(lo, hi)), x.subarray(0, fit), 6e-8, 2 ** -10, name);
      }
    });
  }

  it('an f16 cache needs even KV widths and half the bytes', async () => {
    await expect(KvAppend.create(cache, { kvDim: 21, maxCtx: 20, kv: 'f16' })).rejects.toThrow(/even/);
    const op = await KvAppend.create(cache, { kvDim: 24, maxCtx: 20, kv: 'f16' });
    const half = uploadStorage(device, 'half', new Uint32Array((24 * 20) / 2));
    const short = uploadStorage(device, 'short', new Uint32Array((24 * 20) / 2 - 4));
    const ok = uploadStorage(device, 'ok', new Float32Array(24));
    expect(() => op.bind(device, 't', { k: ok, v: ok, kCache: half, vCache: half, step: stepBuffer(device, 1, 0).buffer })).not.toThrow();
    expect(() => op.bind(device, 't', { k: ok, v: ok, kCache: half, vCache: short, step: stepBuffer(device, 1, 0).buffer })).toThrow(/needs 960/);
  });

  it('rejects a cache smaller than maxCtx x kvDim', async () => {
    const op = await KvAppend.create(cache, { kvDim: 24, maxCtx: 20 });
    const small = uploadStorage(device, 'small', new Float32Array(24 * 19));
    const ok = uploadStorage(device, 'ok', new Float32Array(24 * 20));
    expect(() => op.bind(device, 't', { k: ok, v: ok, kCache: small, vCache: ok, step: stepBuffer(device, 1, 0).buffer })).toThrow(/needs/);
  });
});
