import kvAppendCode from './kv_append.wgsl';
import { STEP_ROWS_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';
import { checkKvBuffer, kvCacheWgsl, type KvFormat } from './kv_cache';

/** Writes the pass's k, v rows [rows, kvDim] into the caches [maxCtx, kvDim] (f32 or f16) at step.pos. */
export class KvAppend {
  private static readonly WG = 64;
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly kvDim: number,
    private readonly maxCtx: number,
    private readonly kv: KvFormat,
  ) {}

  /** batched: rows are placed by the step's row table (a batched pass over several sequences' caches) */
  static async create(cache: PipelineCache, s: { kvDim: number; maxCtx: number; batched?: boolean; kv?: KvFormat }): Promise<KvAppend> {
    const kv = s.kv ?? 'f32';
    if (kv === 'f16' && s.kvDim % 2 !== 0) throw new Error(`kv_append: an f16 cache needs an even KV width (got ${s.kvDim})`);
    const code = STEP_ROWS_WGSL + kvCacheWgsl(kv, { view: 'scalar', access: 'read_write', k: 2, v: 3 }) + kvAppendCode;
    const pipeline = await cache.get(`kv_append kv=${kv}`, code, { KV_DIM: s.kvDim, MAX_CTX: s.maxCtx, WG: KvAppend.WG, BATCHED: s.batched ?? false });
    return new KvAppend(pipeline, s.kvDim, s.maxCtx, kv);
  }

  bind(device: GPUDevice, label: string, b: { k: GPUBuffer; v: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; step: GPUBuffer }): GPUBindGroup {
    checkKvBuffer(label, this.kv, [b.kCache, b.vCache], this.maxCtx, this.kvDim);
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
    pass.dispatchWorkgroups(Math.ceil(this.kvDim / (2 * KvAppend.WG)), rows); // a pair per invocation
  }
}
