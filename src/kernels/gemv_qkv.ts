// Decode-time q/k/v projection with everything around it fused into one dispatch: RMSNorm of the
// residual stream on the way in, the stacked [Q + 2*KV, D] weight, biases, RoPE on q and k, and
// the KV-cache append (gemv_rows_qkv.wgsl); without the norm or RoPE where the model has none
// (GPT-2). Prefill runs the same weight through Matmul's GEMM.
import rowsCode from './gemv_rows_qkv.wgsl';
import sincosCode from './sincos.wgsl';
import type { PipelineCache } from '../gpu/pipelines';
import { createUniform } from '../gpu/buffers';
import { gemvCode, gemvConstants, gemvDevice, gemvEntries, gemvGrid, gemvTuning, tuningKey, vecGemvApplies, type GemvTuning } from './gemv';
import { weightConstants, biasWgsl, partsKey, type GpuWeight } from './weights';
import type { WeightShape } from './matmul';
import { checkKvBuffer, checkKvFormat, kvCacheWgsl, type KvFormat } from './kv_cache';

export interface QkvShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  maxCtx: number;
  eps: number;
  bias: boolean;
  /** RMSNorm fused in (default); false: x is already normalized (see Forward's prenorm) */
  norm?: boolean;
  /** RoPE on q and k (default); false: none (GPT-2), the uniform of frequencies is then bound but unread */
  rope?: boolean;
  /** the KV cache's storage (kv_cache.ts); default f32 */
  kv?: KvFormat;
}

const MAX_HALF = 128; // the inv_freq uniform holds 32 vec4s: head_dim <= 256

export class QkvRope {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly s: QkvShape,
    private readonly w: WeightShape,
    private readonly grid: [number, number],
  ) {}

  /** Whether the fused kernel can run this layer (every real model's shapes qualify). */
  static applies(w: Pick<WeightShape, 'format' | 'k' | 'groupSize'>, s: Pick<QkvShape, 'headDim'>): boolean {
    return vecGemvApplies(w) && s.headDim % 4 === 0 && s.headDim / 2 <= MAX_HALF;
  }

  static async create(cache: PipelineCache, w: WeightShape, s: QkvShape, tuning?: Partial<GemvTuning>): Promise<QkvRope> {
    const Q = s.nHeads * s.headDim;
    const KV = s.nKvHeads * s.headDim;
    if (!QkvRope.applies(w, s)) throw new Error(`qkv_rope: needs a vectorizable K (got ${w.format} K=${w.k}) and head_dim % 4 == 0 (got ${s.headDim})`);
    if (w.n !== Q + 2 * KV) throw new Error(`qkv_rope: weight has ${w.n} rows, expected ${Q} + 2 x ${KV}`);
    const units = w.n / 4;
    const t = gemvTuning(w, units, gemvDevice(cache), tuning);
    const norm = s.norm ?? true;
    const rope = s.rope ?? true;
    const kv = s.kv ?? 'f32';
    checkKvFormat(kv, s.headDim);
    const layout = sincosCode + biasWgsl(s.bias) + kvCacheWgsl(kv, { view: 'scalar', access: 'read_write', k: 7, v: 8 }) + rowsCode;
    const code = gemvCode(w, { layout, norm, tuning: t, outputs: { Yq: Q } });
    const pipeline = await cache.get(`matmul_qkv${rope ? '_rope' : ''} ${w.format}${s.bias ? '+bias' : ''}${norm ? '+norm' : ''}${partsKey(w)} kv=${kv} ${tuningKey(t, w.format)}`, code, {
      K: w.k, ...weightConstants(w), ...gemvConstants(t), ...(norm ? { EPS: s.eps } : {}), HEAD_DIM: s.headDim, Q_DIM: Q, KV_DIM: KV, ROPE: rope ? 1 : 0,
    });
    return new QkvRope(pipeline, { ...s }, w, gemvGrid(units, t));
  }

  /** The RoPE inverse frequencies as this kernel's uniform (made once, at load). */
  static invFreqUniform(device: GPUDevice, invFreq: Float32Array): GPUBuffer {
    if (invFreq.length > MAX_HALF) throw new Error(`qkv_rope: ${invFreq.length} frequencies, at most ${MAX_HALF}`);
    const buf = createUniform(device, 'rope.invFreq uniform', MAX_HALF * 4);
    device.queue.writeBuffer(buf, 0, invFreq);
    return buf;
  }

  bind(device: GPUDevice, label: string, b: { w: GpuWeight; x: GPUBuffer; norm?: GPUBuffer; q: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; invFreq: GPUBuffer; step: GPUBuffer; bias?: GPUBuffer }): GPUBindGroup {
    checkKvBuffer(label, this.s.kv ?? 'f32', [b.kCache, b.vCache], this.s.maxCtx, this.s.nKvHeads * this.s.headDim);
    if ((this.s.norm ?? true) !== !!b.norm) throw new Error(`${label}: norm weight ${b.norm ? 'given to a pre-normalized' : 'missing for a norm-fused'} qkv_rope`);
    const entries = [
      ...gemvEntries(label, { w: this.w, bias: this.s.bias }, { ...b, y: b.q }),
      { binding: 7, resource: { buffer: b.kCache } },
      { binding: 8, resource: { buffer: b.vCache } },
      { binding: 9, resource: { buffer: b.invFreq } },
    ];
    return device.createBindGroup({ label, layout: this.pipeline.getBindGroupLayout(0), entries });
  }

  /** One decode row at step.pos. */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(this.grid[0], this.grid[1]);
  }
}
