import attentionCode from './attention.wgsl';
import { STEP_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';

export interface AttentionShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  maxCtx: number;
  /** Sliding window in tokens; 0 = none. */
  window: number;
}

/**
 * Causal GQA attention: out[row, h] = softmax(q[row, h] . K^T / sqrt(headDim)) V over the cached
 * keys at positions <= step.pos + row (and within the window), with K, V from kv head
 * h / (nHeads / nKvHeads). The caches must already hold this pass's keys (KvAppend first).
 */
export class Attention {
  private static readonly WG = 64;
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly s: AttentionShape,
  ) {}

  static async create(cache: PipelineCache, s: AttentionShape): Promise<Attention> {
    if (s.nHeads % s.nKvHeads !== 0) throw new Error(`attention: nHeads ${s.nHeads} not a multiple of nKvHeads ${s.nKvHeads}`);
    if (s.headDim < 1 || s.headDim > 256) throw new Error(`attention: headDim ${s.headDim} outside 1..256`);
    const pipeline = await cache.get('attention', STEP_WGSL + attentionCode, {
      N_HEADS: s.nHeads,
      N_KV_HEADS: s.nKvHeads,
      HEAD_DIM: s.headDim,
      WINDOW: s.window,
      SCALE: 1 / Math.sqrt(s.headDim),
      WG: Attention.WG,
    });
    return new Attention(pipeline, { ...s });
  }

  bind(device: GPUDevice, label: string, b: { q: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; out: GPUBuffer; step: GPUBuffer }): GPUBindGroup {
    const need = this.s.maxCtx * this.s.nKvHeads * this.s.headDim * 4;
    for (const c of [b.kCache, b.vCache]) {
      if (c.size < need) throw new Error(`${label}: cache ${c.label} is ${c.size} bytes, needs ${need}`);
    }
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.q } },
        { binding: 1, resource: { buffer: b.kCache } },
        { binding: 2, resource: { buffer: b.vCache } },
        { binding: 3, resource: { buffer: b.out } },
        { binding: 4, resource: { buffer: b.step } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bg: GPUBindGroup, rows: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(this.s.nHeads, rows);
  }
}
