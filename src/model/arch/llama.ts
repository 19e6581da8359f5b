// The Llama family (model_type llama, mistral, qwen2): config rules and the one weight table. Its
// block (the kernels of a layer and the order they run in) is llama_block.ts, kept apart so that
// parsing a config never pulls in a kernel.
import type { RopeParams } from '../../kernels/rope';
import { ConfigError, UnsupportedModelError, checkHeadDim, eosIds, int, normEps, num, vocabSize, type Json, type ModelConfig, type Slot, type WeightTable } from './common';

export const LLAMA_MODEL_TYPES = ['llama', 'mistral', 'qwen2'] as const;

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

/** config.json of a llama, mistral or qwen2 checkpoint. */
export function parseLlamaConfig(c: Json): ModelConfig {
  const modelType = c.model_type as (typeof LLAMA_MODEL_TYPES)[number];
  const act = c.hidden_act ?? c.hidden_activation ?? 'silu';
  if (act !== 'silu') throw new UnsupportedModelError(`hidden_act ${JSON.stringify(act)} is not supported (only silu)`);

  const hiddenSize = int(c, 'hidden_size', { max: 65536 });
  const numHeads = int(c, 'num_attention_heads', { max: 1024 });
  const numKvHeads = int(c, 'num_key_value_heads', { max: 1024, fallback: numHeads });
  if (numHeads % numKvHeads !== 0) throw new ConfigError(`config.json: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  const headDim = checkHeadDim(c.head_dim == null ? hiddenSize / numHeads : int(c, 'head_dim', { max: 512 }));
  const numLayers = int(c, 'num_hidden_layers', { max: 1024 });

  // Sliding windows: Mistral applies `sliding_window` to every layer; Qwen2 only when
  // `use_sliding_window` is true, and then per `layer_types` (or from `max_window_layers` on).
  const window = c.sliding_window == null ? 0 : int(c, 'sliding_window', { max: 1 << 24 });
  let layerWindows = new Array<number>(numLayers).fill(0);
  if (modelType === 'mistral') layerWindows.fill(window);
  if (modelType === 'qwen2' && c.use_sliding_window === true && window > 0) {
    const types = c.layer_types as unknown;
    if (Array.isArray(types) && types.length === numLayers) layerWindows = types.map((t) => (t === 'sliding_attention' ? window : 0));
    else {
      const from = int(c, 'max_window_layers', { min: 0, fallback: numLayers });
      layerWindows = layerWindows.map((_, i) => (i >= from ? window : 0));
    }
  }
  if (modelType === 'llama' && Array.isArray(c.layer_types) && window > 0) {
    if (c.layer_types.length !== numLayers) throw new ConfigError(`config.json: layer_types lists ${c.layer_types.length} layers but num_hidden_layers is ${numLayers}`);
    layerWindows = (c.layer_types as unknown[]).map((t) => (t === 'sliding_attention' ? window : 0));
  }

  const attentionBias = c.attention_bias === true;
  const vocab = vocabSize(c);
  return {
    arch: 'llama',
    modelType,
    hiddenSize,
    intermediateSize: int(c, 'intermediate_size', { max: 1 << 20 }),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: vocab,
    maxPositionEmbeddings: int(c, 'max_position_embeddings', { fallback: 2048, max: 1 << 24 }),
    normEps: normEps('rms_norm_eps', num(c, 'rms_norm_eps', 1e-6)),
    rope: parseRope(c),
    tieWordEmbeddings: c.tie_word_embeddings === true,
    layerWindows,
    qkvBias: modelType === 'qwen2' || attentionBias,
    oBias: modelType !== 'qwen2' && attentionBias,
    mlpBias: c.mlp_bias === true,
    bosTokenId: typeof c.bos_token_id === 'number' ? c.bos_token_id : null,
    eosTokenIds: eosIds(c.eos_token_id),
  };
}

/**
 * HF name -> our name and shape for every tensor the forward pass reads (gpt-fast's weight_map).
 * q/k/v are stacked into one weight, as are gate/up, so each group is one matmul dispatch; the
 * checkpoint and the cache still hold them as separate tensors.
 */
export function llamaWeights(c: ModelConfig): WeightTable {
  const D = c.hiddenSize;
  const Q = c.numHeads * c.headDim;
  const KV = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const V = c.vocabSize;
  // binds: other storage buffers of the kernels reading the weight (x, y, norm; x, q, caches, bias, norm; ...)
  const m = (hf: string, shape: number[], more: Partial<Slot> = {}): Slot => ({ hf, shape, kind: 'matrix', binds: 3, ...more });
  const norm = (hf: string): Slot => ({ hf, shape: [D], kind: 'norm' });
  const bias = (hf: string, n: number, into?: string): Slot => ({ hf, shape: [n], kind: 'bias', ...(into ? { into } : {}) });
  return {
    global: {
      embed: m('model.embed_tokens.weight', [V, D], { label: 'embedding table' }),
      finalNorm: norm('model.norm.weight'),
      ...(c.tieWordEmbeddings ? {} : { lmHead: m('lm_head.weight', [V, D], { label: 'lm_head' }) }),
    },
    layer: (l) => {
      const p = `model.layers.${l}.`;
      return {
        attnNorm: norm(`${p}input_layernorm.weight`),
        wq: m(`${p}self_attn.q_proj.weight`, [Q, D], { into: 'wqkv', binds: 6, label: 'stacked q/k/v projection' }),
        wk: m(`${p}self_attn.k_proj.weight`, [KV, D], { into: 'wqkv', binds: 6, label: 'stacked q/k/v projection' }),
        wv: m(`${p}self_attn.v_proj.weight`, [KV, D], { into: 'wqkv', binds: 6, label: 'stacked q/k/v projection' }),
        ...(c.qkvBias ? { bq: bias(`${p}self_attn.q_proj.bias`, Q, 'bqkv'), bk: bias(`${p}self_attn.k_proj.bias`, KV, 'bqkv'), bv: bias(`${p}self_attn.v_proj.bias`, KV, 'bqkv') } : {}),
        wo: m(`${p}self_attn.o_proj.weight`, [D, Q], { label: 'o_proj' }),
        ...(c.oBias ? { bo: bias(`${p}self_attn.o_proj.bias`, D) } : {}),
        mlpNorm: norm(`${p}post_attention_layernorm.weight`),
        wGate: m(`${p}mlp.gate_proj.weight`, [I, D], { into: 'wGateUp', binds: 4, label: 'stacked gate/up projection' }),
        wUp: m(`${p}mlp.up_proj.weight`, [I, D], { into: 'wGateUp', binds: 4, label: 'stacked gate/up projection' }),
        wDown: m(`${p}mlp.down_proj.weight`, [D, I], { label: 'down_proj' }),
        ...(c.mlpBias ? { bGate: bias(`${p}mlp.gate_proj.bias`, I, 'bGateUp'), bUp: bias(`${p}mlp.up_proj.bias`, I, 'bGateUp'), bDown: bias(`${p}mlp.down_proj.bias`, D) } : {}),
      };
    },
  };
}

/** f32 activations per row of a pass (one buffer each): the residual stream, the normed input, q/k/v, attention out, the MLP's three. */
export function llamaActivations(c: ModelConfig): Record<string, number> {
  const D = c.hiddenSize;
  const Q = c.numHeads * c.headDim;
  const KV = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  return { x: D, h: D, q: Q, k: KV, v: KV, att: Q, gate: I, up: I, act: I };
}
