// An engine: one model loaded in one weight format, with its forward pass built at load.
// Generation: the prompt is prefilled in one pass (chunks only beyond `maxRows` tokens), then one
// command buffer per token; the sampled id never leaves the GPU except for a 4-byte readback.
// Steps are queued PIPELINE_DEPTH deep (step n+1 reads token n from the GPU's own ids buffer), so
// the GPU never waits for the CPU to read a token, yield it and encode the next step.
import { subgroupMatrixI8, type GpuContext } from '../gpu/device';
import { sgmatRejected } from '../kernels/matmul_w8a8';
import { PipelineCache, type W8a8Setting } from '../gpu/pipelines';
import { DeviceLostError, namedGpuError, withGpuErrors } from '../gpu/errors';
import { parseConfig, ConfigError, type ModelConfig } from './config';
import { readPackedTensors, uploadTensors, type LoadProgress, type ModelWeights, type PackedTensor } from './weights';
import { Forward } from './forward';
import { forwardShape, type ForwardShape, type ShapeOptions } from './shape';
import type { KvFormat } from '../kernels/kv_cache';
import { planMemory, checkFits } from './memory';
import { TextTokenizer, TokenizerError } from './tokenizer';
import type { ModelSource } from './source';
import type { WeightFormat } from '../kernels/formats';
import type { SamplingParams } from './sampling';
import { MAX_TABLE_ROWS } from '../gpu/step';

export class ContextOverflowError extends Error {
  override name = 'ContextOverflowError';
}

export class EngineBusyError extends Error {
  override name = 'EngineBusyError';
}

export { DEFAULT_CONTEXT, DEFAULT_MAX_ROWS } from './shape';
/** decode steps in flight: the GPU runs ahead of the token the CPU is reading by this many - 1 */
export const PIPELINE_DEPTH = 3;

export interface EngineOptions {
  format: WeightFormat;
  /** refuse a model without tokenizer.json before any weight is read (the app needs text; the CLI can take ids) */
  requireTokenizer?: boolean;
  /** KV-cache length; default 2048, capped by max_position_embeddings */
  contextLength?: number;
  /** most tokens per pass (longer prompts are prefilled in chunks) */
  maxRows?: number;
  /** most rows whose logits one pass can return (the logits tool needs the whole prompt), or a rule from the config */
  maxLogitRows?: ShapeOptions['maxLogitRows'];
  /**
   * Sequences `generateBatch` decodes together, each with its own KV cache region (the KV cache is
   * this many times larger); default 1 (generate() alone).
   */
  maxBatch?: number;
  /**
   * The KV cache's storage: 'f16' (half the memory and half the bytes decode attention reads) or
   * 'f32'. Default: f16, except for f32 weights (the exactness reference) and heads not in whole
   * vec4s (kv_cache.ts, defaultKvFormat).
   */
  kvCache?: KvFormat;
  onProgress?: (p: LoadProgress) => void;
  /**
   * Decode steps with RMSNorm fused into the q/k/v, gate/up and lm_head GEMVs ('fused', the
   * default on GPUs), or as its own dispatch before them ('separate', the default on software
   * adapters, where every GEMV thread would otherwise read x and the norm weight again).
   */
  decodeNorm?: 'fused' | 'separate';
  /**
   * The kernels: 'software' (barrier-free variants made for CPU SIMD lanes), 'gpu', or 'auto'
   * (default: 'software' on a software adapter such as SwiftShader). Tests force 'gpu' on
   * SwiftShader so the GPU kernels run whole models in CI. Ignored with a shared `pipelines`.
   */
  kernels?: 'auto' | 'gpu' | 'software';
  /**
   * int8 passes of several rows (prefill, batched decode) with the activations quantized to 8 bits
   * and multiplied in integers (kernels/matmul_w8a8.ts): 'auto' where the device has i8 subgroup
   * matrices (tensor cores for passes of more than 16 rows, dot4I8Packed below; the default:
   * elsewhere it changes nothing), 'sgmat' (tensor cores for every pass), 'dp4a' with dot4I8Packed
   * on any device (tests), 'off' (f32 activations everywhere: a batch's int8 ids equal each sequence's alone).
   * Ignored with a shared `pipelines` (it carries its own).
   */
  w8a8?: W8a8Setting;
  /** a quantized format's scale group along K (default: the format's); 0 = per-channel. For measurements: the app caches the default. */
  groupSize?: number;
  /**
   * A pipeline cache to share with other engines on the same device: shapes already compiled are
   * not compiled again (on a CPU driver, compiling is most of a small model's load time).
   */
  pipelines?: PipelineCache;
  /**
   * Where the engine-ready weights come from. Default: read and quantize the source's safetensors.
   * The app passes tensors from its IndexedDB cache, or wraps the default to fill that cache.
   */
  tensors?: (config: ModelConfig) => AsyncIterable<PackedTensor>;
}

