// One ModelConfig, parsed from Hugging Face `config.json` in this one place. Both config styles
// are accepted: the classic `rope_theta` + `rope_scaling`, and the newer `rope_parameters`.
import type { RopeParams } from '../kernels/rope';
import { MAX_SAMPLER_VOCAB } from './sampling';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export class UnsupportedModelError extends Error {
  override name = 'UnsupportedModelError';
}

export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

export interface ModelConfig {
  modelType: ModelType;
  hiddenSize: number; // D
  intermediateSize: number; // I (MLP)
  numLayers: number;
  numHeads: number; // H (query heads)
  numKvHeads: number; // KV heads; H % KV == 0
  headDim: number; // hd
  vocabSize: number; // V
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  rope: RopeParams;
  tieWordEmbeddings: boolean;
  /** Sliding-window size per layer; 0 = full causal attention. */
  layerWindows: number[];
  /** q/k/v projections carry biases (Qwen2, or Llama with attention_bias). */
  qkvBias: boolean;
  /** o_proj carries a bias (Llama attention_bias). */
  oBias: boolean;
  /** gate/up/down carry biases (Llama mlp_bias). */
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

type Json = Record<string, unknown>;

function int(c: Json, key: string, opts: { min?: number; max?: number; fallback?: number } = {}): number {
  const v = c[key] ?? opts.fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`config.json: "${key}" must be an integer, got ${JSON.stringify(v)}`);
  const min = opts.min ?? 1;
  const max = opts.max ?? 1 << 24;
  if (v < min || v > max) throw new ConfigError(`config.json: "${key}" = ${v} is outside the supported range [${min}, ${max}]`);
  return v;
}

