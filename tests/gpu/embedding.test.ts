import { describe, it, beforeAll, expect } from 'vitest';
import { gpu, randn, rng, expectClose, run } from './harness';
import { uploadStorage, createStorage, readF32 } from '../../src/gpu/buffers';
import { Embedding } from '../../src/kernels/embedding';
import { uploadWeight } from '../../src/kernels/weights';
import { packWeight, unpackWeight, type WeightFormat } from '../../src/kernels/formats';
import type { PipelineCache } from '../../src/gpu/pipelines';

const VOCAB = 50;

describe('embedding kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  // split: the table over 3 buffers (a binding limit of 20 rows: 20 + 20 + 10)
  for (const format of ['f32', 'f16', 'int8', 'q4'] as WeightFormat[]) {
    for (const dim of [37, 64]) {
      for (const [rows, split] of [[1, false], [7, false], [7, true]] as const) {
        it(`${format} vocab=${VOCAB} dim=${dim} rows=${rows}${split ? ' (table split over 3 buffers)' : ''}`, async () => {
          const table = randn(VOCAB * dim, dim * 7 + rows, 0.5);
          // int8 and q4 group 16 so that dim 37 has a ragged last group and several scales per row.
          const packed = packWeight(table, VOCAB, dim, format, 16);
          const ref = unpackWeight(packed);
          const r = rng(dim * 13 + rows + format.length);
          // Always include the first and last rows of the table and a repeated id.
          const ids = new Uint32Array(rows);
          for (let i = 0; i < rows; i++) ids[i] = Math.floor(r() * VOCAB);
          if (rows > 1) ids.set([0, VOCAB - 1, ids[0]!], rows - 3);
          const w = uploadWeight(device, 'emb', packed, split ? 20 * packed.rowStride * 4 : undefined);
          expect(w.more.length).toBe(split ? 2 : 0);
          const k = await Embedding.create(cache, w);
          // A guard row past the output checks that the last row does not spill.
          const out = uploadStorage(device, 'out', new Float32Array((rows + 1) * dim).fill(12345));
          const bg = k.bind(device, 't', { w, ids: uploadStorage(device, 'ids', ids), out });
          await run(device, (p) => k.encode(p, bg, rows));
          const want = new Float32Array((rows + 1) * dim).fill(12345);
          for (let i = 0; i < rows; i++) want.set(ref.subarray(ids[i]! * dim, ids[i]! * dim + dim), i * dim);
          expectClose(await readF32(device, out, (rows + 1) * dim), want, 0, 0);
        });
      }
    }
  }

  it('f32 dim=37 rows=3 twice into the same output (reuses the bind group)', async () => {
    const dim = 37;
    const packed = packWeight(randn(VOCAB * dim, 99), VOCAB, dim, 'f32');
    const ref = unpackWeight(packed);
    const w = uploadWeight(device, 'emb', packed);
    const k = await Embedding.create(cache, w);
    const idsBuf = createStorage(device, 'ids', 3 * 4);
    const out = createStorage(device, 'out', 3 * dim * 4);
    const bg = k.bind(device, 't', { w, ids: idsBuf, out });
    for (const ids of [new Uint32Array([5, 6, 7]), new Uint32Array([49, 0, 5])]) {
      device.queue.writeBuffer(idsBuf, 0, ids);
      await run(device, (p) => k.encode(p, bg, 3));
      const want = new Float32Array(3 * dim);
      ids.forEach((id, i) => want.set(ref.subarray(id * dim, id * dim + dim), i * dim));
      expectClose(await readF32(device, out, 3 * dim), want, 0, 0);
    }
  });
});
