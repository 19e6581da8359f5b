import code from './gelu_rows.wgsl';
import geluCode from './gelu.wgsl';
import type { PipelineCache } from '../gpu/pipelines';

const WG = 256;
const MAX_WORKGROUPS = 65535;

/** out = gelu(x) (tanh approximation), elementwise over `rows` rows of width `dim`: GPT-2's MLP activation. */
export class Gelu {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly dim: number,
  ) {}

  static async create(cache: PipelineCache, s: { dim: number }): Promise<Gelu> {
    if (Math.ceil(s.dim / WG) > MAX_WORKGROUPS) throw new Error(`gelu: dim ${s.dim} too wide`);
    return new Gelu(await cache.get('gelu', geluCode + code, { DIM: s.dim, WG }), s.dim);
  }

  bind(device: GPUDevice, label: string, b: { x: GPUBuffer; out: GPUBuffer }): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.x } },
        { binding: 1, resource: { buffer: b.out } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, rows: number): void {
    if (rows > MAX_WORKGROUPS) throw new Error(`gelu: ${rows} rows exceed one dispatch`);
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.dim / WG), rows);
  }
}