/** The pipeline cache Engine.load makes for `kernels` and `w8a8` when it is given none (tests share one per setting). */
export function enginePipelines(device: GPUDevice, o: Pick<EngineOptions, 'kernels' | 'w8a8'>): PipelineCache {
  return new PipelineCache(device, { software: o.kernels === undefined || o.kernels === 'auto' ? undefined : o.kernels === 'software', w8a8: o.w8a8 });
}

export interface GenerateOptions {
  maxNewTokens: number;
  sampling?: Partial<SamplingParams>;
  /** ids that end generation; default: the model's EOS ids. Pass [] to never stop early. */
  stopIds?: number[];
  signal?: AbortSignal;
  /**
   * Keep the KV cache of the longest prefix this prompt shares with what the cache holds (the
   * previous prompt and its reply): only the rest is prefilled. What a conversation's next turn
   * needs; benchmarks leave it off, so every run prefills its whole prompt.
   */
  reuseCache?: boolean;
  /** called once the prefill is planned: how many prompt tokens are reused and how many prefilled */
  onPrefill?: (p: { reusedTokens: number; prefillTokens: number }) => void;
}

/** One sequence of a batched generation. */
export interface BatchSequence {
  promptIds: number[];
  maxNewTokens: number;
  /** its own sampling (a seeded sequence samples as it would alone) */
  sampling?: Partial<SamplingParams>;
  /** default: the model's EOS ids */
  stopIds?: number[];
}

/** A token of a batched generation: `seq` is the sequence's index in the list given. */
export interface BatchToken extends GeneratedToken {
  seq: number;
  /** when its sequence joined (ms since generateBatch was called): timeMs - startMs is its own latency */
  startMs: number;
  /** the sequence ends with this token (a stop id, its budget, or the context) */
  last: boolean;
}

export interface BatchOptions {
  signal?: AbortSignal;
  /** sequences in flight at once (default and most: the engine's maxBatch) */
  batch?: number;
  /** called after each batched decode step: how many sequences it advanced (for the throughput study) */
  onStep?: (s: { rows: number; ms: number }) => void;
}

export interface GeneratedToken {
  id: number;
  /** 0 for the first generated token */
  index: number;
  /** milliseconds since generate() was called, when this token reached the CPU */
  timeMs: number;
}

/** The length of the longest common prefix of two id lists. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Why a generation ended, as the app and the CLI report it. */
export type FinishReason = 'eos' | 'length' | 'context' | 'stopped';

/**
 * Why `generate()` ended, from what it produced: a stop id last (end of text), the context filled
 * (nothing more fits, whatever `maxNewTokens` asked for), the token budget, or a cancel.
 */
export function finishReason(
  out: readonly number[],
  o: { promptTokens: number; contextLength: number; stopIds: readonly number[]; aborted: boolean },
): FinishReason {
  if (o.aborted) return 'stopped';
  if (out.length > 0 && o.stopIds.includes(out[out.length - 1]!)) return 'eos';
  if (o.promptTokens + out.length >= o.contextLength) return 'context';
  return 'length';
}

export const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

export class Engine {
  private busy = false;
  /**
   * The ids whose keys and values the KV cache holds at positions 0..length-1 (a prompt and the
   * reply tokens fed back so far). A generation with `reuseCache` starts after their common prefix.
   */
  private cachedIds: number[] = [];
  private readonly staging: GPUBuffer[];
  /** set once the device is lost: every later call fails fast with DeviceLostError */
  private lostInfo: GPUDeviceLostInfo | null = null;

