import ropeCode from './rope.wgsl';
import sincosCode from './sincos.wgsl';
import { STEP_ROWS_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';

export interface RopeParams {
  theta: number;
  type: 'default' | 'linear' | 'llama3';
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

const f32 = Math.fround;

function need(v: number | undefined, what: string, type: string): number {
  if (v === undefined || !Number.isFinite(v)) throw new Error(`rope_scaling type ${type} needs ${what}`);
  return v;
}

/**
 * Inverse frequencies [headDim/2] as HF transformers' ROPE_INIT_FUNCTIONS compute them. HF works
 * in float32 tensors, so every intermediate is rounded to f32 here too; the result then matches
 * HF's to the ulp of its powf.
 */
export function ropeInvFreq(p: RopeParams, headDim: number): Float32Array {
  if (headDim % 2 !== 0) throw new Error(`rope: headDim ${headDim} must be even`);
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = f32(1 / f32(p.theta ** f32((2 * i) / headDim)));
  if (p.type === 'default') return inv;

  const factor = need(p.factor, 'factor', p.type);
  if (p.type === 'linear') return inv.map((f) => f32(f / factor));

  const low = need(p.lowFreqFactor, 'lowFreqFactor', p.type);
  const high = need(p.highFreqFactor, 'highFreqFactor', p.type);
  const orig = need(p.originalMaxPositionEmbeddings, 'originalMaxPositionEmbeddings', p.type);
  const lowWavelen = orig / low;
  const highWavelen = orig / high;
  const twoPi = f32(2 * Math.PI);
  return inv.map((f) => {
    const wavelen = f32(twoPi / f);
    if (wavelen > lowWavelen) return f32(f / factor); // long wavelengths: fully interpolated
    if (wavelen < highWavelen) return f; // short wavelengths: untouched
    const smooth = f32(f32(f32(orig / wavelen) - low) / (high - low));
    return f32(f32(f32(f32(1 - smooth) * f) / factor) + f32(smooth * f));
  });
}

/** Rotary embedding applied in place to x [rows, nHeads * headDim] at positions step.pos + row. */
export class Rope {
  private static readonly WG = 64;
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly groupsPerRow: number,
  ) {}

  /** batched: rows take their positions from the step's row table (a batched pass) */
  static async create(cache: PipelineCache, s: { nHeads: number; headDim: number; batched?: boolean }): Promise<Rope> {
    if (s.headDim % 2 !== 0) throw new Error(`rope: headDim ${s.headDim} must be even`);
    const pipeline = await cache.get('rope', STEP_ROWS_WGSL + sincosCode + ropeCode, { N_HEADS: s.nHeads, HEAD_DIM: s.headDim, WG: Rope.WG, BATCHED: s.batched ?? false });
    return new Rope(pipeline, Math.ceil((s.nHeads * s.headDim) / 2 / Rope.WG));
  }

  bind(device: GPUDevice, label: string, b: { x: GPUBuffer; invFreq: GPUBuffer; step: GPUBuffer }): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.x } },
        { binding: 1, resource: { buffer: b.invFreq } },
        { binding: 2, resource: { buffer: b.step } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bg: GPUBindGroup, rows: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(this.groupsPerRow, rows);
  }
}
