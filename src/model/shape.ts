// The shape of a loaded engine (context, rows per pass, logit rows) from its config and options:
// plain code, no kernels, so the page can plan memory with the very rule the engine loads with.
import type { ModelConfig } from './config';
import { MAX_TABLE_ROWS } from '../gpu/step';
import { checkKvFormat, defaultKvFormat, kvBytesPerValue, type KvFormat } from '../kernels/kv_cache';

export interface ForwardShape {
  /** tokens the KV cache holds (the context length chosen at load) */
  maxCtx: number;
  /** most tokens one pass processes: longer prompts are prefilled in chunks of this size */
  maxRows: number;
  /** most rows whose logits one pass returns (1 for generation; a teacher-forced evaluation reads them in chunks) */
  maxLogitRows: number;
  /** sequences decoded together (each with its own KV cache region); 1: generate() alone */
  maxBatch: number;
  /** the KV cache's storage */
  kvCache: KvFormat;
}

export const DEFAULT_CONTEXT = 2048;
export const DEFAULT_MAX_ROWS = 512;

export interface ShapeOptions {
  /** KV-cache length; default 2048, capped by max_position_embeddings */
  contextLength?: number;
  /** most tokens per pass (longer prompts are prefilled in chunks) */
  maxRows?: number;
  /** most rows whose logits one pass can return, or a rule from the config (e.g. a byte budget over the vocabulary); default 1 */
  maxLogitRows?: number | ((config: ModelConfig) => number);
  /** sequences a batched decode holds at once (KV cache x maxBatch); default 1 */
  maxBatch?: number;
  /** the KV cache's storage; default defaultKvFormat(format) (f16 unless the weights are f32) */
  kvCache?: KvFormat;
  /** the weight format, which picks the default KV cache */
  format?: string;
}

/**
 * The context is capped by the model; with adapter limits and no explicit choice, the context and
 * the rows per pass shrink until the KV cache and the widest activation fit one buffer.
 */
export function forwardShape(config: ModelConfig, opts: ShapeOptions, limits?: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): ForwardShape {
  const kvCache = opts.kvCache ?? defaultKvFormat(opts.format ?? 'f32', config.headDim);
  checkKvFormat(kvCache, config.headDim);
  let maxCtx = Math.min(opts.contextLength ?? DEFAULT_CONTEXT, config.maxPositionEmbeddings);
  if (limits && opts.contextLength === undefined) {
    const perBuffer = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const kvRowBytes = config.numKvHeads * config.headDim * kvBytesPerValue(kvCache);
    maxCtx = Math.max(Math.min(maxCtx, 256), Math.min(maxCtx, Math.floor(perBuffer / kvRowBytes)));
  }
  let maxRows = Math.min(opts.maxRows ?? DEFAULT_MAX_ROWS, maxCtx);
  if (limits && opts.maxRows === undefined) {
    const perBuffer = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const widest = Math.max(config.intermediateSize, config.numHeads * config.headDim, config.hiddenSize) * 4;
    maxRows = Math.max(1, Math.min(maxRows, Math.floor(perBuffer / widest)));
  }
  const maxBatch = opts.maxBatch ?? 1;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_TABLE_ROWS) throw new Error(`maxBatch ${maxBatch} must be an integer in 1..${MAX_TABLE_ROWS}`);
  // A batched decode step is a pass of up to maxBatch rows, every one of which gets logits.
  maxRows = Math.max(maxRows, maxBatch);
  const logitRows = Math.max(typeof opts.maxLogitRows === 'function' ? opts.maxLogitRows(config) : (opts.maxLogitRows ?? 1), maxBatch);
  return { maxCtx, maxRows, maxLogitRows: Math.max(1, Math.min(logitRows, maxRows)), maxBatch, kvCache };
}
