import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run, stepBuffer } from './harness';
import { uploadStorage, readF32 } from '../../src/gpu/buffers';
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

  it('rejects a cache smaller than maxCtx x kvDim', async () => {
    const op = await KvAppend.create(cache, { kvDim: 24, maxCtx: 20 });
    const small = uploadStorage(device, 'small', new Float32Array(24 * 19));
    const ok = uploadStorage(device, 'ok', new Float32Array(24 * 20));
    expect(() => op.bind(device, 't', { k: ok, v: ok, kCache: small, vCache: ok, step: stepBuffer(device, 1, 0).buffer })).toThrow(/needs/);
  });
});
