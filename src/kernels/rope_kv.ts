import ropeKvCode from './rope_kv.wgsl';
import sincosCode from './sincos.wgsl';
import { STEP_ROWS_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';
import { checkKvBuffer, kvCacheWgsl, type KvFormat } from './kv_cache';

/**
 * RoPE on q (in place) and on k, and k, v appended to one layer's cache, in one dispatch for a pass
 * over rows (rope_kv.wgsl): what Rope on q, Rope on k and KvAppend do, with the same arithmetic
 * (the same bits in q and the cache on SwiftShader, tested), in one dispatch instead of three.
 * Needs the head dimension a multiple of 4 (applies).
 */
export class RopeKv {
  private static readonly WG = 64;
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly groupsPerRow: number,
    private readonly s: { nKvHeads: number; headDim: number; maxCtx: number; kv: KvFormat },
  ) {}

  static applies(headDim: number): boolean {
    return headDim % 4 === 0;
  }

  /** batched: rows are placed by the step's row table (positions and cache regions per row) */
  static async create(cache: PipelineCache, s: { nHeads: number; nKvHeads: number; headDim: number; maxCtx: number; batched?: boolean; kv?: KvFormat }): Promise<RopeKv> {
    if (!RopeKv.applies(s.headDim)) throw new Error(`rope_kv: the head dimension must be a multiple of 4 (got ${s.headDim})`);
    const kv = s.kv ?? 'f32';
    const code = STEP_ROWS_WGSL + sincosCode + kvCacheWgsl(kv, { view: 'scalar', access: 'read_write', k: 3, v: 4 }) + ropeKvCode;
    const pipeline = await cache.get(`rope_kv kv=${kv}`, code, {
      N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, MAX_CTX: s.maxCtx, WG: RopeKv.WG, BATCHED: s.batched ?? false,
    });
    const invocations = (s.nHeads * s.headDim) / 2 + (s.nKvHeads * s.headDim) / 4;
    return new RopeKv(pipeline, Math.ceil(invocations / RopeKv.WG), { nKvHeads: s.nKvHeads, headDim: s.headDim, maxCtx: s.maxCtx, kv });
  }

  bind(device: GPUDevice, label: string, b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; invFreq: GPUBuffer; step: GPUBuffer }): GPUBindGroup {
    checkKvBuffer(label, this.s.kv, [b.kCache, b.vCache], this.s.maxCtx, this.s.nKvHeads * this.s.headDim);
    return device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.q } },
        { binding: 1, resource: { buffer: b.k } },
        { binding: 2, resource: { buffer: b.v } },
        { binding: 3, resource: { buffer: b.kCache } },
        { binding: 4, resource: { buffer: b.vCache } },
        { binding: 5, resource: { buffer: b.invFreq } },
        { binding: 6, resource: { buffer: b.step } },
      ],
    });
  }

  encode(pass: GPUComputePassEncoder, bg: GPUBindGroup, rows: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(this.groupsPerRow, rows);
  }
}
