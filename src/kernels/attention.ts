import attentionCode from './attention.wgsl';
import decodeCode from './attention_decode.wgsl';
import partsCode from './attention_parts.wgsl';
import decodeThreadCode from './attention_decode_thread.wgsl';
import prefillThreadCode from './attention_prefill_thread.wgsl';
import prefillTiledCode from './attention_prefill_tiled.wgsl';
import { gemvDevice } from './gemv';
import { MAX_TABLE_ROWS, STEP_ROWS_WGSL, STEP_WGSL } from '../gpu/step';
import type { PipelineCache } from '../gpu/pipelines';
import { checkKvBuffer, checkKvFormat, kvCacheWgsl, type KvFormat } from './kv_cache';

export interface AttentionShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  maxCtx: number;
  /** Sliding window in tokens; 0 = none. */
  window: number;
  /** the KV cache's storage (kv_cache.ts); default f32 */
  kv?: KvFormat;
  /**
   * batched kernels: passes of up to this many rows (a batched decode step, one row per sequence)
   * run the split decode path, each row at its own position; longer ones the rows kernel. Default 1.
   */
  decodeRows?: number;
}

/** Bind groups of one layer: the single-pass kernel, and the two decode dispatches when they apply. */
export interface AttentionBinding {
  full: GPUBindGroup;
  /** the tiled prefill kernel's */
  tiled?: GPUBindGroup;
  /** decode: `split` then `combine` (GPUs), or `scores` then `values` (software adapters) */
  split?: GPUBindGroup;
  combine?: GPUBindGroup;
}

/**
 * The schedule: 'split' for GPUs (prefill: attention.wgsl, a workgroup per row and head; decode:
 * attention_decode.wgsl, flash-decoding splits of 64 keys) or 'thread' for software adapters
 * (attention_prefill_thread.wgsl and attention_decode_thread.wgsl, barrier-free). Heads whose size
 * is not a multiple of 4 run attention.wgsl for every row count.
 */
export type AttentionDecode = 'split' | 'thread';

/**
 * A prompt's attention: 'tiled' (attention_prefill_tiled.wgsl: 256 / lanes rows of a head per
 * workgroup, keys streamed through workgroup memory; one sequence, heads of at most 128 in whole
 * vec4s per lane, subgroups of 4 or more) or 'rows' (attention.wgsl, a workgroup per row and head:
 * any shape, batched passes). GPUs run 'tiled' where it applies.
 */
export type AttentionPrefill = 'tiled' | 'rows';

/** Lanes per query row of the tiled prefill kernel: 8, or 4 where subgroups are that small (0: none). */
export function tiledPrefillLanes(cache: PipelineCache, s: Pick<AttentionShape, 'headDim'>): number {
  const sg = gemvDevice(cache).subgroupSize;
  const lanes = sg >= 8 ? 8 : sg >= 4 ? 4 : 0;
  return lanes && s.headDim % (4 * lanes) === 0 && s.headDim <= 128 ? lanes : 0;
}

/**
 * What a reader of the decode splits' results needs (attention_parts.wgsl's overrides, and BATCHED
 * for row_pos): W8A8's quantizer folds the combine into o_proj's input with it (matmul_w8a8.ts).
 */
export interface AttentionParts {
  nHeads: number;
  headDim: number;
  window: number;
  splits: number;
  batched: boolean;
}

/** Invocations per workgroup of the thread schedule's `scores` entry (WG in its WGSL). */
const THREAD_SCORES_WG = 16;
/** Invocations per workgroup of the thread prefill: one SIMD register of SwiftShader. */
const THREAD_PREFILL_WG = 4;

/**
 * Causal GQA attention: out[row, h] = softmax(q[row, h] . K^T / sqrt(headDim)) V over the cached
 * keys at positions <= step.pos + row (and within the window), with K, V from kv head
 * h / (nHeads / nKvHeads). The caches must already hold this pass's keys (KvAppend first).
 */
export class Attention {
  private static readonly WG = 64;
  private static readonly SPLIT = 64; // keys per decode split: SPLIT in attention_decode.wgsl
  /** Scratch of the decode splits, shared by every layer bound to this instance (layers run in turn). */
  private parts: GPUBuffer | null = null;

