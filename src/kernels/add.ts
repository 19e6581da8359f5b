import code from './add.wgsl';
import type { PipelineCache } from '../gpu/pipelines';

const WG = 256;
const MAX_WORKGROUPS = 65535;

/** a += b in place, elementwise over `rows` rows of width `dim` (the residual stream). */
export class Add {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly dim: number,
  ) {}

  static async create(cache: PipelineCache, s: { dim: number }): Promise<Add> {
    if (Math.ceil(s.dim / WG) > MAX_WORKGROUPS) throw new Error(`add: dim ${s.dim} too wide`);
    return new Add(await cache.get('add', code, { DIM: s.dim, WG }), s.dim);
  }

  bind(device: GPUDevice, label: string, b: { a: GPUBuffer; b: GPUBuffer }): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.a } },
        { binding: 1, resource: { buffer: b.b } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, rows: number): void {
    if (rows > MAX_WORKGROUPS) throw new Error(`add: ${rows} rows exceed one dispatch`);
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.dim / WG), rows);
  }
}
