// The forward pass of a decoder, top to bottom: embed, every layer's block, the head, the sampler.
// Everything it touches (kernels, activations, KV cache, bind groups) is created in `build`, at
// load; `encode` only records dispatches into the caller's command encoder. The f32, f16, int8 and
// q4 engines run this same code (they differ only in the weight format the matmul and embedding
// kernels read), and each architecture (src/model/arch) supplies its block as a list of dispatches:
// one schedule for a pass over many rows (prefill) and one for a decode row, which may fuse kernels.
import type { ModelConfig } from './config';
import type { ModelWeights } from './weights';
import type { PipelineCache } from '../gpu/pipelines';
import type { PassProfiler } from '../gpu/profiler';
import { createStorage } from '../gpu/buffers';
import { StepBuffer } from '../gpu/step';
import { Sampler, type SamplerBinding } from '../kernels/sample';
import { kvCacheBytes } from '../kernels/kv_cache';
import { w8a8ScratchOf } from '../kernels/matmul_w8a8';
import { ARCHITECTURES } from './arch';
import { BLOCKS } from './arch/blocks';
import type { BlockProgram, Op } from './arch/program';

export type { ForwardShape } from './shape';
import type { ForwardShape } from './shape';

export interface ForwardOptions {
  /** see EngineOptions.decodeNorm; default 'separate' on software adapters, else 'fused' */
  decodeNorm?: 'fused' | 'separate';
}

export class Forward {
  /** Benchmarks only (src/bench): when set, `encode` gets its passes from it to time each kernel. */
  profiler: PassProfiler | null = null;

  private constructor(
    readonly config: ModelConfig,
    readonly shape: ForwardShape,
    readonly step: StepBuffer,
    /** u32 [maxRows]: input token ids of a pass; the sampler writes the next id to ids[0] */
    readonly ids: GPUBuffer,
    /** u32 [maxCtx]: every token so far (prompt and generated), read by the repetition penalty */
    readonly history: GPUBuffer,
    /** f32 [maxLogitRows, V] */
    readonly logits: GPUBuffer,
    /** all activation and KV-cache buffers, for memory accounting and disposal */
    readonly buffers: GPUBuffer[],
    private readonly program: BlockProgram,
    private readonly sampler: { kernel: Sampler; binding: SamplerBinding },
    private readonly x: GPUBuffer,
    private readonly lastX: GPUBuffer,
    /** batched passes (shape.maxBatch > 1): one sampler binding per sequence slot */
    private readonly batchSampler: { kernel: Sampler; bindings: SamplerBinding[] } | null,
  ) {}

  /** Whether decode steps run the architecture's fused kernels (Llama: false only for shapes no real model has). */
  get fusedDecode(): boolean {
    return this.program.fusedDecode;
  }

  /** Whether decode steps run the norm as its own dispatch (EngineOptions.decodeNorm 'separate'). */
  get separateDecodeNorm(): boolean {
    return this.program.separateDecodeNorm;
  }

  /** bytes of the KV cache (every sequence slot's) */
  get kvBytes(): number {
    const c = this.config;
    return 2 * c.numLayers * kvCacheBytes(this.shape.kvCache, this.shape.maxBatch * this.shape.maxCtx, c.numKvHeads * c.headDim);
  }

  get activationBytes(): number {
    return this.buffers.reduce((a, b) => a + b.size, 0) - this.kvBytes;
  }

