// GPT-2's own kernels (LayerNorm with bias, GELU tanh, learned positions added) against float64 references written from the
// definitions (torch.nn.LayerNorm; transformers' NewGELUActivation), not from the shaders' forms.
import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run, stepBuffer } from './harness';
import { uploadStorage, createStorage, readF32 } from '../../src/gpu/buffers';
import { LayerNorm } from '../../src/kernels/layernorm';
import { Gelu } from '../../src/kernels/gelu';
import { PositionAdd } from '../../src/kernels/position_add';
import type { PipelineCache } from '../../src/gpu/pipelines';

function layerNormRef(x: Float32Array, w: Float32Array, b: Float32Array, rows: number, dim: number, eps: number): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * dim, (r + 1) * dim));
    const mean = row.reduce((a, v) => a + v, 0) / dim;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / dim; // biased, as torch
    row.forEach((v, i) => (out[r * dim + i] = ((v - mean) / Math.sqrt(variance + eps)) * w[i]! + b[i]!));
  }
  return out;
}

const geluRef = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

describe('layernorm kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  // Both variants; one case with a large row mean (the two-pass variance must not cancel).
  for (const [rows, dim, eps, offset] of [[1, 64, 1e-5, 0], [7, 100, 1e-5, 0], [3, 513, 1e-6, 0], [4, 768, 1e-5, 300], [5, 1, 1e-5, 0]] as const) {
    for (const variant of ['workgroup', 'thread'] as const) {
      it(`rows=${rows} dim=${dim}${offset ? ` mean ${offset}` : ''} (${variant})`, async () => {
        const x = randn(rows * dim, rows * 37 + dim, 2).map((v) => v + offset);
        const w = randn(dim, dim + 1);
        const b = randn(dim, dim + 2, 0.5);
        const k = await LayerNorm.create(cache, dim, eps, variant);
        expect(k.variant).toBe(variant);
        const out = createStorage(device, 'out', rows * dim * 4);
        const bg = k.bind(device, 't', { x: uploadStorage(device, 'x', x), weight: uploadStorage(device, 'w', w), bias: uploadStorage(device, 'b', b), out });
        await run(device, (p) => k.encode(p, bg, rows));
        // A row of width 1 normalizes to 0: out = bias.
        expectClose(await readF32(device, out, rows * dim), layerNormRef(x, w, b, rows, dim, eps), offset ? 1e-3 : 1e-5, 1e-4);
      });
    }
  }
});

describe('gelu kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  for (const [rows, dim, scale] of [[1, 64, 3], [7, 37, 3], [3, 3072, 4]] as const) {
    it(`rows=${rows} dim=${dim} x scale=${scale}`, async () => {
      const n = rows * dim;
      const x = randn(n, rows * 13 + dim, scale);
      const out = uploadStorage(device, 'out', new Float32Array(n + dim).fill(7));
      const k = await Gelu.create(cache, { dim });
      const bg = k.bind(device, 't', { x: uploadStorage(device, 'x', x), out });
      await run(device, (p) => k.encode(p, bg, rows));
      const want = new Float32Array(n + dim).fill(7);
      want.set(Array.from(x, geluRef));
      expectClose(await readF32(device, out, n + dim), want, 1e-6, 1e-5);
    });
  }

  it('extremes stay finite: gelu(x) -> x for large x, -> -0 for very negative x', async () => {
    const x = new Float32Array([0, 1e-3, -1e-3, 5, -5, 20, -20, 100, -100, 1e30, -1e30, 88.7, -88.7, 3e3, -3e3, 0.5]);
    const k = await Gelu.create(cache, { dim: x.length });
    const out = createStorage(device, 'out', x.length * 4);
    const bg = k.bind(device, 't', { x: uploadStorage(device, 'x', x), out });
    await run(device, (p) => k.encode(p, bg, 1));
    const got = await readF32(device, out, x.length);
    expect(Array.from(got).every(Number.isFinite)).toBe(true);
    // 1e30^3 overflows f32 inside the polynomial: the result must still be x (or 0) exactly.
    expect(got[9]).toBe(Math.fround(1e30));
    expect(Math.abs(got[10]!)).toBe(0);
    expectClose(got.subarray(0, 9), Array.from(x.subarray(0, 9), geluRef), 1e-6, 1e-5);
  });
});

describe('position_add kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  // x[r] += table[pos + r]; rows past the table's end (a caller bug) are left alone.
  for (const [rows, dim, positions, pos] of [[1, 64, 16, 0], [1, 64, 16, 15], [5, 70, 32, 3], [4, 8, 6, 4]] as const) {
    it(`rows=${rows} dim=${dim} at pos ${pos} of ${positions}`, async () => {
      const x = randn(rows * dim, rows + dim);
      const table = randn(positions * dim, positions + pos);
      const k = await PositionAdd.create(cache, { dim, positions });
      const xb = uploadStorage(device, 'x', x);
      const bg = k.bind(device, 't', { x: xb, table: uploadStorage(device, 'table', table), step: stepBuffer(device, rows, pos).buffer });
      await run(device, (p) => k.encode(p, bg, rows));
      const want = Float32Array.from(x, (v, i) => {
        const p = pos + Math.floor(i / dim);
        return p < positions ? v + table[p * dim + (i % dim)]! : v;
      });
      expectClose(await readF32(device, xb, rows * dim), want, 1e-6, 1e-6);
    });
  }
});
