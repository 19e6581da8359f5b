import code from './embedding.wgsl';
import type { PipelineCache } from '../gpu/pipelines';
import { weightWgsl, weightConstants, weightEntries, partsKey, type GpuWeight, type WeightReadShape } from './weights';

const WG = 64;
const MAX_WORKGROUPS = 65535;

/** Gathers rows of a packed [vocab, dim] table (any weight format) into f32 activations. */
export class Embedding {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly quads: number,
  ) {}

  static async create(cache: PipelineCache, w: WeightReadShape): Promise<Embedding> {
    const quads = Math.ceil(w.k / 4);
    if (Math.ceil(quads / WG) > MAX_WORKGROUPS) throw new Error(`embedding: dim ${w.k} too wide`);
    // The format is in the name: f32 and f16 tables can have identical constants but differ in code.
    const pipeline = await cache.get(`embedding ${w.format}${partsKey(w)}`, weightWgsl(w) + code, {
      ...weightConstants(w),
      DIM: w.k,
      VOCAB: w.n,
      WG,
    });
    return new Embedding(pipeline, quads);
  }

  bind(device: GPUDevice, label: string, b: { w: GpuWeight; ids: GPUBuffer; out: GPUBuffer }): GPUBindGroup {
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        ...weightEntries(b.w),
        { binding: 2, resource: { buffer: b.ids } },
        { binding: 3, resource: { buffer: b.out } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, rows: number): void {
    if (rows > MAX_WORKGROUPS) throw new Error(`embedding: ${rows} rows exceed one dispatch`);
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.quads / WG), rows);
  }
}
