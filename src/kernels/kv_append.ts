import kvAppendCode from './kv_append.wgsl';
import { STEP_ROWS_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';

/** Writes the pass's k, v rows [rows, kvDim] into f32 caches [maxCtx, kvDim] at step.pos. */
export class KvAppend {
  private static readonly WG = 64;
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly kvDim: number,
    private readonly maxCtx: number,
  ) {}

  /** batched: rows are placed by the step's row table (a batched pass over several sequences' caches) */
  static async create(cache: PipelineCache, s: { kvDim: number; maxCtx: number; batched?: boolean }): Promise<KvAppend> {
    const pipeline = await cache.get('kv_append', STEP_ROWS_WGSL + kvAppendCode, { KV_DIM: s.kvDim, MAX_CTX: s.maxCtx, WG: KvAppend.WG, BATCHED: s.batched ?? false });
    return new KvAppend(pipeline, s.kvDim, s.maxCtx);
  }

  bind(device: GPUDevice, label: string, b: { k: GPUBuffer; v: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; step: GPUBuffer }): GPUBindGroup {
    // A short cache would silently drop rows (the shader's bound is MAX_CTX, not the buffer size).
    const need = this.maxCtx * this.kvDim * 4;
    for (const c of [b.kCache, b.vCache]) {
      if (c.size < need) throw new Error(`${label}: cache ${c.label} is ${c.size} bytes, needs ${need} (maxCtx ${this.maxCtx} x kvDim ${this.kvDim})`);
    }
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.k } },
        { binding: 1, resource: { buffer: b.v } },
        { binding: 2, resource: { buffer: b.kCache } },
        { binding: 3, resource: { buffer: b.vCache } },
        { binding: 4, resource: { buffer: b.step } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bg: GPUBindGroup, rows: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(Math.ceil(this.kvDim / KvAppend.WG), rows);
  }
}
