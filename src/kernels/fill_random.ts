// Fills GPU buffers with deterministic pseudo-random packed weights (synthetic benchmark models):
// no download, no CPU-side tensor, so a 7B model's weights appear in seconds.
import code from './fill_random.wgsl';
import type { PipelineCache } from '../gpu/pipelines';

const WG = 256;
const GRID_X = 32768; // wraps into a 2-D grid well under 65535 per dimension

import type { WeightFormat } from './formats';

/** A fill writes values of one weight format (a quantized format's scales are an f32 or f16 fill). */
export type FillMode = WeightFormat;
const MODE_ID: Record<FillMode, number> = { f32: 0, f16: 1, int8: 2, q4: 3 };

export interface FillSpec {
  mode: FillMode;
  seed: number;
  /** u32 words to write from the start of the buffer */
  words: number;
  /** words per row (the packed row stride); a vector is one row */
  rowWords: number;
  /** valid values per row; the rest of a row (padding) is written as zero */
  cols: number;
  /** f32 and f16 values are uniform in [lo, hi); int8 bytes are uniform in [-127, 127], q4 nibbles in [-7, 7] */
  lo?: number;
  hi?: number;
}

export class FillRandom {
  private constructor(private readonly pipeline: GPUComputePipeline) {}

  static async create(cache: PipelineCache): Promise<FillRandom> {
    return new FillRandom(await cache.get('fill_random', code, { WG }));
  }

  /**
   * Writes `spec.words` words of `out` and submits at once (load-time work: it creates a small
   * uniform buffer and a bind group per call).
   */
  fill(device: GPUDevice, out: GPUBuffer, spec: FillSpec): void {
    const { words, rowWords, cols } = spec;
    if (!(words > 0 && rowWords > 0 && cols >= 0)) throw new Error(`fill_random: bad spec ${JSON.stringify(spec)}`);
    if (words * 4 > out.size) throw new Error(`fill_random: ${words} words do not fit ${out.label} (${out.size} bytes)`);
    if (words % rowWords !== 0) throw new Error(`fill_random: ${words} words are not whole rows of ${rowWords}`);
    const params = device.createBuffer({ label: `fill_random params ${out.label}`, size: 32, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    const u = new Uint32Array(params.getMappedRange());
    const f = new Float32Array(u.buffer);
    u.set([spec.seed >>> 0, words, rowWords, cols, MODE_ID[spec.mode]]);
    f[5] = spec.lo ?? -0.05;
    f[6] = spec.hi ?? 0.05;
    params.unmap();
    const bindGroup = device.createBindGroup({
      label: `fill_random ${out.label}`,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: out, size: words * 4 } },
        { binding: 1, resource: { buffer: params } },
      ],
    });
    const groups = Math.ceil(words / WG);
    const gx = Math.min(groups, GRID_X);
    const enc = device.createCommandEncoder({ label: `fill_random ${out.label}` });
    const pass = enc.beginComputePass({ label: `fill_random ${out.label}` });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, Math.ceil(groups / gx));
    pass.end();
    device.queue.submit([enc.finish()]);
    // Destroying after submit is safe: the implementation keeps it until the fill has run.
    params.destroy();
  }
}

// The same hash in TypeScript, for tests: value at (row, col) of a tensor filled with `seed`.
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x21f0aaad) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x735a2d97) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

export function fillHash(seed: number, row: number, col: number): number {
  return mix32((mix32((seed ^ mix32(row)) >>> 0) + col) >>> 0);
}

/** The f32 / f16 value fill_random writes at (row, col) before any f16 rounding. */
export function fillUniform(seed: number, row: number, col: number, lo: number, hi: number): number {
  const u = (fillHash(seed, row, col) >>> 8) / 16777216;
  return Math.fround(Math.fround(lo) + Math.fround(Math.fround(Math.fround(hi) - Math.fround(lo)) * u));
}

/** The int8 value fill_random writes at (row, col). */
export function fillInt8(seed: number, row: number, col: number): number {
  return (fillHash(seed, row, col) % 255) - 127;
}

/** The q4 value fill_random writes at (row, col). */
export function fillQ4(seed: number, row: number, col: number): number {
  return (fillHash(seed, row, col) % 15) - 7;
}