  static async build(device: GPUDevice, cache: PipelineCache, c: ModelConfig, w: ModelWeights, shape: ForwardShape, opts: ForwardOptions = {}): Promise<Forward> {
    const D = c.hiddenSize;
    const KV = c.numKvHeads * c.headDim;
    const T = shape.maxRows; // rows of the longest pass
    const C = shape.maxCtx;
    const buffers: GPUBuffer[] = [];
    const buf = (label: string, bytes: number) => {
      const b = createStorage(device, label, bytes);
      buffers.push(b);
      return b;
    };
    const step = new StepBuffer(device);
    try {
      // Activations, f32, sized for the longest pass: the architecture's (x, h, q, k, v, ...).
      const a: Record<string, GPUBuffer> = {};
      for (const [name, perRow] of Object.entries(ARCHITECTURES[c.arch].activations(c))) a[name] = buf(name, T * perRow * 4);
      a.lastX = buf('lastX', shape.maxLogitRows * D * 4); // [R, D] rows that get logits
      a.lastH = buf('lastH', shape.maxLogitRows * D * 4); // [R, D]
      a.logits = buf('logits', shape.maxLogitRows * c.vocabSize * 4); // [R, V]
      a.ids = buf('ids', T * 4); // u32 [T]
      // Sequence slots: slot s holds its tokens and its keys and values from row s * maxCtx (slot 0
      // is the one sequence of generate()).
      const B = shape.maxBatch;
      const history = buf('history', B * C * 4); // u32 [B, C]
      // KV cache: [B * maxCtx, KV*hd] per layer in the shape's format (kv_cache.ts), allocated whole at load.
      const kvBytes = kvCacheBytes(shape.kvCache, B * C, KV);
      const kCache = Array.from({ length: c.numLayers }, (_, l) => buf(`kCache.${l}`, kvBytes));
      const vCache = Array.from({ length: c.numLayers }, (_, l) => buf(`vCache.${l}`, kvBytes));
      const separateNorm = (opts.decodeNorm ?? (cache.software ? 'separate' : 'fused')) === 'separate';
      const keep = (b: GPUBuffer) => void buffers.push(b);
      const [program, sampler, batchKernel] = await Promise.all([
        BLOCKS[c.arch]({ device, cache, c, w, maxCtx: C, step: step.buffer, a, kCache, vCache, kv: shape.kvCache, separateNorm, keep, batched: B > 1, maxBatch: B }),
        Sampler.create(cache, { vocab: c.vocabSize, maxCtx: C }),
        B > 1 ? Sampler.create(cache, { vocab: c.vocabSize, maxCtx: C, batched: true }) : null,
      ]);
      // W8A8's 8-bit copies of the activations, made while binding (one per activation buffer and K).
      for (const b of [...buffers]) buffers.push(...w8a8ScratchOf(b));
      const binding = sampler.bind(device, 'sampler', { logits: a.logits, history, ids: a.ids, step: step.buffer });
      buffers.push(binding.params, binding.work, binding.scratch);
      let batchSampler: { kernel: Sampler; bindings: SamplerBinding[] } | null = null;
      if (batchKernel) {
        const bindings = Array.from({ length: B }, (_, s) => batchKernel.bind(device, `sampler slot ${s}`, { logits: a.logits, history, ids: a.ids, step: step.buffer }));
        for (const b of bindings) buffers.push(b.params, b.work, b.scratch);
        batchSampler = { kernel: batchKernel, bindings };
      }
      return new Forward(c, shape, step, a.ids, history, a.logits, buffers, program, { kernel: sampler, binding }, a.x!, a.lastX, batchSampler);
    } catch (e) {
      // A kernel that fails to compile or bind must not leave the activations and KV cache behind.
      for (const b of buffers) for (const d of [b, ...w8a8ScratchOf(b)]) d.destroy();
      step.buffer.destroy();
      throw e;
    }
  }

  setSampling(device: GPUDevice, p: Parameters<Sampler['setParams']>[2]): void {
    this.sampler.kernel.setParams(device, this.sampler.binding, p);
  }

  /**
   * Records one pass over `rows` tokens at positions pos..pos+rows-1 (the caller has written the
   * step buffer with the same values and, for a prefill, the ids): logits for the last
   * `logitRows` rows, then, if `sample`, the next token into ids[0] and history[pos+rows].
   */
  encode(enc: GPUCommandEncoder, p: { rows: number; pos: number; logitRows: number; sample: boolean }): void {
    if (p.rows === 1) this.encodeDecode(enc, p.pos, p.sample);
    else this.encodeRows(enc, p.rows, p.pos, p.logitRows, p.sample);
  }

