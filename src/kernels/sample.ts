import code from './sample.wgsl';
import type { PipelineCache } from '../gpu/pipelines';
import { STEP_ROWS_WGSL } from '../gpu/step';
import { createStorage, createUniform } from '../gpu/buffers';
import type { SamplingParams } from '../model/sampling';
import { MAX_SAMPLER_VOCAB, SAMPLER_SPART as SPART, samplerScratchWords } from '../model/sampling';

export type { SamplingParams } from '../model/sampling';

const PARAMS_BYTES = 32;

/** How a decode step samples: picked on the CPU from the parameters, so a step runs only the passes it needs. */
export type SamplerMode = 'greedy' | 'penalized-greedy' | 'temperature' | 'filtered';

/** The sampler's bind groups and its own buffers, made once per runner. */
export interface SamplerBinding {
  /** SampleParams uniform (temperature, top_k, top_p, penalty, seed). */
  params: GPUBuffer;
  /** [vocab] f32 scratch: the processed logits of the row being sampled. */
  work: GPUBuffer;
  /** u32 scratch of the spread passes: per-part figures and the candidate lists. */
  scratch: GPUBuffer;
  /** set by setParams */
  mode: SamplerMode;
  /** the sampling parameters as last written (setRow rewrites them with its row) */
  words: ArrayBuffer;
  groups: Record<Entry, GPUBindGroup>;
}

const PART = 4096; // logits per workgroup of argmax_partial (PART in sample.wgsl)
const TPART = 256; // logits per invocation of argmax_thread_partial (TPART)
const TPARTIAL_WG = 16; // its workgroup size

const ENTRIES = ['sample_prep', 'sample_stats', 'sample_select', 'sample_final', 'argmax_partial', 'argmax_final', 'argmax_thread_partial', 'argmax_thread_final'] as const;
type Entry = (typeof ENTRIES)[number];
// The bindings each entry point's code uses (its `auto` layout holds only those):
// 0 logits, 1 history, 2 ids, 3 step, 4 params, 5 work, 6 scratch.
const USES: Record<Entry, number[]> = {
  sample_prep: [0, 1, 3, 4, 5, 6],
  sample_stats: [5, 6],
  sample_select: [4, 5, 6],
  sample_final: [1, 2, 3, 4, 5, 6],
  argmax_partial: [0, 3, 4, 5],
  argmax_final: [1, 2, 3, 4, 5],
  argmax_thread_partial: [0, 3, 4, 5],
  argmax_thread_final: [1, 2, 3, 4, 5],
};
const PASSES: Record<SamplerMode, Entry[]> = {
  greedy: ['argmax_partial', 'argmax_final'],
  'penalized-greedy': ['sample_prep', 'sample_final'],
  temperature: ['sample_prep', 'sample_stats', 'sample_final'],
  filtered: ['sample_prep', 'sample_stats', 'sample_select', 'sample_final'],
};

/** Workgroups each entry dispatches for a vocabulary. */
const GROUPS: Record<Entry, (vocab: number) => number> = {
  sample_prep: (v) => Math.ceil(v / SPART),
  sample_stats: (v) => Math.ceil(v / SPART),
  sample_select: (v) => Math.ceil(v / SPART),
  sample_final: () => 1,
  argmax_partial: (v) => Math.ceil(v / PART),
  argmax_final: () => 1,
  argmax_thread_partial: (v) => Math.ceil(v / TPART / TPARTIAL_WG),
  argmax_thread_final: () => 1,
};

/** The largest vocabulary the spread passes take: one workgroup reduces a figure per part. */
export { MAX_SAMPLER_VOCAB };

/**
 * Seeded next-token sampling from the last logits row, entirely on the GPU, so a decode step reads
 * back only the 4-byte token from history[kv_len]. Plain greedy decoding takes a two-dispatch
 * argmax spread over the vocabulary; the rest runs the HF chain spread over parts of the
 * vocabulary, and top-k / top-p on a short candidate list (see sample.wgsl).
 */
export class Sampler {
  private constructor(
    private readonly pipelines: Record<Entry, GPUComputePipeline>,
    private readonly vocab: number,
    /** greedy decoding by the barrier-free passes (default on software adapters) */
    readonly threadGreedy: boolean,
    /** samples a row of a batched pass, chosen per binding with setRow */
    readonly batched: boolean,
  ) {}