function num(c: Json, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`config.json: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function positiveEps(v: number): number {
  if (!(v > 0 && v < 1)) throw new ConfigError(`config.json: rms_norm_eps must be in (0, 1), got ${v}`);
  return v;
}

function parseRope(c: Json): RopeParams {
  // Newer transformers: rope_parameters { rope_theta, rope_type, factor, ... }.
  // Classic: rope_theta at the top level and an optional rope_scaling { rope_type | type, ... }.
  const params = (c.rope_parameters ?? c.rope_scaling ?? null) as Json | null;
  const theta = num(params && typeof params.rope_theta === 'number' ? params : c, 'rope_theta', 10000);
  if (theta <= 0) throw new ConfigError(`config.json: rope_theta must be positive, got ${theta}`);
  if (!params) return { theta, type: 'default' };
  const rawType = params.rope_type ?? params.type ?? 'default';
  const type = typeof rawType === 'string' ? rawType : JSON.stringify(rawType);
  if (type === 'default') return { theta, type };
  // Zero or negative factors would divide by zero in the frequencies and give NaN logits.
  const positive = (key: string) => {
    const v = num(params, key);
    if (!(v > 0)) throw new ConfigError(`config.json: rope scaling "${key}" must be positive, got ${v}`);
    return v;
  };
  if (type === 'linear') return { theta, type, factor: positive('factor') };
  if (type === 'llama3') {
    const rope: RopeParams = {
      theta,
      type,
      factor: positive('factor'),
      lowFreqFactor: positive('low_freq_factor'),
      highFreqFactor: positive('high_freq_factor'),
      originalMaxPositionEmbeddings: positive('original_max_position_embeddings'),
    };
    if (rope.highFreqFactor! <= rope.lowFreqFactor!) throw new ConfigError(`config.json: rope scaling high_freq_factor (${rope.highFreqFactor}) must exceed low_freq_factor (${rope.lowFreqFactor})`);
    return rope;
  }
  throw new UnsupportedModelError(`RoPE scaling ${JSON.stringify(type)} is not supported (supported: default, linear, llama3)`);
}

function eosIds(v: unknown): number[] {
  if (v == null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0);
}

/** Parses and validates `config.json` (text or parsed object). */
export function parseConfig(input: string | unknown): ModelConfig {
  let c: Json;
  if (typeof input === 'string') {
    try {
      c = JSON.parse(input) as Json;
    } catch (e) {
      throw new ConfigError(`config.json is not valid JSON: ${(e as Error).message}`);
    }
  } else {
    c = input as Json;
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new ConfigError('config.json must be a JSON object');
  const modelType = c.model_type;
  if (!SUPPORTED_MODEL_TYPES.includes(modelType as ModelType)) {
    throw new UnsupportedModelError(
      `model_type ${JSON.stringify(modelType)} is not supported; this engine runs ${SUPPORTED_MODEL_TYPES.join(', ')} (Llama-family) models`,
    );
  }
  const act = c.hidden_act ?? c.hidden_activation ?? 'silu';
  if (act !== 'silu') throw new UnsupportedModelError(`hidden_act ${JSON.stringify(act)} is not supported (only silu)`);

  const hiddenSize = int(c, 'hidden_size', { max: 65536 });
  const numHeads = int(c, 'num_attention_heads', { max: 1024 });
  const numKvHeads = int(c, 'num_key_value_heads', { max: 1024, fallback: numHeads });
  if (numHeads % numKvHeads !== 0) throw new ConfigError(`config.json: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  const headDim = c.head_dim == null ? hiddenSize / numHeads : int(c, 'head_dim', { max: 512 });
  if (!Number.isInteger(headDim) || headDim % 2 !== 0 || headDim > 256) {
    throw new ConfigError(`config.json: head_dim ${headDim} is not supported (must be an even integer <= 256)`);
  }
  const numLayers = int(c, 'num_hidden_layers', { max: 1024 });
  const modelType_ = modelType as ModelType;

  // Sliding windows: Mistral applies `sliding_window` to every layer; Qwen2 only when
  // `use_sliding_window` is true, and then per `layer_types` (or from `max_window_layers` on).
  const window = c.sliding_window == null ? 0 : int(c, 'sliding_window', { max: 1 << 24 });
  let layerWindows = new Array<number>(numLayers).fill(0);
  if (modelType_ === 'mistral') layerWindows.fill(window);
  if (modelType_ === 'qwen2' && c.use_sliding_window === true && window > 0) {
    const types = c.layer_types as unknown;
    if (Array.isArray(types) && types.length === numLayers) layerWindows = types.map((t) => (t === 'sliding_attention' ? window : 0));
    else {
      const from = int(c, 'max_window_layers', { min: 0, fallback: numLayers });
      layerWindows = layerWindows.map((_, i) => (i >= from ? window : 0));
    }
  }
  if (modelType_ === 'llama' && Array.isArray(c.layer_types) && window > 0) {
    if (c.layer_types.length !== numLayers) throw new ConfigError(`config.json: layer_types lists ${c.layer_types.length} layers but num_hidden_layers is ${numLayers}`);
    layerWindows = (c.layer_types as unknown[]).map((t) => (t === 'sliding_attention' ? window : 0));
  }

  const attentionBias = c.attention_bias === true;
  const vocabSize = int(c, 'vocab_size', { max: 1 << 20 });
  if (vocabSize > MAX_SAMPLER_VOCAB) {
    throw new UnsupportedModelError(`vocab_size ${vocabSize} is larger than the GPU sampler supports (${MAX_SAMPLER_VOCAB})`);
  }
  return {
    modelType: modelType_,
    hiddenSize,
    intermediateSize: int(c, 'intermediate_size', { max: 1 << 20 }),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize,
    maxPositionEmbeddings: int(c, 'max_position_embeddings', { fallback: 2048, max: 1 << 24 }),
    rmsNormEps: positiveEps(num(c, 'rms_norm_eps', 1e-6)),
    rope: parseRope(c),
    tieWordEmbeddings: c.tie_word_embeddings === true,
    layerWindows,
    qkvBias: modelType_ === 'qwen2' || attentionBias,
    oBias: modelType_ !== 'qwen2' && attentionBias,
    mlpBias: c.mlp_bias === true,
    bosTokenId: typeof c.bos_token_id === 'number' ? c.bos_token_id : null,
    eosTokenIds: eosIds(c.eos_token_id),
  };
}

/** Parameters of the 1-D tensors of one layer: the two RMSNorm weights and the biases the model has. */
export function layerVectorParams(c: ModelConfig): number {
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  return 2 * d + (c.qkvBias ? q + 2 * kv : 0) + (c.oBias ? d : 0) + (c.mlpBias ? 2 * c.intermediateSize + d : 0);
}

/**
 * Parameter count of the weights, as the checkpoint counts them (for the model card and reports):
 * equals the published counts of the presets (tests/unit/memory_presets.test.ts), Qwen2's q/k/v
 * biases included.
 */
export function parameterCount(c: ModelConfig): number {
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const perLayer = d * q + 2 * d * kv + q * d + 3 * d * c.intermediateSize + layerVectorParams(c);
  return c.numLayers * perLayer + c.vocabSize * d * (c.tieWordEmbeddings ? 1 : 2) + d;
}