  /** A pass over many rows (prefill). */
  private encodeRows(enc: GPUCommandEncoder, rows: number, pos: number, logitRows: number, sample: boolean): void {
    const { program } = this;
    const pass = this.beginPass(enc, `forward rows=${rows}`);
    run(pass, program.embed, rows, pos);
    for (const layer of program.layers) run(pass, layer.rows, rows, pos);
    pass.end();
    // Only the last rows get logits: copy them out so the head runs on [logitRows, D].
    const rowBytes = this.config.hiddenSize * 4;
    enc.copyBufferToBuffer(this.x, (rows - logitRows) * rowBytes, this.lastX, 0, logitRows * rowBytes);
    const head = this.beginPass(enc, 'head');
    run(head, program.head, logitRows, pos);
    if (sample) this.sampler.kernel.encode(head, this.sampler.binding);
    head.end();
  }

  /** One decode row, in one pass. */
  private encodeDecode(enc: GPUCommandEncoder, pos: number, sample: boolean): void {
    const { program } = this;
    const pass = this.beginPass(enc, 'decode');
    run(pass, program.embed, 1, pos);
    for (const layer of program.layers) run(pass, layer.decode, 1, pos);
    run(pass, program.headDecode, 1, pos);
    if (sample) this.sampler.kernel.encode(pass, this.sampler.binding);
    pass.end();
  }

  /** The sampling parameters of sequence slot `slot` (batched passes). */
  setSlotSampling(device: GPUDevice, slot: number, p: Parameters<Sampler['setParams']>[2]): void {
    const b = this.batchSampler;
    if (!b || slot < 0 || slot >= b.bindings.length) throw new Error(`no sequence slot ${slot} (built for ${this.shape.maxBatch})`);
    b.kernel.setParams(device, b.bindings[slot]!, p);
  }

  /**
   * Records a batched pass over `rows` rows placed by the step's row table (the caller wrote it with
   * writeRows, and the ids): logits for the last `logitRows` rows, then for each of `sample` the
   * next token of that slot's sequence from logits row `row` (step-table row `tableRow`), into
   * ids[row] and the slot's history. `maxPos`: the largest position in the row table (attention
   * dispatches the key splits it can see).
   */
  encodeBatch(device: GPUDevice, enc: GPUCommandEncoder, rows: number, logitRows: number, sample: ReadonlyArray<{ slot: number; row: number; tableRow: number }>, maxPos: number): void {
    const { program } = this;
    const b = this.batchSampler;
    if (!b) throw new Error('this forward pass was built for one sequence (maxBatch 1)');
    const pass = this.beginPass(enc, `batch rows=${rows}`);
    run(pass, program.embedBatch ?? program.embed, rows, 0);
    for (const layer of program.layers) run(pass, layer.batch!, rows, maxPos);
    pass.end();
    const rowBytes = this.config.hiddenSize * 4;
    enc.copyBufferToBuffer(this.x, (rows - logitRows) * rowBytes, this.lastX, 0, logitRows * rowBytes);
    const head = this.beginPass(enc, 'head batched');
    run(head, program.head, logitRows, 0);
    for (const s of sample) {
      const bound = b.bindings[s.slot]!;
      b.kernel.setRow(device, bound, s.row, s.tableRow);
      b.kernel.encode(head, bound);
    }
    head.end();
  }

  private beginPass(enc: GPUCommandEncoder, label: string): GPUComputePassEncoder {
    return this.profiler ? this.profiler.beginPass(enc, label) : enc.beginComputePass({ label });
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.step.buffer.destroy();
  }
}

function run(pass: GPUComputePassEncoder, ops: Op[], rows: number, pos: number): void {
  for (const op of ops) op(pass, rows, pos);
}
