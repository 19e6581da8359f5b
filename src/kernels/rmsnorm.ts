import code from './rmsnorm.wgsl';
import vec4Code from './rmsnorm_vec4.wgsl';
import rowCode from './rmsnorm_row.wgsl';
import type { PipelineCache } from '../gpu/pipelines';

/** RMSNorm of `rows` rows of width `dim`. */
export class RmsNorm {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    /** 'workgroup': 256 invocations per row reading vec4s (128 reading f32s where the width is not a multiple of 4; GPUs); 'thread': one (software adapters) */
    readonly variant: 'workgroup' | 'thread',
  ) {}

  static async create(cache: PipelineCache, dim: number, eps: number, variant?: 'workgroup' | 'thread'): Promise<RmsNorm> {
    const v = variant ?? (cache.software ? 'thread' : 'workgroup');
    const p = v === 'thread' ? cache.get('rmsnorm', code, { DIM: dim, EPS: eps }, 'main_thread')
      : dim % 4 === 0 ? cache.get('rmsnorm_vec4', rowCode + vec4Code, { DIM: dim, EPS: eps })
      : cache.get('rmsnorm', code, { DIM: dim, EPS: eps, WG: 128 });
    return new RmsNorm(await p, v);
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
