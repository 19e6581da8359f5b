import code from './rmsnorm.wgsl';
import type { PipelineCache } from '../gpu/pipelines';

/** RMSNorm of `rows` rows of width `dim`. */
export class RmsNorm {
  private constructor(private readonly pipeline: GPUComputePipeline) {}

  static async create(cache: PipelineCache, dim: number, eps: number): Promise<RmsNorm> {
    return new RmsNorm(await cache.get('rmsnorm', code, { DIM: dim, EPS: eps, WG: 128 }));
  }

  bind(device: GPUDevice, label: string, b: { x: GPUBuffer; weight: GPUBuffer; out: GPUBuffer }): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.x } },
        { binding: 1, resource: { buffer: b.weight } },
        { binding: 2, resource: { buffer: b.out } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, rows: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(rows);
  }
}
