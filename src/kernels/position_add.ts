import code from './position_add.wgsl';
import { STEP_ROWS_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';

const WG = 64;
const MAX_WORKGROUPS = 65535;

/** x[r] += table[pos + r] for the pass's rows: GPT-2's learned position embeddings (f32 [positions, dim]). */
export class PositionAdd {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly dim: number,
  ) {}

  /** batched: rows take their positions from the step's row table */
  static async create(cache: PipelineCache, s: { dim: number; positions: number; batched?: boolean }): Promise<PositionAdd> {
    if (Math.ceil(s.dim / WG) > MAX_WORKGROUPS) throw new Error(`position_add: dim ${s.dim} too wide`);
    return new PositionAdd(await cache.get('position_add', STEP_ROWS_WGSL + code, { DIM: s.dim, POSITIONS: s.positions, WG, BATCHED: s.batched ?? false }), s.dim);
  }

  bind(device: GPUDevice, label: string, b: { x: GPUBuffer; table: GPUBuffer; step: GPUBuffer }): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.x } },
        { binding: 1, resource: { buffer: b.table } },
        { binding: 2, resource: { buffer: b.step } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, rows: number): void {
    if (rows > MAX_WORKGROUPS) throw new Error(`position_add: ${rows} rows exceed one dispatch`);
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.dim / WG), rows);
  }
}
