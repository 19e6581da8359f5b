import { describe, it, beforeAll } from 'vitest';
import { gpu, randn, expectClose, run, stepBuffer } from './harness';
import { uploadStorage, readF32 } from '../../src/gpu/buffers';
import { Rope, ropeInvFreq, type RopeParams } from '../../src/kernels/rope';
import type { PipelineCache } from '../../src/gpu/pipelines';

/** HF apply_rotary_pos_emb with rotate_half; the angle is the f32 product HF forms. */
function ropeRef(x: Float32Array, inv: Float32Array, rows: number, nHeads: number, hd: number, pos: number): Float32Array {
  const out = new Float32Array(x.length);
  const half = hd / 2;
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < nHeads; h++) {
      const base = (r * nHeads + h) * hd;
      for (let d = 0; d < half; d++) {
        const angle = Math.fround((pos + r) * inv[d]!);
        const c = Math.cos(angle);
        const s = Math.sin(angle);
        const a = x[base + d]!;
        const b = x[base + d + half]!;
        out[base + d] = a * c - b * s;
        out[base + d + half] = b * c + a * s;
      }
    }
  }
  return out;
}

const llama3: RopeParams = { theta: 500000, type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
const plain: RopeParams = { theta: 10000, type: 'default' };
const qwen: RopeParams = { theta: 1000000, type: 'default' };

describe('rope kernel', () => {
  let device: GPUDevice;
  let cache: PipelineCache;
  beforeAll(async () => ({ device, cache } = await gpu()));

  const cases: Array<[string, RopeParams, number, number, number, number]> = [
    // name, params, rows, nHeads, headDim, pos
    ['default', plain, 3, 3, 8, 5],
    ['default', plain, 3, 3, 64, 17],
    ['llama3', llama3, 3, 3, 8, 11],
    ['llama3', llama3, 3, 3, 64, 300],
    // Large positions: angles up to ~8k rad need an accurate range reduction.
    ['llama3', llama3, 2, 5, 64, 8190],
    ['theta=1e6', qwen, 3, 1, 128, 7999],
    ['default', plain, 1, 7, 12, 4093],
  ];
  for (const [name, params, rows, nHeads, hd, pos] of cases) {
    it(`${name} rows=${rows} nHeads=${nHeads} headDim=${hd} pos=${pos}`, async () => {
      const inv = ropeInvFreq(params, hd);
      const x = randn(rows * nHeads * hd, rows * 97 + hd + pos, 1.5);
      const xBuf = uploadStorage(device, 'x', x);
      const k = await Rope.create(cache, { nHeads, headDim: hd });
      const bg = k.bind(device, 't', { x: xBuf, invFreq: uploadStorage(device, 'inv', inv), step: stepBuffer(device, rows, pos).buffer });
      await run(device, (p) => k.encode(p, bg, rows));
      expectClose(await readF32(device, xBuf, x.length), ropeRef(x, inv, rows, nHeads, hd, pos), 2e-6, 1e-5);
    });
  }
});
