import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run, stepBuffer, packF16, roundF16 } from './harness';
import { uploadStorage, createStorage, readF32 } from '../../src/gpu/buffers';
import { Attention, tiledPrefillLanes, type AttentionDecode, type AttentionPrefill } from '../../src/kernels/attention';
import type { PipelineCache } from '../../src/gpu/pipelines';
import type { KvFormat } from '../../src/kernels/kv_cache';

interface Case {
  rows: number;
  pos: number;
  nHeads: number;
  nKv: number;
  hd: number;
  window: number;
  /** Grow key magnitudes with position, so each new tile raises the running max. */
  ramp?: boolean;
}

/** Causal GQA attention, float64 softmax, straight from the definition. */
function attentionRef(q: Float32Array, kc: Float32Array, vc: Float32Array, c: Case): Float32Array {
  const { rows, pos, nHeads, nKv, hd, window } = c;
  const kvDim = nKv * hd;
  const group = nHeads / nKv;
  const out = new Float32Array(rows * nHeads * hd);
  for (let r = 0; r < rows; r++) {
    const p = pos + r;
    for (let h = 0; h < nHeads; h++) {
      const qo = (r * nHeads + h) * hd;
      const ko = Math.floor(h / group) * hd;
      const keys: number[] = [];
      for (let j = 0; j <= p; j++) if (window === 0 || p - j < window) keys.push(j);
      const scores = keys.map((j) => {
        let s = 0;
        for (let d = 0; d < hd; d++) s += q[qo + d]! * kc[j * kvDim + ko + d]!;
        return s / Math.sqrt(hd);
      });
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let d = 0; d < hd; d++) {
        let acc = 0;
        keys.forEach((j, i) => (acc += e[i]! * vc[j * kvDim + ko + d]!));
        out[qo + d] = acc / z;
      }
    }
  }
  return out;
}

