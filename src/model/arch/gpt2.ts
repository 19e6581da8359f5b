// GPT-2 (model_type gpt2): config rules and the one weight table. Learned absolute positions,
// LayerNorm with bias, GELU (tanh) MLP, biases on every projection, multi-head attention, and
// Conv1D weights stored [in, out] (transposed on load to the [out, in] the kernels read). Its block
// is gpt2_block.ts.
import { ConfigError, UnsupportedModelError, checkHeadDim, eosIds, int, normEps, num, vocabSize, type Json, type ModelConfig, type Slot, type WeightTable } from './common';

/** GELU variants that are the tanh approximation the kernel computes. */
const TANH_GELU = ['gelu_new', 'gelu_pytorch_tanh'];

/** config.json of a gpt2 checkpoint (GPT2Config's names and defaults). */
export function parseGpt2Config(c: Json): ModelConfig {
  const act = c.activation_function ?? 'gelu_new';
  if (!TANH_GELU.includes(act as string)) {
    throw new UnsupportedModelError(`activation_function ${JSON.stringify(act)} is not supported (GPT-2 models: ${TANH_GELU.join(', ')})`);
  }
  if (c.scale_attn_by_inverse_layer_idx === true) throw new UnsupportedModelError('scale_attn_by_inverse_layer_idx is not supported');
  if (c.scale_attn_weights === false) throw new UnsupportedModelError('scale_attn_weights = false is not supported');
  if (c.add_cross_attention === true) throw new UnsupportedModelError('add_cross_attention is not supported (a decoder-only GPT-2 is)');
  const hiddenSize = int(c, 'n_embd', { max: 65536 });
  const numHeads = int(c, 'n_head', { max: 1024 });
  if (hiddenSize % numHeads !== 0) throw new ConfigError(`config.json: n_embd (${hiddenSize}) must be a multiple of n_head (${numHeads})`);
  const numLayers = int(c, 'n_layer', { max: 1024 });
  const bos = c.bos_token_id ?? 50256;
  return {
    arch: 'gpt2',
    modelType: 'gpt2',
    hiddenSize,
    intermediateSize: c.n_inner == null ? 4 * hiddenSize : int(c, 'n_inner', { max: 1 << 20 }),
    numLayers,
    numHeads,
    numKvHeads: numHeads,
    headDim: checkHeadDim(hiddenSize / numHeads),
    vocabSize: vocabSize(c),
    maxPositionEmbeddings: int(c, 'n_positions', { fallback: typeof c.n_ctx === 'number' ? c.n_ctx : 1024, max: 1 << 20 }),
    normEps: normEps('layer_norm_epsilon', num(c, 'layer_norm_epsilon', 1e-5)),
    rope: null,
    // GPT2LMHeadModel ties lm_head to wte unless the config says otherwise.
    tieWordEmbeddings: c.tie_word_embeddings !== false,
    layerWindows: new Array<number>(numLayers).fill(0),
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    bosTokenId: typeof bos === 'number' ? bos : null,
    eosTokenIds: eosIds(c.eos_token_id ?? 50256),
  };
}

/**
 * HF name -> our name and shape. c_attn's [D, 3D] Conv1D weight transposes to the stacked q/k/v
 * rows [3D, D] the Llama block also reads, so no stacking is needed. Checkpoints name the tensors
 * with or without the "transformer." prefix (openai-community/gpt2 has none).
 */
export function gpt2Weights(c: ModelConfig): WeightTable {
  const D = c.hiddenSize;
  const I = c.intermediateSize;
  const V = c.vocabSize;
  const P = c.maxPositionEmbeddings;
  const named = (hf: string) => ({ hf: `transformer.${hf}`, aliases: [hf] });
  // A Conv1D weight: stored [in, out], read [out, in].
  const conv = (hf: string, inDim: number, outDim: number, label: string, binds = 3): Slot => ({
    ...named(hf), shape: [outDim, inDim], hfShape: [inDim, outDim], transform: 'transpose', kind: 'matrix', label, binds,
  });
  const vec = (hf: string, n: number, kind: 'norm' | 'bias'): Slot => ({ ...named(hf), shape: [n], kind });
  return {
    global: {
      embed: { ...named('wte.weight'), shape: [V, D], kind: 'matrix', label: 'embedding table', binds: 3 },
      // Position embeddings stay f32, like norms: P x D is small next to the matrices.
      positions: { ...named('wpe.weight'), shape: [P, D], kind: 'table' },
      finalNorm: vec('ln_f.weight', D, 'norm'),
      finalNormBias: vec('ln_f.bias', D, 'bias'),
      ...(c.tieWordEmbeddings ? {} : { lmHead: { hf: 'lm_head.weight', shape: [V, D], kind: 'matrix', label: 'lm_head', binds: 3 } satisfies Slot }),
    },
    layer: (l) => {
      const p = `h.${l}.`;
      return {
        attnNorm: vec(`${p}ln_1.weight`, D, 'norm'),
        attnNormBias: vec(`${p}ln_1.bias`, D, 'bias'),
        wqkv: conv(`${p}attn.c_attn.weight`, D, 3 * D, 'q/k/v projection (c_attn)', 5),
        bqkv: vec(`${p}attn.c_attn.bias`, 3 * D, 'bias'),
        wo: conv(`${p}attn.c_proj.weight`, D, D, 'attention projection (c_proj)'),
        bo: vec(`${p}attn.c_proj.bias`, D, 'bias'),
        mlpNorm: vec(`${p}ln_2.weight`, D, 'norm'),
        mlpNormBias: vec(`${p}ln_2.bias`, D, 'bias'),
        wUp: conv(`${p}mlp.c_fc.weight`, D, I, 'MLP c_fc'),
        bUp: vec(`${p}mlp.c_fc.bias`, I, 'bias'),
        wDown: conv(`${p}mlp.c_proj.weight`, I, D, 'MLP c_proj'),
        bDown: vec(`${p}mlp.c_proj.bias`, D, 'bias'),
      };
    },
  };
}

/** f32 activations per row of a pass: residual stream, normed input, q/k/v, attention out, c_fc out, GELU out. */
export function gpt2Activations(c: ModelConfig): Record<string, number> {
  const D = c.hiddenSize;
  const I = c.intermediateSize;
  return { x: D, h: D, q: D, k: D, v: D, att: D, up: I, act: I };
}