  private constructor(
    readonly gpu: GpuContext,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer | null,
    readonly weights: ModelWeights,
    private pass: Forward,
    readonly pipelines: PipelineCache,
    readonly modelName: string,
  ) {
    const device = gpu.device;
    // One 4-byte readback buffer per step in flight: token n is read while steps n+1.. run.
    this.staging = Array.from({ length: PIPELINE_DEPTH }, (_, i) =>
      device.createBuffer({ label: `token readback ${i}`, size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    );
    void device.lost.then((info) => {
      this.lostInfo = info;
    });
  }

  /** the forward pass (kernels, activations, KV cache) over the weights */
  get forward(): Forward {
    return this.pass;
  }

  /**
   * Rebuilds the forward pass for `maxBatch` sequences (generateBatch) over the same weights: the
   * KV cache becomes that many regions (of `contextLength` tokens: a batch sweep of short sequences
   * needs little); compiled kernels of the same shapes are reused from the pipeline cache. Refused
   * (ModelTooLargeError) when a layer's cache would exceed the device's buffer limit; the old pass
   * stays then. What the KV cache held is gone either way.
   */
  async setMaxBatch(maxBatch: number, contextLength = this.pass.shape.maxCtx): Promise<void> {
    if (this.busy) throw new EngineBusyError('this engine is generating; stop it first');
    const old = this.pass;
    if (old.shape.maxBatch === maxBatch && old.shape.maxCtx === contextLength) return;
    const shape = forwardShape(this.config, { contextLength, maxRows: old.shape.maxRows, maxLogitRows: old.shape.maxLogitRows, maxBatch, kvCache: old.shape.kvCache });
    checkFits(planMemory(this.config, this.format, shape.maxCtx, shape.maxRows, shape.maxLogitRows, shape.maxBatch, shape.kvCache), this.gpu.limits, `${this.modelName} (${this.format}, ${maxBatch} sequences)`);
    this.pass = await Forward.build(this.gpu.device, this.pipelines, this.config, this.weights, shape, { decodeNorm: old.separateDecodeNorm ? 'separate' : 'fused' });
    this.cachedIds = [];
    old.destroy();
  }

  /** true once the GPU device is lost (the engine cannot run again; build a new one) */
  get lost(): boolean {
    return this.lostInfo !== null;
  }

  private lostError(): DeviceLostError {
    const i = this.lostInfo;
    const why = i ? `${i.reason}${i.message ? `: ${i.message}` : ''}` : 'unknown reason';
    return new DeviceLostError(`the GPU device was lost (${why}); the ${this.format} engine for ${this.modelName} must be rebuilt`);
  }

  get format(): WeightFormat {
    return this.weights.format;
  }
  get contextLength(): number {
    return this.forward.shape.maxCtx;
  }
  get weightBytes(): number {
    return this.weights.bytes;
  }
  get kvBytes(): number {
    return this.forward.kvBytes;
  }
  /** the KV cache's storage */
  get kvCache(): KvFormat {
    return this.forward.shape.kvCache;
  }
  /**
   * How int8 passes of several rows multiply: 'sgmat' (8-bit activations on subgroup matrices past
   * 16 rows, the few-rows dot4I8Packed GEMM below), 'dp4a' (dot4I8Packed throughout), 'rows' (the
   * few-rows GEMM alone, f32 activations past 16 rows), or null (f32 activations).
   */
  get w8a8(): 'sgmat' | 'dp4a' | 'rows' | null {
    const setting = this.pipelines.w8a8;
    if (this.weights.format !== 'int8' || setting === 'off') return null;
    if (setting === 'dp4a') return 'dp4a';
    // 'sgmat' where the device has i8 subgroup matrices and the load-time probe kept them.
    if (subgroupMatrixI8(this.gpu.device) && !sgmatRejected(this.gpu.device)) return 'sgmat';
    return setting === 'auto' && !this.pipelines.software ? 'rows' : null;
  }
  /** the model's EOS ids (config and tokenizer) */
  get eosIds(): number[] {
    return [...new Set([...this.config.eosTokenIds, ...(this.tokenizer?.eosIds ?? [])])];
  }

  /**
   * Everything a load checks before touching the GPU: config.json, the tokenizer files, that the
   * tokenizer fits the vocabulary, and that every buffer fits the device's per-buffer limit (a
   * weight past it is split over buffers, within the storage buffers a kernel may bind).
   */
  static async prepare(
    source: ModelSource,
    opts: Pick<EngineOptions, 'format' | 'contextLength' | 'maxRows' | 'maxLogitRows' | 'maxBatch' | 'kvCache' | 'requireTokenizer'>,
    limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'> & Partial<Pick<GPUSupportedLimits, 'maxStorageBuffersPerShaderStage'>>,
  ): Promise<{ config: ModelConfig; tokenizer: TextTokenizer | null; shape: ForwardShape }> {
    const configText = await source.text('config.json');
    if (configText === null) throw new ConfigError(`${source.name}: config.json is missing`);
    const config = parseConfig(configText);
    const tokText = await source.text('tokenizer.json');
    if (tokText === null && opts.requireTokenizer) {
      throw new TokenizerError(`${source.name} has no tokenizer.json, which is needed to turn a prompt into tokens (only tokenizer.json is supported, not tokenizer.model)`);
    }
    const tokenizer = tokText === null ? null : new TextTokenizer(tokText, (await source.text('tokenizer_config.json')) ?? undefined, config.vocabSize);
    const shape = Engine.shapeFor(config, opts, limits);
    checkFits(planMemory(config, opts.format, shape.maxCtx, shape.maxRows, shape.maxLogitRows, shape.maxBatch, shape.kvCache), limits, `${source.name} (${opts.format})`);
    return { config, tokenizer, shape };
  }

  static async load(gpu: GpuContext, source: ModelSource, opts: EngineOptions): Promise<Engine> {
    const { config, tokenizer } = await Engine.prepare(source, opts, gpu.limits);
    const tensors = opts.tensors ? opts.tensors(config) : readPackedTensors(source, config, opts.format, opts.onProgress, opts.groupSize);
    // Validation and out-of-memory errors of the whole load surface here as named errors that name
    // the buffer or kernel; whatever was built is destroyed, so a failed load leaks no GPU memory.
    let engine: Engine | null = null;
    try {
      return await withGpuErrors(gpu.device, `loading ${source.name} (${opts.format})`, async () => {
        // The limits the engine plans for (GpuContext.limits may be lowered on purpose: tests).
        const weights = await uploadTensors(gpu.device, config, opts.format, tensors, Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize));
        engine = await Engine.fromWeights(gpu, config, tokenizer, weights, opts, source.name);
        return engine;
      });
    } catch (e) {
      (engine as Engine | null)?.destroy();
      throw e;
    }
  }

  /**
   * Context length, rows per pass, logit rows and the KV cache's format (default: defaultKvFormat of
   * the weight format) for a model and the load options. The context
   * defaults to 2048, is capped by max_position_embeddings, and shrinks (never below 256) so that
   * one layer's KV cache and the pass activations fit the device's per-buffer limit.
   */
  static shapeFor(
    config: ModelConfig,
    opts: Pick<EngineOptions, 'contextLength' | 'maxRows' | 'maxLogitRows' | 'maxBatch' | 'kvCache'> & { format?: string },
    limits?: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>,
  ): ForwardShape {
    return forwardShape(config, opts, limits);
  }

  /** Builds the forward pass over weights already on the GPU (loaded, or synthetic for benchmarks). */
  static async fromWeights(
    gpu: GpuContext,
    config: ModelConfig,
    tokenizer: TextTokenizer | null,
    weights: ModelWeights,
    opts: Pick<EngineOptions, 'contextLength' | 'maxRows' | 'maxLogitRows' | 'maxBatch' | 'kvCache' | 'pipelines' | 'decodeNorm' | 'kernels' | 'w8a8'>,
    name: string,
  ): Promise<Engine> {
    if (opts.pipelines && opts.pipelines.device !== gpu.device) {
      for (const b of weights.buffers) b.destroy();
      throw new Error('the shared pipeline cache belongs to another device');
    }
    const pipelines = opts.pipelines ?? enginePipelines(gpu.device, opts);
    try {
      const forward = await Forward.build(gpu.device, pipelines, config, weights, Engine.shapeFor(config, { ...opts, format: weights.format }, gpu.limits), { decodeNorm: opts.decodeNorm });
      return new Engine(gpu, config, tokenizer, weights, forward, pipelines, name);
    } catch (e) {
      for (const b of weights.buffers) b.destroy();
      throw e;
    }
  }

  /**
   * The context policy: a prompt is refused (never silently truncated) unless it leaves room for
   * at least one new token; generation then stops at the end of the context. Scoring a sequence
   * (`logitChunks`, no reply) may fill the context exactly.
   */
  checkPrompt(ids: number[], reply = true): void {
    if (ids.length === 0) throw new ContextOverflowError('the prompt is empty: type some text first');
    if (!reply && ids.length > this.contextLength) {
      throw new ContextOverflowError(`the sequence has ${ids.length} tokens but the context holds ${this.contextLength}`);
    }
    if (reply && ids.length >= this.contextLength) {
      // A longer context is advice only where the model takes one.
      const longer = this.contextLength < this.config.maxPositionEmbeddings ? ' or load with a longer context' : ` (${this.contextLength} is the longest this model takes)`;
      throw new ContextOverflowError(
        `the prompt has ${ids.length} tokens but the context holds ${this.contextLength} (prompt and reply together); shorten the prompt by at least ${ids.length - this.contextLength + 1} tokens${longer}`,
      );
    }
    const V = this.config.vocabSize;
    const bad = ids.find((t) => !Number.isInteger(t) || t < 0 || t >= V);
    if (bad !== undefined) throw new ContextOverflowError(`token id ${bad} is outside the vocabulary (0..${V - 1})`);
  }

  /** Logits for every position of `ids`: Float32Array [ids.length, vocab]. */
  async logits(ids: number[]): Promise<Float32Array> {
    const V = this.config.vocabSize;
    const out = new Float32Array(ids.length * V);
    for await (const c of this.logitChunks(ids)) out.set(c.logits, c.pos * V);
    return out;
  }

  /**
   * The logits of every row of `ids` (a sequence from position 0), chunk by chunk: each chunk is
   * `rows` rows from `pos`, `logits` [rows, vocab], a view valid until the next chunk is asked for.
   * What a teacher-forced evaluation streams through without holding [ids.length, vocab] at once.
   * Chunks are at most maxLogitRows rows (and maxRows): load with maxLogitRows > 1 for speed.
   */
  async *logitChunks(ids: number[]): AsyncGenerator<{ pos: number; rows: number; logits: Float32Array }> {
    this.checkPrompt(ids, false);
    this.cachedIds = [];
    const { device } = this.gpu;
    const f = this.forward;
    const V = this.config.vocabSize;
    const chunk = Math.min(f.shape.maxRows, f.shape.maxLogitRows);
    const host = new Float32Array(chunk * V);
    const readback = device.createBuffer({ label: 'logits readback', size: chunk * V * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      for (let pos = 0; pos < ids.length; pos += chunk) {
        const rows = Math.min(chunk, ids.length - pos);
        device.queue.writeBuffer(f.ids, 0, new Uint32Array(ids.slice(pos, pos + rows)));
        f.step.write({ rows, pos, logitRows: rows });
        const enc = device.createCommandEncoder({ label: `logits ${pos}+${rows}` });
        f.encode(enc, { rows, pos, logitRows: rows, sample: false });
        enc.copyBufferToBuffer(f.logits, 0, readback, 0, rows * V * 4);
        device.queue.submit([enc.finish()]);
        await readback.mapAsync(GPUMapMode.READ, 0, rows * V * 4);
        host.set(new Float32Array(readback.getMappedRange(0, rows * V * 4)));
        readback.unmap();
        yield { pos, rows, logits: host.subarray(0, rows * V) };
      }
    } finally {
      readback.destroy();
    }
  }

  /**
   * Next-token logits after `ids` (Float32Array [vocab]): the sequence is prefilled in passes of
   * maxRows, and only its last row goes through lm_head. What a teacher-forced check needs at one
   * position, without the [ids.length, vocab] of `logits`.
   */
  async lastLogits(ids: number[]): Promise<Float32Array> {
    this.checkPrompt(ids);
    if (ids.length === 0) throw new ContextOverflowError('lastLogits needs at least one token');
    this.cachedIds = [];
    const { device } = this.gpu;
    const f = this.forward;
    const V = this.config.vocabSize;
    const readback = device.createBuffer({ label: 'last logits readback', size: V * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      for (let pos = 0; pos < ids.length; pos += f.shape.maxRows) {
        const rows = Math.min(f.shape.maxRows, ids.length - pos);
        device.queue.writeBuffer(f.ids, 0, new Uint32Array(ids.slice(pos, pos + rows)));
        f.step.write({ rows, pos, logitRows: 1 });
        const enc = device.createCommandEncoder({ label: `last logits ${pos}+${rows}` });
        f.encode(enc, { rows, pos, logitRows: 1, sample: false });
        if (pos + rows === ids.length) enc.copyBufferToBuffer(f.logits, 0, readback, 0, V * 4);
        device.queue.submit([enc.finish()]);
      }
      await readback.mapAsync(GPUMapMode.READ);
      return new Float32Array(readback.getMappedRange().slice(0));
    } finally {
      readback.destroy();
    }
  }

  /** Forgets what the KV cache holds: the next generation prefills its whole prompt (a warm-up's tokens are no conversation). */
  resetCache(): void {
    this.cachedIds = [];
  }

  /** how many leading tokens of `promptIds` a generation with `reuseCache` would not prefill again */
  reusableTokens(promptIds: readonly number[]): number {
    return Math.max(0, Math.min(commonPrefix(this.cachedIds, promptIds), promptIds.length - 1));
  }

  /**
   * Streams generated tokens. The KV cache is rewritten from position 0 on each call, or with
   * `reuseCache` from the end of the prefix it already holds (at least one token is prefilled: it
   * gives the logits of the first new token). Stops after
   * `maxNewTokens`, on a stop id (which is yielded), at the end of the context, or when `signal`
   * aborts (within one token).
   */
  async *generate(promptIds: number[], opts: GenerateOptions): AsyncGenerator<GeneratedToken> {
    if (this.lostInfo) throw this.lostError();
    if (this.busy) throw new EngineBusyError('this engine is already generating; stop it first');
    this.checkPrompt(promptIds);
    this.busy = true;
    const { device } = this.gpu;
    const f = this.forward;
    const stop = new Set(opts.stopIds ?? this.eosIds);
    const aborted = () => opts.signal?.aborted === true;
    const P = promptIds.length;
    const maxNew = Math.min(opts.maxNewTokens, this.contextLength - P);
    const t0 = performance.now();
    const reused = opts.reuseCache ? this.reusableTokens(promptIds) : 0;
    // What the cache holds is unknown while it is being written: it is set again as steps complete.
    this.cachedIds = promptIds.slice(0, reused);
    let valid = reused;
    /** yielded tokens: the KV cache holds the prompt and all of them but the last once the last is read */
    const out: number[] = [];
    let pending: Promise<void> | null = null;
    // A validation error in a step (a destroyed buffer, a bad binding) invalidates its command
    // buffer and the readback would return stale ids: listen for it and stop with its labels. A
    // listener rather than an error scope per step keeps the decode loop free of extra round trips;
    // the error lands at most a token or two after the step that caused it.
    let gpuError: Error | null = null;
    const onGpuError = (ev: Event) => {
      gpuError ??= namedGpuError((ev as GPUUncapturedErrorEvent).error, `generating with the ${this.format} engine`);
    };
    device.addEventListener('uncapturederror', onGpuError);
    // Copies history[index] (where the sampler wrote token `index - P`) to a staging buffer.
    const submitReadback = (enc: GPUCommandEncoder, n: number) => {
      enc.copyBufferToBuffer(f.history, (P + n) * 4, this.staging[n % PIPELINE_DEPTH]!, 0, 4);
      device.queue.submit([enc.finish()]);
    };
    try {
      if (maxNew <= 0 || aborted()) return;
      f.setSampling(device, { ...GREEDY, ...opts.sampling });
      device.queue.writeBuffer(f.history, 0, new Uint32Array(promptIds));
      opts.onPrefill?.({ reusedTokens: reused, prefillTokens: P - reused });
      // Prefill all but the last chunk, then the last chunk with sampling + readback in one submit.
      // Stop is honoured between chunks, so a long prompt does not have to finish first.
      const chunk = f.shape.maxRows;
      let pos = reused;
      while (true) {
        const rows = Math.min(chunk, P - pos);
        const last = pos + rows >= P;
        device.queue.writeBuffer(f.ids, 0, new Uint32Array(promptIds.slice(pos, pos + rows)));
        f.step.write({ rows, pos, logitRows: 1 });
        const enc = device.createCommandEncoder({ label: `prefill ${pos}+${rows}` });
        f.encode(enc, { rows, pos, logitRows: 1, sample: last });
        if (last) submitReadback(enc, 0);
        else device.queue.submit([enc.finish()]);
        if (last) break;
        pos += rows;
        // (submitted work completes in order: the finally block waits for it)
        valid = pos;
        // Yield to the event loop so a Stop (a message, a click) can land between chunks.
        await new Promise((r) => setTimeout(r, 0));
        if (aborted()) return;
      }
      let queued = 1; // tokens whose step has been submitted
      for (let n = 0; n < maxNew; n++) {
        // Keep PIPELINE_DEPTH steps in flight: step m makes token m from token m-1 (in ids[0]).
        for (; queued < maxNew && queued < n + PIPELINE_DEPTH; queued++) {
          f.step.write({ rows: 1, pos: P + queued - 1, logitRows: 1 });
          const enc = device.createCommandEncoder({ label: `decode ${P + queued - 1}` });
          f.encode(enc, { rows: 1, pos: P + queued - 1, logitRows: 1, sample: true });
          submitReadback(enc, queued);
        }
        const buf = this.staging[n % PIPELINE_DEPTH]!;
        pending = buf.mapAsync(GPUMapMode.READ);
        try {
          await pending;
        } catch (e) {
          pending = null;
          // A lost device rejects every map; say so by name (the lost promise may settle a moment later).
          if (this.lostInfo || (await Promise.race([device.lost.then(() => true), new Promise((r) => setTimeout(() => r(false), 200))]))) throw this.lostError();
          throw e;
        }
        pending = null;
        const id = new Uint32Array(buf.getMappedRange())[0]!;
        buf.unmap();
        if (gpuError) throw gpuError;
        // Token n's step fed token n-1 (or the prompt's last token) through every layer.
        valid = P + n;
        // Stop pressed while this token was computed: it is dropped, nothing more is produced.
        if (aborted()) break;
        out.push(id);
        yield { id, index: n, timeMs: performance.now() - t0 };
        if (stop.has(id) || aborted()) break;
      }
    } finally {
      // Drain the steps still in flight so the staging buffers are free for the next call. A lost
      // device has nothing in flight (and must not keep a finished generation waiting).
      if (pending) await pending.catch(() => undefined);
      if (!this.lostInfo) await Promise.race([device.queue.onSubmittedWorkDone(), device.lost]);
      device.removeEventListener('uncapturederror', onGpuError);
      // A step that failed on the GPU leaves nothing to trust.
      this.cachedIds = gpuError || this.lostInfo ? [] : [...promptIds, ...out].slice(0, valid);
      this.busy = false;
    }
  }

  /**
   * Decodes many sequences together (continuous batching): up to `batch` at once, each in its own
   * KV cache region (load with maxBatch). A sequence joins when a slot is free: its prompt is
   * prefilled alone (in chunks), then every decode step is one pass whose rows are the running
   * sequences' last tokens, so each weight is read once for all of them. A sequence that finishes
   * (stop id, budget, end of context) leaves at once and the next one takes its slot. Tokens come
   * in step order; each sequence's ids are what it gives alone (greedy), and seeded sampling is per
   * sequence. While the running set stays the same, the next step is submitted before this one's
   * tokens are read (its input ids are the ones this step's sampler writes on the GPU), so the GPU
   * does not wait for the CPU between steps; a sequence that stops at a step (stop id) then has
   * one more row computed and discarded. No step goes ahead that could pass a sequence's budget or
   * context, or while a sequence waits for a slot.
   */
  async *generateBatch(sequences: readonly BatchSequence[], opts: BatchOptions = {}): AsyncGenerator<BatchToken> {
    if (this.lostInfo) throw this.lostError();
    const f = this.forward;
    const slots = Math.min(opts.batch ?? f.shape.maxBatch, f.shape.maxBatch);
    if (f.shape.maxBatch < 2) throw new Error('generateBatch needs an engine loaded with maxBatch >= 2');
    if (slots < 1) throw new Error(`batch ${slots} must be at least 1`);
    if (this.busy) throw new EngineBusyError('this engine is already generating; stop it first');
    for (const s of sequences) this.checkPrompt(s.promptIds);
    this.busy = true;
    this.cachedIds = [];
    const { device } = this.gpu;
    const C = f.shape.maxCtx;
    const chunk = Math.min(f.shape.maxRows, MAX_TABLE_ROWS);
    // Two readbacks: a step's ids are read while the next step is in flight.
    const readbacks = [0, 1].map((i) => device.createBuffer({ label: `batch readback ${i}`, size: slots * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    const readback = readbacks[0]!;
    const aborted = () => opts.signal?.aborted === true;
    const t0 = performance.now();
    interface Running {
      seq: number;
      slot: number;
      startMs: number;
      prompt: number;
      out: number[];
      max: number;
      stop: Set<number>;
    }
    const free = Array.from({ length: slots }, (_, i) => i);
    const running: Running[] = [];
    let next = 0;
    /** a submitted decode step: its rows' sequences (in row order) and its ids on the way back */
    interface Step {
      rows: Running[];
      ids: Promise<Uint32Array>;
      submitMs: number;
    }
    let inFlight: Step | null = null;
    let stepNo = 0;
    let lastDoneMs = 0;
    /**
     * Submits a decode step over `rows` (the running sequences, in order). `ahead`: the step after
     * one still in flight, whose input ids that step's sampler writes (rows in the same order), at
     * positions one further on; otherwise the ids come from each sequence's last token.
     */
    const submitStep = (rows: Running[], ahead: boolean): Step => {
      const n = rows.length;
      if (!ahead) device.queue.writeBuffer(f.ids, 0, new Uint32Array(rows.map((r) => r.out[r.out.length - 1]!)));
      const table = rows.map((r) => ({ kvBase: r.slot * C, pos: r.prompt + r.out.length - 1 + (ahead ? 1 : 0) }));
      f.step.writeRows(table, n);
      const enc = device.createCommandEncoder({ label: `decode-batch rows=${n}` });
      f.encodeBatch(device, enc, n, n, rows.map((r, i) => ({ slot: r.slot, row: i, tableRow: i })), Math.max(...table.map((t) => t.pos)));
      const rb = readbacks[stepNo++ % 2]!;
      enc.copyBufferToBuffer(f.ids, 0, rb, 0, n * 4);
      device.queue.submit([enc.finish()]);
      const ids = rb.mapAsync(GPUMapMode.READ, 0, n * 4).then(() => {
        const out = new Uint32Array(rb.getMappedRange(0, n * 4).slice(0));
        rb.unmap();
        return out;
      });
      return { rows: [...rows], ids, submitMs: performance.now() };
    };
    /**
     * The next step may go ahead of `cur` when cur's rows are the running sequences, none of which
     * can end at cur by budget or context (so no position passes its cache region), and no
     * sequence waits for a slot.
     */
    const canGoAhead = (cur: Step) =>
      !aborted() && (free.length === 0 || next >= sequences.length) &&
      cur.rows.length === running.length && cur.rows.every((r, i) => running[i] === r && r.out.length + 1 < r.max && r.prompt + r.out.length + 1 < C);
    const read = async (enc: GPUCommandEncoder, n: number): Promise<Uint32Array> => {
      enc.copyBufferToBuffer(f.ids, 0, readback, 0, n * 4);
      device.queue.submit([enc.finish()]);
      await readback.mapAsync(GPUMapMode.READ, 0, n * 4);
      const ids = new Uint32Array(readback.getMappedRange(0, n * 4).slice(0));
      readback.unmap();
      return ids;
    };
    /** the token, and whether its sequence ends with it */
    const take = (r: Running, id: number): BatchToken => {
      r.out.push(id);
      const last = r.stop.has(id) || r.out.length >= r.max || r.prompt + r.out.length >= C;
      return { seq: r.seq, startMs: r.startMs, id, index: r.out.length - 1, timeMs: performance.now() - t0, last };
    };
    const leave = (r: Running) => {
      running.splice(running.indexOf(r), 1);
      free.push(r.slot);
      free.sort((a, b) => a - b);
    };
    try {
      while (!aborted() && (next < sequences.length || running.length > 0)) {
        // Join: a free slot takes the next sequence; its prompt is prefilled into the slot's region.
        // (Not while a step is in flight: a prompt's pass reuses the ids and the readback.)
        while (!inFlight && free.length > 0 && next < sequences.length && !aborted()) {
          const s = sequences[next]!;
          const slot = free.shift()!;
          const r: Running = { seq: next++, slot, startMs: performance.now() - t0, prompt: s.promptIds.length, out: [], max: Math.min(s.maxNewTokens, C - s.promptIds.length), stop: new Set(s.stopIds ?? this.eosIds) };
          if (r.max <= 0) {
            free.unshift(slot);
            continue;
          }
          f.setSlotSampling(device, slot, { ...GREEDY, ...s.sampling });
          device.queue.writeBuffer(f.history, slot * C * 4, new Uint32Array(s.promptIds));
          let token = 0;
          for (let pos = 0; pos < r.prompt; pos += chunk) {
            const rows = Math.min(chunk, r.prompt - pos);
            const last = pos + rows >= r.prompt;
            device.queue.writeBuffer(f.ids, 0, new Uint32Array(s.promptIds.slice(pos, pos + rows)));
            f.step.writeRows(Array.from({ length: rows }, (_, i) => ({ kvBase: slot * C, pos: pos + i })), 1);
            const enc = device.createCommandEncoder({ label: `prefill-batch seq ${r.seq} ${pos}+${rows}` });
            f.encodeBatch(device, enc, rows, 1, last ? [{ slot, row: 0, tableRow: rows - 1 }] : [], pos + rows - 1);
            if (last) token = (await read(enc, 1))[0]!;
            else device.queue.submit([enc.finish()]);
          }
          running.push(r);
          const t = take(r, token);
          yield t;
          if (t.last) leave(r);
        }
        if (running.length === 0 && inFlight) {
          // Every row of the step in flight ended at the step before it: nothing of it is kept.
          await inFlight.ids;
          inFlight = null;
        }
        if (running.length === 0 || aborted()) continue;
        // One decode step over every running sequence: row i feeds its last token at its
        // position, or the one already in flight; and the next one behind it where it may go ahead.
        const cur: Step = inFlight ?? submitStep(running, false);
        inFlight = canGoAhead(cur) ? submitStep(running, true) : null;
        const ids = await cur.ids;
        const now = performance.now();
        // A step's time: from when the GPU could start it (its submit, or the previous step's end).
        opts.onStep?.({ rows: cur.rows.length, ms: now - Math.max(cur.submitMs, lastDoneMs) });
        lastDoneMs = now;
        for (const [i, r] of cur.rows.entries()) {
          if (!running.includes(r)) continue; // it ended at the step before (this row is discarded)
          const t = take(r, ids[i]!);
          yield t;
          if (t.last) leave(r);
        }
      }
    } finally {
      if (inFlight) await inFlight.ids.catch(() => undefined);
      if (!this.lostInfo) await Promise.race([device.queue.onSubmittedWorkDone(), device.lost]);
      for (const b of readbacks) b.destroy();
      this.busy = false;
    }
  }

  destroy(): void {
    this.pass.destroy();
    for (const b of this.weights.buffers) b.destroy();
    for (const b of this.staging) b.destroy();
  }
}