  private constructor(
    private readonly pipeline: GPUComputePipeline,
    /** the tiled prefill kernel, which then runs every pass of more than one row */
    private readonly tiled: GPUComputePipeline | null,
    /** its lanes per row (rows per workgroup: 256 / lanes) */
    private readonly tiledLanes: number,
    /** the thread schedule's prefill kernel (its dispatch: one invocation per row and head) */
    private readonly threadPrefill: boolean,
    private readonly s: AttentionShape,
    private readonly decode: { kind: AttentionDecode; split: GPUComputePipeline; combine: GPUComputePipeline; splits: number } | null,
  ) {}

  /** which kernel a pass of more than one row runs */
  get prefillKind(): AttentionPrefill | 'thread' {
    return this.tiled ? 'tiled' : this.threadPrefill ? 'thread' : 'rows';
  }

  /** which decode path this instance runs (null: decode uses the single-pass kernel) */
  get decodeKind(): AttentionDecode | null {
    return this.decode?.kind ?? null;
  }

  /** Splits per head the decode path dispatches: enough for the longest visible key range. */
  static decodeSplits(s: AttentionShape): number {
    const keys = s.window > 0 ? Math.min(s.window, s.maxCtx) : s.maxCtx;
    return Math.ceil(keys / Attention.SPLIT);
  }

  /**
   * The splits' layout of the instance `create(cache, s, undefined, batched)` makes, where its
   * decode path is 'split' (the GPU schedule), else null: another kernel may then merge the splits
   * instead of `combine` (encode's `combine` false).
   */
  static partsOf(cache: PipelineCache, s: AttentionShape, batched: boolean): AttentionParts | null {
    if (cache.software || s.headDim % 4 !== 0) return null;
    return { nHeads: s.nHeads, headDim: s.headDim, window: s.window, splits: Attention.decodeSplits(s), batched };
  }

