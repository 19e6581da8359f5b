import code from './sample.wgsl';
import type { PipelineCache } from '../gpu/pipelines';
import { STEP_WGSL } from '../gpu/step';
import { createStorage, createUniform } from '../gpu/buffers';
import type { SamplingParams } from '../model/sampling';

export type { SamplingParams } from '../model/sampling';

const PARAMS_BYTES = 32;

/** The sampler's bind group and its own buffers, made once per runner. */
export interface SamplerBinding {
  bindGroup: GPUBindGroup;
  /** SampleParams uniform (temperature, top_k, top_p, penalty, seed). */
  params: GPUBuffer;
  /** [vocab] f32 scratch: the processed logits of the row being sampled. */
  work: GPUBuffer;
  /** set by setParams: plain greedy, which takes the two-dispatch argmax path */
  greedy: boolean;
  fast: { partial: GPUBindGroup; final: GPUBindGroup };
}

const PART = 4096; // logits per workgroup of argmax_partial (PART in sample.wgsl)

/**
 * Seeded next-token sampling from the last logits row, entirely on the GPU, so a decode step reads
 * back only the 4-byte token from history[kv_len]. Plain greedy decoding takes a two-dispatch
 * argmax spread over the vocabulary; everything else one workgroup that runs the whole HF chain.
 */
export class Sampler {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly partial: GPUComputePipeline,
    private readonly final: GPUComputePipeline,
    private readonly vocab: number,
  ) {}

  static async create(cache: PipelineCache, s: { vocab: number; maxCtx: number }): Promise<Sampler> {
    const constants = { VOCAB: s.vocab, MAX_CTX: s.maxCtx };
    const [pipeline, partial, final] = await Promise.all(
      ['main', 'argmax_partial', 'argmax_final'].map((entry) => cache.get('sample', STEP_WGSL + code, constants, entry)),
    );
    return new Sampler(pipeline!, partial!, final!, s.vocab);
  }

  /** ids and history must be different buffers (both are written). */
  bind(device: GPUDevice, label: string, b: { logits: GPUBuffer; history: GPUBuffer; ids: GPUBuffer; step: GPUBuffer }): SamplerBinding {
    const params = createUniform(device, `${label}.params`, PARAMS_BYTES);
    const work = createStorage(device, `${label}.work`, this.vocab * 4);
    const all = [b.logits, b.history, b.ids, b.step, params, work];
    // Each entry point's `auto` layout holds only the bindings its code uses.
    const group = (p: GPUComputePipeline, used: number[], suffix: string) =>
      device.createBindGroup({
        label: label + suffix,
        layout: p.getBindGroupLayout(0),
        entries: used.map((binding) => ({ binding, resource: { buffer: all[binding]! } })),
      });
    return {
      bindGroup: group(this.pipeline, [0, 1, 2, 3, 4, 5], ''),
      params,
      work,
      greedy: false,
      fast: { partial: group(this.partial, [0, 3, 5], ' argmax_partial'), final: group(this.final, [1, 2, 3, 5], ' argmax_final') },
    };
  }

  setParams(device: GPUDevice, bound: SamplerBinding, p: SamplingParams): void {
    if (!(p.temperature >= 0)) throw new Error(`sampling: temperature ${p.temperature} must be >= 0`);
    if (!(p.topP > 0 && p.topP <= 1)) throw new Error(`sampling: topP ${p.topP} must be in (0, 1]`);
    if (!(p.repetitionPenalty > 0)) throw new Error(`sampling: repetitionPenalty ${p.repetitionPenalty} must be > 0`);
    if (!(Number.isInteger(p.topK) && p.topK >= 0)) throw new Error(`sampling: topK ${p.topK} must be a non-negative integer`);
    const buf = new ArrayBuffer(PARAMS_BYTES);
    const f = new Float32Array(buf);
    const u = new Uint32Array(buf);
    f[0] = p.temperature;
    u[1] = Math.min(p.topK, 0xffffffff);
    f[2] = p.topP;
    f[3] = p.repetitionPenalty;
    u[4] = p.seed >>> 0;
    device.queue.writeBuffer(bound.params, 0, buf);
    bound.greedy = !(p.temperature > 0) && p.repetitionPenalty === 1;
  }

  encode(pass: GPUComputePassEncoder, bound: SamplerBinding): void {
    if (bound.greedy) {
      pass.setPipeline(this.partial);
      pass.setBindGroup(0, bound.fast.partial);
      pass.dispatchWorkgroups(Math.ceil(this.vocab / PART));
      pass.setPipeline(this.final);
      pass.setBindGroup(0, bound.fast.final);
      pass.dispatchWorkgroups(1);
      return;
    }
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bound.bindGroup);
    pass.dispatchWorkgroups(1);
  }
}
