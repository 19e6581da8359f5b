// Decode-time MLP input side in one dispatch: RMSNorm of the residual stream on the way in, the
// stacked [2*I, D] gate/up weight, biases, and act = silu(gate) * up in the epilogue
// (gemv_rows_gate_up.wgsl). Prefill runs the same weight through Matmul's GEMM and SiluMul.
import rowsCode from './gemv_rows_gate_up.wgsl';
import siluCode from './silu.wgsl';
import type { PipelineCache } from '../gpu/pipelines';
import { gemvCode, gemvConstants, gemvDevice, gemvEntries, gemvGrid, gemvTuning, tuningKey, vecGemvApplies, type GemvTuning } from './gemv';
import { weightConstants, biasWgsl, partsKey, type GpuWeight } from './weights';
import type { WeightShape } from './matmul';

export class GateUpSilu {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly w: WeightShape,
    private readonly bias: boolean,
    private readonly grid: [number, number],
    private readonly norm: boolean,
  ) {}

  /** Whether the fused kernel can run this layer (every real model's shapes qualify). */
  static applies(w: Pick<WeightShape, 'format' | 'k' | 'groupSize' | 'n'>): boolean {
    return vecGemvApplies(w) && w.n % 4 === 0;
  }

  /** `s.norm`: RMSNorm fused in (default); false when x is already normalized (Forward's prenorm). */
  static async create(cache: PipelineCache, w: WeightShape, s: { eps: number; bias: boolean; norm?: boolean }, tuning?: Partial<GemvTuning>): Promise<GateUpSilu> {
    if (!GateUpSilu.applies(w)) throw new Error(`gate_up_silu: needs a vectorizable K (got ${w.format} K=${w.k}) and an even intermediate size (got ${w.n / 2})`);
    const units = w.n / 4;
    const t = gemvTuning(w, units, gemvDevice(cache), tuning);
    const norm = s.norm ?? true;
    const code = gemvCode(w, { layout: siluCode + biasWgsl(s.bias) + rowsCode, norm, tuning: t, outputs: { Y: w.n / 2 } });
    const pipeline = await cache.get(`matmul_gate_up_silu ${w.format}${s.bias ? '+bias' : ''}${norm ? '+norm' : ''}${partsKey(w)} ${tuningKey(t, w.format)}`, code, {
      K: w.k, ...weightConstants(w), ...gemvConstants(t), ...(norm ? { EPS: s.eps } : {}), I_DIM: w.n / 2,
    });
    return new GateUpSilu(pipeline, w, s.bias, gemvGrid(units, t), norm);
  }

  bind(device: GPUDevice, label: string, b: { w: GpuWeight; x: GPUBuffer; norm?: GPUBuffer; out: GPUBuffer; step: GPUBuffer; bias?: GPUBuffer }): GPUBindGroup {
    if (this.norm !== !!b.norm) throw new Error(`${label}: norm weight ${b.norm ? 'given to a pre-normalized' : 'missing for a norm-fused'} gate_up_silu`);
    const entries = gemvEntries(label, { w: this.w, bias: this.bias }, { ...b, y: b.out });
    return device.createBindGroup({ label, layout: this.pipeline.getBindGroupLayout(0), entries });
  }

  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(this.grid[0], this.grid[1]);
  }
}
