import code from './silu_mul.wgsl';
import siluCode from './silu.wgsl';
import type { PipelineCache } from '../gpu/pipelines';

const WG = 256;
const MAX_WORKGROUPS = 65535;

/** out = silu(gate) * up, elementwise over `rows` rows of width `dim`. */
export class SiluMul {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly dim: number,
  ) {}

  static async create(cache: PipelineCache, s: { dim: number }): Promise<SiluMul> {
    if (Math.ceil(s.dim / WG) > MAX_WORKGROUPS) throw new Error(`silu_mul: dim ${s.dim} too wide`);
    return new SiluMul(await cache.get('silu_mul', siluCode + code, { DIM: s.dim, WG }), s.dim);
  }

  bind(device: GPUDevice, label: string, b: { gate: GPUBuffer; up: GPUBuffer; out: GPUBuffer }): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.gate } },
        { binding: 1, resource: { buffer: b.up } },
        { binding: 2, resource: { buffer: b.out } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, rows: number): void {
    if (rows > MAX_WORKGROUPS) throw new Error(`silu_mul: ${rows} rows exceed one dispatch`);
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.dim / WG), rows);
  }
}
