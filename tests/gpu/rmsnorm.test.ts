import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run } from './harness';
import { uploadStorage, createStorage, readF32 } from '../../src/gpu/buffers';
import { RmsNorm } from '../../src/kernels/rmsnorm';
import type { PipelineCache } from '../../src/gpu/pipelines';

function rmsnormRef(x: Float32Array, w: Float32Array, rows: number, dim: number, eps: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[r * dim + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i]! * inv * w[i]!;
  }
  return out;
}

describe('rmsnorm kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  // Both variants on every case: a workgroup per row with a tree reduction (GPUs; vec4 loads where
  // the width is a multiple of 4, several per invocation at 2056), and one invocation per row
  // without barriers (software adapters).
  for (const [rows, dim, eps] of [[1, 64, 1e-5], [7, 100, 1e-6], [3, 513, 1e-5], [5, 1, 1e-5], [2, 2056, 1e-5]] as const) for (const variant of ['workgroup', 'thread'] as const) {
    it(`rows=${rows} dim=${dim} (${variant})`, async () => {
      const x = randn(rows * dim, rows * 31 + dim, 2);
      const w = randn(dim, dim);
      const k = await RmsNorm.create(cache, dim, eps, variant);
      expect(k.variant).toBe(variant);
      const out = createStorage(device, 'out', rows * dim * 4);
      const bg = k.bind(device, 't', { x: uploadStorage(device, 'x', x), weight: uploadStorage(device, 'w', w), out });
      await run(device, (p) => k.encode(p, bg, rows));
      expectClose(await readF32(device, out, rows * dim), rmsnormRef(x, w, rows, dim, eps), 1e-5, 1e-4);
    });
  }
});