  /**
   * `decode` defaults to 'thread' on software adapters and 'split' elsewhere. `batched`: rows are
   * placed by the step's row table (a batched pass over several sequences): passes of up to
   * `s.decodeRows` rows by the split decode path, others (and the thread schedule's) by the rows kernel.
   * `prefill` defaults to 'tiled' where it applies on GPUs (not with the thread schedule).
   */
  static async create(cache: PipelineCache, s: AttentionShape, decodeKind?: AttentionDecode, batched = false, prefill?: AttentionPrefill): Promise<Attention> {
    if (s.nHeads % s.nKvHeads !== 0) throw new Error(`attention: nHeads ${s.nHeads} not a multiple of nKvHeads ${s.nKvHeads}`);
    if (s.headDim < 1 || s.headDim > 256) throw new Error(`attention: headDim ${s.headDim} outside 1..256`);
    const kv = s.kv ?? 'f32';
    checkKvFormat(kv, s.headDim);
    // Every kernel reads the caches at bindings 1 and 2, as vec4s where the head is whole vec4s.
    const kvRead = (view: 'vec4' | 'scalar') => kvCacheWgsl(kv, { view, access: 'read', k: 1, v: 2 });
    const kvName = (name: string) => `${name} kv=${kv}`;
    const kind = decodeKind ?? (cache.software ? 'thread' : 'split');
    const threadPrefill = kind === 'thread' && s.headDim % 4 === 0;
    const base = { N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, WINDOW: s.window, SCALE: 1 / Math.sqrt(s.headDim), BATCHED: batched };
    const lanes = tiledPrefillLanes(cache, s);
    if (prefill === 'tiled' && (batched || !lanes)) {
      throw new Error(`attention: the tiled prefill needs one sequence, subgroups of 4 or more and a head of at most 128 in whole vec4s per lane (not ${s.headDim})`);
    }
    const useTiled = !batched && lanes > 0 && (prefill ?? (kind === 'split' ? 'tiled' : 'rows')) === 'tiled';
    const tiledCode = `enable subgroups;\n${STEP_WGSL}const LANES: u32 = ${lanes}u;\nconst DV: u32 = ${s.headDim / (4 * lanes || 1)}u;\n${kvRead('vec4')}${prefillTiledCode}`;
    const [pipeline, tiled] = await Promise.all([
      threadPrefill
        ? cache.get(kvName('attention_prefill_thread'), STEP_ROWS_WGSL + kvRead('vec4') + prefillThreadCode, { ...base, WG: THREAD_PREFILL_WG })
        : cache.get(kvName('attention'), STEP_ROWS_WGSL + kvRead('scalar') + attentionCode, { ...base, WG: Attention.WG }),
      useTiled ? cache.get(kvName(`attention_prefill_tiled hd=${s.headDim} lanes=${lanes}`), tiledCode, { N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, WINDOW: s.window, SCALE: 1 / Math.sqrt(s.headDim) }) : null,
    ]);
    const decodeRows = s.decodeRows ?? 1;
    if (!(Number.isInteger(decodeRows) && decodeRows >= 1 && decodeRows <= (batched ? MAX_TABLE_ROWS : 1))) {
      throw new Error(`attention: decode rows ${decodeRows} must be 1${batched ? `..${MAX_TABLE_ROWS}` : ' without a row table'}`);
    }
    if (batched && kind === 'thread') return new Attention(pipeline, null, 0, threadPrefill, { ...s }, null);
    // Decode splits the keys over many workgroups; needs 16-byte key loads.
    let decode = null;
    if (s.headDim % 4 === 0 && kind === 'thread') {
      const constants = {
        N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, WINDOW: s.window, SCALE: 1 / Math.sqrt(s.headDim), MAX_CTX: s.maxCtx, WG: THREAD_SCORES_WG,
      };
      const [scores, values] = await Promise.all([
        cache.get(kvName('attention_decode_thread'), STEP_WGSL + kvRead('vec4') + decodeThreadCode, constants, 'scores_main'),
        cache.get(kvName('attention_decode_thread'), STEP_WGSL + kvRead('vec4') + decodeThreadCode, constants, 'values_main'),
      ]);
      decode = { kind, split: scores, combine: values, splits: 0 };
    } else if (s.headDim % 4 === 0) {
      const splits = Attention.decodeSplits(s);
      // combine keeps a weight per split and 256 partials in workgroup memory
      const wgBytes = 4 * (splits + 256);
      const most = cache.device.limits.maxComputeWorkgroupStorageSize;
      if (wgBytes > most) throw new Error(`attention: a ${s.maxCtx}-token context needs ${wgBytes} bytes of workgroup memory to combine its ${splits} decode splits; this adapter allows ${most}`);
      // Lanes per key: enough that each walks about 4 of the head's 16-byte words (tiny heads
      // gain nothing from more, and CPU adapters pay for every invocation).
      const lanes = Math.max(1, Math.min(4, Math.floor(s.headDim / 16)));
      const constants = { N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, WINDOW: s.window, SCALE: 1 / Math.sqrt(s.headDim), SPLITS: splits, LANES: lanes, BATCHED: batched };
      const [split, combine] = await Promise.all([
        cache.get(kvName('attention_decode'), STEP_ROWS_WGSL + kvRead('vec4') + partsCode + decodeCode, constants, 'split'),
        cache.get(kvName('attention_decode'), STEP_ROWS_WGSL + kvRead('vec4') + partsCode + decodeCode, constants, 'combine'),
      ]);
      decode = { kind, split, combine, splits };
    }
    return new Attention(pipeline, tiled, useTiled ? lanes : 0, threadPrefill, { ...s }, decode);
  }

