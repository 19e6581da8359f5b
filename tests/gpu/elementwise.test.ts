import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, expectClose, run } from './harness';
import { uploadStorage, createStorage, readF32 } from '../../src/gpu/buffers';
import { SiluMul } from '../../src/kernels/silu_mul';
import type { PipelineCache } from '../../src/gpu/pipelines';

// Reference in float64: silu(x) = x / (1 + e^-x), written independently of the shader's form.
function siluMulRef(gate: Float32Array, up: Float32Array): Float32Array {
  const out = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
  return out;
}

describe('silu_mul kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  for (const [rows, dim, scale] of [[1, 64, 3], [7, 37, 3], [3, 300, 3], [2, 1, 1], [5, 257, 40]] as const) {
    it(`rows=${rows} dim=${dim} gate scale=${scale}`, async () => {
      const n = rows * dim;
      const gate = randn(n, rows * 17 + dim, scale);
      const up = randn(n, rows * 19 + dim + 1);
      // Guard values past rows*dim check that nothing outside the pass is written.
      const out = uploadStorage(device, 'out', new Float32Array(n + dim).fill(7));
      const k = await SiluMul.create(cache, { dim });
      const bg = k.bind(device, 't', { gate: uploadStorage(device, 'gate', gate), up: uploadStorage(device, 'up', up), out });
      await run(device, (p) => k.encode(p, bg, rows));
      const want = new Float32Array(n + dim).fill(7);
      want.set(siluMulRef(gate, up));
      expectClose(await readF32(device, out, n + dim), want, 1e-6, 1e-5);
    });
  }

  it('rows=2 dim=9 gate in ±80 and beyond (no inf/NaN)', async () => {
    const gate = new Float32Array([80, -80, 79.5, -79.5, 100, -100, 1e30, -1e30, 0, 88.7, -88.7, 50, -50, 20, -20, 1e-3, -1e-3, 1e20]);
    const up = randn(gate.length, 5, 2);
    const dim = 9;
    const out = createStorage(device, 'out', gate.length * 4);
    const k = await SiluMul.create(cache, { dim });
    const bg = k.bind(device, 't', { gate: uploadStorage(device, 'gate', gate), up: uploadStorage(device, 'up', up), out });
    await run(device, (p) => k.encode(p, bg, 2));
    const got = await readF32(device, out, gate.length);
    for (const v of got) expect(Number.isFinite(v)).toBe(true);
    expectClose(got, siluMulRef(gate, up), 1e-6, 1e-5);
  });
});
