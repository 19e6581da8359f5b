import code from './layernorm.wgsl';
import type { PipelineCache } from '../gpu/pipelines';

/** LayerNorm (with weight and bias) of `rows` rows of width `dim`: GPT-2's norm. */
export class LayerNorm {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    /** 'workgroup': 128 invocations per row (GPUs); 'thread': one (software adapters) */
    readonly variant: 'workgroup' | 'thread',
  ) {}

  static async create(cache: PipelineCache, dim: number, eps: number, variant?: 'workgroup' | 'thread'): Promise<LayerNorm> {
    const v = variant ?? (cache.software ? 'thread' : 'workgroup');
    const p = v === 'thread' ? cache.get('layernorm', code, { DIM: dim, EPS: eps }, 'main_thread') : cache.get('layernorm', code, { DIM: dim, EPS: eps, WG: 128 });
    return new LayerNorm(await p, v);
  }

  bind(device: GPUDevice, label: string, b: { x: GPUBuffer; weight: GPUBuffer; bias: GPUBuffer; out: GPUBuffer }): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.x } },
        { binding: 1, resource: { buffer: b.weight } },
        { binding: 2, resource: { buffer: b.out } },
        { binding: 3, resource: { buffer: b.bias } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, rows: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(rows);
  }
}
