// What every architecture module shares: the ModelConfig the rest of the engine reads, the errors
// config.json parsing throws, the JSON readers that validate each field, and the shape of a weight
// table. Plain data and functions (no kernels), so the app's page can parse configs cheaply.
import type { RopeParams } from '../../kernels/rope';
import { MAX_SAMPLER_VOCAB } from '../sampling';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export class UnsupportedModelError extends Error {
  override name = 'UnsupportedModelError';
}

/** The architectures the engine runs (one module each under src/model/arch). */
export type ArchName = 'llama' | 'gpt2';

export interface ModelConfig {
  /** which architecture module builds its weight table and block */
  arch: ArchName;
  /** config.json's model_type: llama, mistral, qwen2, gpt2 */
  modelType: string;
  hiddenSize: number; // D
  intermediateSize: number; // I (MLP)
  numLayers: number;
  numHeads: number; // H (query heads)
  numKvHeads: number; // KV heads; H % KV == 0
  headDim: number; // hd
  vocabSize: number; // V
  maxPositionEmbeddings: number;
  /** epsilon of the model's norm (RMSNorm for Llama, LayerNorm for GPT-2) */
  normEps: number;
  /** rotary position embedding (Llama family); null where positions are learned (GPT-2) */
  rope: RopeParams | null;
  tieWordEmbeddings: boolean;
  /** Sliding-window size per layer; 0 = full causal attention. */
  layerWindows: number[];
  /** q/k/v projections carry biases (Qwen2, GPT-2, or Llama with attention_bias). */
  qkvBias: boolean;
  /** o_proj carries a bias (GPT-2, Llama attention_bias). */
  oBias: boolean;
  /** MLP projections carry biases (GPT-2, Llama mlp_bias). */
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

export type Json = Record<string, unknown>;

export function int(c: Json, key: string, opts: { min?: number; max?: number; fallback?: number } = {}): number {
  const v = c[key] ?? opts.fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`config.json: "${key}" must be an integer, got ${JSON.stringify(v)}`);
  const min = opts.min ?? 1;
  const max = opts.max ?? 1 << 24;
  if (v < min || v > max) throw new ConfigError(`config.json: "${key}" = ${v} is outside the supported range [${min}, ${max}]`);
  return v;
}

export function num(c: Json, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`config.json: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function normEps(key: string, v: number): number {
  if (!(v > 0 && v < 1)) throw new ConfigError(`config.json: ${key} must be in (0, 1), got ${v}`);
  return v;
}

export function eosIds(v: unknown): number[] {
  if (v == null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0);
}

export function vocabSize(c: Json, key = 'vocab_size'): number {
  const v = int(c, key, { max: 1 << 20 });
  if (v > MAX_SAMPLER_VOCAB) throw new UnsupportedModelError(`vocab_size ${v} is larger than the GPU sampler supports (${MAX_SAMPLER_VOCAB})`);
  return v;
}

export function checkHeadDim(headDim: number): number {
  if (!Number.isInteger(headDim) || headDim % 2 !== 0 || headDim > 256) {
    throw new ConfigError(`config.json: head_dim ${headDim} is not supported (must be an even integer <= 256)`);
  }
  return headDim;
}

/**
 * One tensor the forward pass reads. `shape` is ours ([out, in] for a matrix, as the kernels read
 * it); `hfShape` the checkpoint's where it differs (a transposed Conv1D weight).
 */
export interface Slot {
  /** the checkpoint's tensor name */
  hf: string;
  /** other names the same tensor goes by in some checkpoints (GPT-2 with or without "transformer.") */
  aliases?: string[];
  shape: number[];
  /** matrices are packed in the engine's weight format; everything else stays f32 */
  kind: 'matrix' | 'norm' | 'bias' | 'table';
  /** how the checkpoint's tensor becomes ours: 'transpose' a [in, out] Conv1D weight */
  transform?: 'transpose';
  /** checkpoint shape when it differs from `shape` */
  hfShape?: number[];
  /**
   * the stacked weight this one is part of (its rows follow the earlier parts of the same target,
   * in table order): q/k/v into "wqkv", gate/up into "wGateUp"
   */
  into?: string;
  /** how size errors name the (stacked) matrix: "embedding table", "stacked q/k/v projection" */
  label?: string;
  /** storage buffers a kernel reading this (stacked) matrix binds besides it: the split check's budget */
  binds?: number;
}

/** An architecture's one table: our name -> slot, for the model-wide tensors and for layer `l`. */
export interface WeightTable {
  global: Record<string, Slot>;
  layer: (l: number) => Record<string, Slot>;
}

/** Every slot, in load order, keyed as uploadTensors and the cache key them: "g.embed", "3.wq", ... */
export function slotList(table: WeightTable, numLayers: number): Array<[string, Slot]> {
  return [
    ...Object.entries(table.global).map(([k, s]) => [`g.${k}`, s] as [string, Slot]),
    ...Array.from({ length: numLayers }, (_, l) => Object.entries(table.layer(l)).map(([k, s]) => [`${l}.${k}`, s] as [string, Slot])).flat(),
  ];
}

export const elements = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