  bind(device: GPUDevice, label: string, b: { q: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; out: GPUBuffer; step: GPUBuffer }): AttentionBinding {
    checkKvBuffer(label, this.s.kv ?? 'f32', [b.kCache, b.vCache], this.s.maxCtx, this.s.nKvHeads * this.s.headDim);
    const entries = (bindings: number[]) =>
      [b.q, b.kCache, b.vCache, b.out, b.step]
        .map((buffer, binding) => ({ binding, resource: { buffer } }))
        .filter((e) => bindings.includes(e.binding));
    const full = device.createBindGroup({ label, layout: this.pipeline.getBindGroupLayout(0), entries: entries([0, 1, 2, 3, 4]) });
    const tiled = this.tiled ? device.createBindGroup({ label: `${label} tiled`, layout: this.tiled.getBindGroupLayout(0), entries: entries([0, 1, 2, 3, 4]) }) : undefined;
    if (!this.decode) return { full, tiled };
    const { kind, split, combine, splits } = this.decode;
    // Scratch shared by every layer bound to this instance (layers run in turn): the splits'
    // partial results, or the thread schedule's scores.
    this.parts ??= device.createBuffer({
      label: kind === 'split' ? 'attention decode splits' : 'attention decode scores',
      size: kind === 'split' ? (this.s.decodeRows ?? 1) * this.s.nHeads * splits * (this.s.headDim + 2) * 4 : this.s.nHeads * this.s.maxCtx * 4,
      usage: GPUBufferUsage.STORAGE,
    });
    const parts = { binding: 5, resource: { buffer: this.parts } };
    const [first, second] = kind === 'split' ? [[0, 1, 2, 4], [3, 4]] : [[0, 1, 4], [2, 3, 4]];
    return {
      full,
      tiled,
      split: device.createBindGroup({ label: `${label} ${kind === 'split' ? 'split' : 'scores'}`, layout: split.getBindGroupLayout(0), entries: [...entries(first!), parts] }),
      combine: device.createBindGroup({ label: `${label} ${kind === 'split' ? 'combine' : 'values'}`, layout: combine.getBindGroupLayout(0), entries: [...entries(second!), parts] }),
    };
  }

  /** the decode splits' scratch (attention_parts.wgsl), once an instance with the split path is bound */
  get partsBuffer(): GPUBuffer | null {
    return this.decode?.kind === 'split' ? this.parts : null;
  }

  /** Whether a pass of `rows` rows runs the split decode path (the splits, then their merge). */
  splitDecodes(rows: number): boolean {
    return this.decode?.kind === 'split' && rows <= (this.s.decodeRows ?? 1);
  }

  /** buffers this kernel made in bind() (the decode split scratch), for its owner to destroy */
  get buffers(): GPUBuffer[] {
    return this.parts ? [this.parts] : [];
  }

  /** Key splits that hold visible keys for a query at `pos` (what `combine` reads). */
  liveSplits(pos: number): number {
    return Math.min(this.decode?.splits ?? 1, Math.floor((pos - this.firstKey(pos)) / Attention.SPLIT) + 1);
  }

  private firstKey(pos: number): number {
    return this.s.window > 0 && pos + 1 > this.s.window ? pos + 1 - this.s.window : 0;
  }

  /**
   * `pos` is the step buffer's position (a batched pass: the largest position of its rows): a
   * decode step dispatches only the splits it can see. `combine` false: a pass that runs the split
   * path (splitDecodes) leaves the merge to the kernel after it (which reads partsBuffer).
   */
  encode(pass: GPUComputePassEncoder, b: AttentionBinding, rows: number, pos: number, combine = true): void {
    if (rows === 1 && this.decode?.kind === 'thread' && b.split && b.combine) {
      pass.setPipeline(this.decode.split);
      pass.setBindGroup(0, b.split);
      pass.dispatchWorkgroups(Math.ceil((pos + 1 - this.firstKey(pos)) / THREAD_SCORES_WG), this.s.nKvHeads);
      pass.setPipeline(this.decode.combine);
      pass.setBindGroup(0, b.combine);
      pass.dispatchWorkgroups(Math.ceil(this.s.headDim / 16), this.s.nKvHeads);
      return;
    }
    if (rows <= (this.s.decodeRows ?? 1) && this.decode && b.split && b.combine) {
      pass.setPipeline(this.decode.split);
      pass.setBindGroup(0, b.split);
      pass.dispatchWorkgroups(this.s.nHeads, this.liveSplits(pos), rows);
      if (!combine) return;
      pass.setPipeline(this.decode.combine);
      pass.setBindGroup(0, b.combine);
      pass.dispatchWorkgroups(this.s.nHeads, rows);
      return;
    }
    if (rows > 1 && this.tiled && b.tiled) {
      pass.setPipeline(this.tiled);
      pass.setBindGroup(0, b.tiled);
      pass.dispatchWorkgroups(this.s.nHeads, Math.ceil(rows / (256 / this.tiledLanes)));
      return;
    }
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, b.full);
    if (this.threadPrefill) pass.dispatchWorkgroups(Math.ceil((rows * this.s.nHeads) / THREAD_PREFILL_WG));
    else pass.dispatchWorkgroups(this.s.nHeads, rows);
  }
}