describe('attention kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  const cases: Case[] = [
    // decode
    { rows: 1, pos: 0, nHeads: 4, nKv: 2, hd: 8, window: 0 },
    { rows: 1, pos: 5, nHeads: 8, nKv: 2, hd: 8, window: 0 },
    { rows: 1, pos: 200, nHeads: 7, nKv: 1, hd: 12, window: 0 }, // 4 key tiles, last one partial
    // prefill, from scratch and continuing after earlier tokens
    { rows: 9, pos: 0, nHeads: 4, nKv: 4, hd: 40, window: 0 },
    { rows: 5, pos: 7, nHeads: 8, nKv: 2, hd: 8, window: 0 },
    { rows: 5, pos: 7, nHeads: 7, nKv: 1, hd: 12, window: 0 },
    { rows: 3, pos: 62, nHeads: 8, nKv: 2, hd: 20, window: 0 }, // rows straddle a tile boundary
    // sliding window
    { rows: 20, pos: 0, nHeads: 4, nKv: 1, hd: 8, window: 8 },
    { rows: 1, pos: 30, nHeads: 4, nKv: 1, hd: 8, window: 8 },
    { rows: 2, pos: 100, nHeads: 2, nKv: 2, hd: 12, window: 70 }, // window spans two tiles
    { rows: 2, pos: 190, nHeads: 4, nKv: 2, hd: 12, window: 0, ramp: true },
    // large heads
    { rows: 2, pos: 70, nHeads: 2, nKv: 1, hd: 128, window: 0 },
    { rows: 1, pos: 9, nHeads: 2, nKv: 2, hd: 256, window: 0 },
    // decode rows run the split (flash-decoding) path: several 64-key splits, a window whose
    // first key is not split-aligned, ramped keys that raise the max in every split
    { rows: 1, pos: 300, nHeads: 8, nKv: 2, hd: 64, window: 0 },
    { rows: 1, pos: 250, nHeads: 4, nKv: 1, hd: 16, window: 100 },
    { rows: 1, pos: 190, nHeads: 4, nKv: 2, hd: 12, window: 0, ramp: true },
    // a long context: 30 splits, more than the combine's invocations per dimension
    { rows: 1, pos: 1900, nHeads: 4, nKv: 1, hd: 128, window: 0, ramp: true },
    // prompts for the tiled prefill kernel (256 / lanes rows of a head per workgroup, 16-key
    // tiles): rows over two workgroups, the last partial; a prompt continuing after earlier
    // tokens; a window starting mid-tile and shorter than a workgroup's rows; GQA; ramped keys;
    // every head size it takes with 4 lanes (16..128)
    { rows: 70, pos: 0, nHeads: 4, nKv: 2, hd: 16, window: 0 },
    { rows: 33, pos: 37, nHeads: 8, nKv: 2, hd: 32, window: 0, ramp: true },
    { rows: 50, pos: 3, nHeads: 2, nKv: 1, hd: 64, window: 20 },
    { rows: 17, pos: 90, nHeads: 3, nKv: 3, hd: 128, window: 0 },
    { rows: 65, pos: 0, nHeads: 2, nKv: 1, hd: 48, window: 0 },
  ];
  // Every case runs each schedule: for GPUs (in prefill the tiled kernel, and a workgroup per row
  // and head; the flash-decoding splits in decode) and the barrier-free thread kernels of software
  // adapters. The tiled kernel runs with the lanes per row this adapter's subgroups allow. Each
  // runs over an f32 cache and an f16 one (the reference then sees the f16-rounded keys and values).
  const schedules: Array<[AttentionDecode, AttentionPrefill | undefined]> = [['split', 'rows'], ['split', 'tiled'], ['thread', undefined]];
  for (const c of cases) for (const [kind, prefill] of schedules) for (const kv of ['f32', 'f16'] as KvFormat[]) {
    if (prefill === 'tiled' && (c.rows === 1 || c.hd % 16 !== 0 || c.hd > 128)) continue;
    const name = `rows=${c.rows} pos=${c.pos} nHeads=${c.nHeads} nKv=${c.nKv} headDim=${c.hd}` + (c.window ? ` window=${c.window}` : '') + (c.ramp ? ' ramped keys' : '') + ` (${kind}${prefill ? `, ${prefill} prefill` : ''}, ${kv} cache)`;
    it(name, async () => {
      if (prefill === 'tiled' && !tiledPrefillLanes(cache, { headDim: c.hd })) {
        // This adapter's subgroups are too small (or absent) for this head: the kernel is refused.
        await expect(Attention.create(cache, { nHeads: c.nHeads, nKvHeads: c.nKv, headDim: c.hd, maxCtx: 8, window: 0, kv }, kind, false, prefill)).rejects.toThrow(/tiled prefill/);
        return;
      }
      const maxCtx = c.pos + c.rows + 3; // rows past kv_len hold noise that must be ignored
      const kvDim = c.nKv * c.hd;
      const seed = c.pos * 131 + c.rows * 17 + c.hd;
      const q = randn(c.rows * c.nHeads * c.hd, seed, 1);
      // Keys scaled so that softmaxes are peaked enough for the max-subtraction to matter.
      const kc = randn(maxCtx * kvDim, seed + 1, 2);
      if (c.ramp) for (let i = 0; i < kc.length; i++) kc[i]! *= 0.3 + Math.floor(i / kvDim) / 64;
      const vc = randn(maxCtx * kvDim, seed + 2, 1);
      const op = await Attention.create(cache, { nHeads: c.nHeads, nKvHeads: c.nKv, headDim: c.hd, maxCtx, window: c.window, kv }, kind, false, prefill);
      expect(op.decodeKind).toBe(c.hd % 4 === 0 ? kind : null);
      if (prefill) expect(op.prefillKind).toBe(prefill);
      const outLen = c.rows * c.nHeads * c.hd;
      const out = createStorage(device, 'out', outLen * 4);
      const bg = op.bind(device, 't', {
        q: uploadStorage(device, 'q', q),
        kCache: uploadStorage(device, 'kCache', kv === 'f16' ? packF16(kc) : kc),
        vCache: uploadStorage(device, 'vCache', kv === 'f16' ? packF16(vc) : vc),
        out,
        step: stepBuffer(device, c.rows, c.pos).buffer,
      });
      await run(device, (p) => op.encode(p, bg, c.rows, c.pos));
      const [kr, vr] = kv === 'f16' ? [roundF16(kc), roundF16(vc)] : [kc, vc];
      expectClose(await readF32(device, out, outLen), attentionRef(q, kr, vr, c), 2e-5, 2e-4);
    });
  }

  // A batched pass (the step's row table): each row is one sequence's query at its own position,
  // over its own cache region (rows of other regions hold other sequences' keys, which must not be
  // read). Passes of up to decodeRows rows run the split decode path on GPUs, longer ones the rows
  // kernel; software adapters run the rows kernel. Positions from 0 to several splits, a window.
  for (const [kind, kv, window] of [['split', 'f32', 0], ['split', 'f16', 0], ['split', 'f32', 90], ['thread', 'f16', 0]] as const) {
    it(`batched rows at their own positions and cache regions (${kind}, ${kv} cache${window ? `, window=${window}` : ''})`, async () => {
      const [nHeads, nKv, hd, C] = [8, 2, 32, 400];
      const positions = [0, 130, 5, 399, 64, 63, 250];
      const regions = [3, 0, 6, 1, 4, 5, 2]; // row i's sequence lives at cache rows regions[i] * C ..
      const kvDim = nKv * hd;
      const rows = positions.length;
      const q = randn(rows * nHeads * hd, 7, 1);
      const kc = randn(7 * C * kvDim, 8, 2);
      const vc = randn(7 * C * kvDim, 9, 1);
      const [kr, vr] = kv === 'f16' ? [roundF16(kc), roundF16(vc)] : [kc, vc];
      const want = new Float32Array(rows * nHeads * hd);
      positions.forEach((pos, i) => {
        const region = (x: Float32Array) => x.subarray(regions[i]! * C * kvDim, (regions[i]! + 1) * C * kvDim);
        const c: Case = { rows: 1, pos, nHeads, nKv, hd, window };
        want.set(attentionRef(q.subarray(i * nHeads * hd, (i + 1) * nHeads * hd), region(kr), region(vr), c), i * nHeads * hd);
      });
      for (const decodeRows of [rows, 2]) {
        const op = await Attention.create(cache, { nHeads, nKvHeads: nKv, headDim: hd, maxCtx: 7 * C, window, kv, decodeRows }, kind, true);
        const out = createStorage(device, 'out', want.length * 4);
        const step = stepBuffer(device, rows, 0);
        step.writeRows(positions.map((pos, i) => ({ kvBase: regions[i]! * C, pos })), rows);
        const bg = op.bind(device, 't', {
          q: uploadStorage(device, 'q', q),
          kCache: uploadStorage(device, 'kCache', kv === 'f16' ? packF16(kc) : kc),
          vCache: uploadStorage(device, 'vCache', kv === 'f16' ? packF16(vc) : vc),
          out,
          step: step.buffer,
        });
        await run(device, (p) => op.encode(p, bg, rows, Math.max(...positions)));
        expectClose(await readF32(device, out, want.length), want, 2e-5, 2e-4, `decodeRows ${decodeRows}`);
      }
    });
  }
  it('decode rows: more than one only for batched kernels', async () => {
    await expect(Attention.create(cache, { nHeads: 2, nKvHeads: 1, headDim: 8, maxCtx: 4, window: 0, decodeRows: 2 })).rejects.toThrow(/decode rows/);
  });

  it('an f16 cache: heads in whole vec4s, half the bytes', async () => {
    await expect(Attention.create(cache, { nHeads: 2, nKvHeads: 1, headDim: 6, maxCtx: 4, window: 0, kv: 'f16' })).rejects.toThrow(/multiple of 4/);
    const op = await Attention.create(cache, { nHeads: 2, nKvHeads: 1, headDim: 8, maxCtx: 4, window: 0, kv: 'f16' });
    const b = (n: number) => createStorage(device, 'b', n);
    const bind = (cacheBytes: number) => op.bind(device, 't', { q: b(64), kCache: b(cacheBytes), vCache: b(cacheBytes), out: b(64), step: stepBuffer(device, 1, 0).buffer });
    expect(() => bind(4 * 8 * 2)).not.toThrow();
    expect(() => bind(4 * 8 * 2 - 4)).toThrow(/needs 64/);
  });

  it('rejects nHeads not a multiple of nKvHeads', async () => {
    await expect(Attention.create(cache, { nHeads: 6, nKvHeads: 4, headDim: 8, maxCtx: 4, window: 0 })).rejects.toThrow(/multiple/);
  });
});
