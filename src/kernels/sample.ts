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
}

/**
 * Seeded next-token sampling from the last logits row, entirely on the GPU (one workgroup, one
 * dispatch), so a decode step reads back only the 4-byte token from history[kv_len].
 */
export class Sampler {
  private constructor(
    private readonly pipeline: GPUComputePipeline,
    private readonly vocab: number,
  ) {}

  static async create(cache: PipelineCache, s: { vocab: number; maxCtx: number }): Promise<Sampler> {
    const pipeline = await cache.get('sample', STEP_WGSL + code, { VOCAB: s.vocab, MAX_CTX: s.maxCtx });
    return new Sampler(pipeline, s.vocab);
  }

  /** ids and history must be different buffers (both are written). */
  bind(device: GPUDevice, label: string, b: { logits: GPUBuffer; history: GPUBuffer; ids: GPUBuffer; step: GPUBuffer }): SamplerBinding {
    const params = createUniform(device, `${label}.params`, PARAMS_BYTES);
    const work = createStorage(device, `${label}.work`, this.vocab * 4);
    const bindGroup = device.createBindGroup({
      label,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: b.logits } },
        { binding: 1, resource: { buffer: b.history } },
        { binding: 2, resource: { buffer: b.ids } },
        { binding: 3, resource: { buffer: b.step } },
        { binding: 4, resource: { buffer: params } },
        { binding: 5, resource: { buffer: work } },
      ],
    });
    return { bindGroup, params, work };
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
  }

  encode(pass: GPUComputePassEncoder, bound: SamplerBinding): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bound.bindGroup);
    pass.dispatchWorkgroups(1);
  }
}
