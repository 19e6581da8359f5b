// The fused RoPE + KV append (rope_kv.wgsl) against the three dispatches it replaces (rope.wgsl on
// q and on k, kv_append.wgsl), which their own tests check against plain TS: q and both caches must
// hold the same bits, for f32 and f16 caches, one sequence from a position and a batched pass whose
// rows sit at their own positions and cache regions, rows past the context dropped.
import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, run, stepBuffer, rng } from './harness';
import { uploadStorage, readBuffer } from '../../src/gpu/buffers';
import { Rope, ropeInvFreq } from '../../src/kernels/rope';
import { KvAppend } from '../../src/kernels/kv_append';
import { RopeKv } from '../../src/kernels/rope_kv';
import { StepBuffer, type TableRow } from '../../src/gpu/step';
import type { PipelineCache } from '../../src/gpu/pipelines';
import type { KvFormat } from '../../src/kernels/kv_cache';

interface Case {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  maxCtx: number;
  kv: KvFormat;
  /** one sequence from pos, or a batched pass's row table */
  place: { rows: number; pos: number } | TableRow[];
}

const CASES: Case[] = [
  { nHeads: 4, nKvHeads: 2, headDim: 8, maxCtx: 20, kv: 'f32', place: { rows: 5, pos: 3 } },
  { nHeads: 3, nKvHeads: 3, headDim: 12, maxCtx: 20, kv: 'f16', place: { rows: 6, pos: 17 } }, // rows past maxCtx dropped
  { nHeads: 8, nKvHeads: 2, headDim: 64, maxCtx: 40, kv: 'f16', place: { rows: 1, pos: 39 } },
  // Batched: three sequences' regions of 16 rows, rows at their own positions (one past its region's end is never asked for).
  { nHeads: 4, nKvHeads: 1, headDim: 16, maxCtx: 48, kv: 'f32', place: [{ kvBase: 0, pos: 5 }, { kvBase: 16, pos: 0 }, { kvBase: 32, pos: 15 }, { kvBase: 0, pos: 6 }] },
  { nHeads: 6, nKvHeads: 2, headDim: 32, maxCtx: 64, kv: 'f16', place: [{ kvBase: 32, pos: 31 }, { kvBase: 0, pos: 2 }] },
];

describe('rope_kv: RoPE on q and k and the KV append in one dispatch', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  it('needs a head dimension that is a multiple of 4', async () => {
    expect(RopeKv.applies(6)).toBe(false);
    await expect(RopeKv.create(cache, { nHeads: 2, nKvHeads: 1, headDim: 6, maxCtx: 8 })).rejects.toThrow(/multiple of 4/);
  });

  for (const c of CASES) {
    const batched = Array.isArray(c.place);
    const rows = Array.isArray(c.place) ? c.place.length : c.place.rows;
    it(`${c.nHeads}/${c.nKvHeads} heads of ${c.headDim}, ${c.kv} cache, ${batched ? `batched, ${rows} rows` : `${rows} rows from ${(c.place as { pos: number }).pos}`}`, async () => {
      const { nHeads, nKvHeads, headDim, maxCtx, kv } = c;
      const kvDim = nKvHeads * headDim;
      const q0 = randn(rows * nHeads * headDim, 1 + headDim, 1);
      const k0 = randn(rows * kvDim, 2 + headDim, 1);
      const v0 = randn(rows * kvDim, 3 + headDim, 1);
      const invFreq = uploadStorage(device, 'invFreq', ropeInvFreq({ theta: 10000, type: 'default' }, headDim));
      // Caches start as noise, so that a stray write or a missing one shows.
      const words = (kv === 'f16' ? maxCtx * kvDim / 2 : maxCtx * kvDim);
      const r = rng(headDim + rows);
      const noise = Uint32Array.from({ length: words }, () => (kv === 'f16' ? Math.floor(r() * 2 ** 32) : new Uint32Array(new Float32Array([r() - 0.5]).buffer)[0]!));
      let step: StepBuffer;
      if (Array.isArray(c.place)) {
        step = new StepBuffer(device);
        step.writeRows(c.place, 1);
      } else {
        step = stepBuffer(device, rows, c.place.pos);
      }
      const outs: Uint32Array[][] = [];
      for (const fused of [false, true]) {
        const q = uploadStorage(device, 'q', q0);
        const k = uploadStorage(device, 'k', k0);
        const v = uploadStorage(device, 'v', v0);
        const kCache = uploadStorage(device, 'kCache', noise);
        const vCache = uploadStorage(device, 'vCache', noise);
        if (fused) {
          const op = await RopeKv.create(cache, { nHeads, nKvHeads, headDim, maxCtx, batched, kv });
          const bg = op.bind(device, 'rope_kv', { q, k, v, kCache, vCache, invFreq, step: step.buffer });
          await run(device, (p) => op.encode(p, bg, rows));
        } else {
          const ropeQ = await Rope.create(cache, { nHeads, headDim, batched });
          const ropeK = await Rope.create(cache, { nHeads: nKvHeads, headDim, batched });
          const append = await KvAppend.create(cache, { kvDim, maxCtx, batched, kv });
          const bq = ropeQ.bind(device, 'ropeQ', { x: q, invFreq, step: step.buffer });
          const bk = ropeK.bind(device, 'ropeK', { x: k, invFreq, step: step.buffer });
          const ba = append.bind(device, 'append', { k, v, kCache, vCache, step: step.buffer });
          await run(device, (p) => { ropeQ.encode(p, bq, rows); ropeK.encode(p, bk, rows); append.encode(p, ba, rows); });
        }
        const read = async (b: GPUBuffer) => new Uint32Array(await readBuffer(device, b, b.size));
        outs.push([await read(q), await read(kCache), await read(vCache)]);
      }
      const [sep, fus] = outs as [Uint32Array[], Uint32Array[]];
      for (const [i, name] of ['q', 'kCache', 'vCache'].entries()) {
        expect(Array.from(fus[i]!), name).toEqual(Array.from(sep[i]!));
      }
      // The pass wrote something (the comparison is not between two untouched buffers).
      expect(Array.from(fus[1]!).some((w, i) => w !== noise[i]), 'kCache written').toBe(true);
      expect(Array.from(fus[0]!).some((w, i) => w !== new Uint32Array(q0.buffer)[i]), 'q rotated').toBe(true);
    });
  }
});