  static async create(cache: PipelineCache, s: { vocab: number; maxCtx: number; threadGreedy?: boolean; batched?: boolean }): Promise<Sampler> {
    if (s.vocab > MAX_SAMPLER_VOCAB) throw new Error(`sampler: vocabulary ${s.vocab} is larger than the ${MAX_SAMPLER_VOCAB} it supports`);
    const batched = s.batched ?? false;
    const constants = { VOCAB: s.vocab, MAX_CTX: s.maxCtx, BATCHED: batched };
    const list = await Promise.all(ENTRIES.map((entry) => cache.get('sample', STEP_ROWS_WGSL + code, constants, entry)));
    const threadGreedy = s.threadGreedy ?? cache.software;
    return new Sampler(Object.fromEntries(ENTRIES.map((e, i) => [e, list[i]!])) as Record<Entry, GPUComputePipeline>, s.vocab, threadGreedy, batched);
  }

  /** ids and history must be different buffers (both are written). */
  bind(device: GPUDevice, label: string, b: { logits: GPUBuffer; history: GPUBuffer; ids: GPUBuffer; step: GPUBuffer }): SamplerBinding {
    const params = createUniform(device, `${label}.params`, PARAMS_BYTES);
    const work = createStorage(device, `${label}.work`, this.vocab * 4);
    const scratch = createStorage(device, `${label}.scratch`, samplerScratchWords(this.vocab) * 4);
    const all = [b.logits, b.history, b.ids, b.step, params, work, scratch];
    const groups = Object.fromEntries(
      ENTRIES.map((e) => [
        e,
        device.createBindGroup({
          label: `${label} ${e}`,
          layout: this.pipelines[e].getBindGroupLayout(0),
          entries: USES[e].map((binding) => ({ binding, resource: { buffer: all[binding]! } })),
        }),
      ]),
    ) as Record<Entry, GPUBindGroup>;
    return { params, work, scratch, mode: 'greedy', groups, words: new ArrayBuffer(PARAMS_BYTES) };
  }

  /** The greedy passes: barrier-free on software adapters (sample.wgsl's argmax_thread_*). */
  private get greedyPasses(): Entry[] {
    return this.threadGreedy ? ['argmax_thread_partial', 'argmax_thread_final'] : ['argmax_partial', 'argmax_final'];
  }

  setParams(device: GPUDevice, bound: SamplerBinding, p: SamplingParams): void {
    if (!(p.temperature >= 0)) throw new Error(`sampling: temperature ${p.temperature} must be >= 0`);
    if (!(p.topP > 0 && p.topP <= 1)) throw new Error(`sampling: topP ${p.topP} must be in (0, 1]`);
    if (!(p.repetitionPenalty > 0)) throw new Error(`sampling: repetitionPenalty ${p.repetitionPenalty} must be > 0`);
    if (!(Number.isInteger(p.topK) && p.topK >= 0)) throw new Error(`sampling: topK ${p.topK} must be a non-negative integer`);
    const buf = bound.words;
    const f = new Float32Array(buf);
    const u = new Uint32Array(buf);
    f[0] = p.temperature;
    u[1] = Math.min(p.topK, 0xffffffff);
    f[2] = p.topP;
    f[3] = p.repetitionPenalty;
    u[4] = p.seed >>> 0;
    device.queue.writeBuffer(bound.params, 0, buf);
    bound.mode = samplerMode(p, this.vocab);
  }

  /** A batched binding: sample logits row `row` into ids[row], for the sequence of step-table row `tableRow`. */
  setRow(device: GPUDevice, bound: SamplerBinding, row: number, tableRow: number): void {
    if (!this.batched) throw new Error('sampler: setRow needs a batched sampler');
    const u = new Uint32Array(bound.words);
    if (u[5] === row && u[6] === tableRow) return;
    u[5] = row;
    u[6] = tableRow;
    device.queue.writeBuffer(bound.params, 0, bound.words);
  }

  encode(pass: GPUComputePassEncoder, bound: SamplerBinding): void {
    for (const e of bound.mode === 'greedy' ? this.greedyPasses : PASSES[bound.mode]) {
      pass.setPipeline(this.pipelines[e]);
      pass.setBindGroup(0, bound.groups[e]);
      pass.dispatchWorkgroups(GROUPS[e](this.vocab));
    }
  }
}

/** Which passes sampling with `p` needs (the WGSL decides the same way from the same values). */
export function samplerMode(p: SamplingParams, vocab: number): SamplerMode {
  if (!(p.temperature > 0)) return p.repetitionPenalty === 1 ? 'greedy' : 'penalized-greedy';
  const topK = p.topK > 0 && p.topK < vocab;
  return topK || p.topP < 1 ? 'filtered' : 'temperature';
}
