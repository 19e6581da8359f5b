// The synthetic presets: config.json contents (the fields that matter for shapes and kernels) of
// real checkpoints. Plain data, apart from synthetic.ts's GPU code, so the app's page can list them
// without bundling any kernel.
import { parseConfig, type ModelConfig } from '../model/config';

/** config.json contents (the fields that matter for shapes and kernels) of each preset. */
export const PRESETS = {
  // HuggingFaceTB/SmolLM2-135M
  'smollm2-135m': {
    model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
    num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, tie_word_embeddings: true,
    max_position_embeddings: 8192, rms_norm_eps: 1e-5, rope_theta: 100000, bos_token_id: 0, eos_token_id: 0,
  },
  // Qwen/Qwen2.5-0.5B: q/k/v biases come with model_type qwen2
  'qwen2.5-0.5b': {
    model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
    num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: true,
    max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, use_sliding_window: false,
    sliding_window: 32768, max_window_layers: 24, bos_token_id: 151643, eos_token_id: 151643,
  },
  // meta-llama/Llama-3.2-1B
  'llama-3.2-1b': {
    model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
    num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, tie_word_embeddings: true,
    max_position_embeddings: 131072, rms_norm_eps: 1e-5, rope_theta: 500000,
    rope_scaling: { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
    bos_token_id: 128000, eos_token_id: 128001,
  },
  // mistralai/Mistral-7B (v0.3 attention: no sliding window; vocabulary 32000 as in v0.1/v0.2)
  'mistral-7b': {
    model_type: 'mistral', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
    num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 32000, tie_word_embeddings: false,
    max_position_embeddings: 32768, rms_norm_eps: 1e-5, rope_theta: 1000000, sliding_window: null,
    bos_token_id: 1, eos_token_id: 2,
  },
  // openai-community/gpt2-large: learned positions, LayerNorm, GELU, biases, tied head, 20 heads of 64
  'gpt2-large': {
    model_type: 'gpt2', n_embd: 1280, n_head: 20, n_layer: 36, n_positions: 1024, vocab_size: 50257,
    activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, bos_token_id: 50256, eos_token_id: 50256,
  },
  // Small enough for SwiftShader (CI); untied, so the separate lm_head path is exercised too.
  tiny: {
    model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 512, tie_word_embeddings: false,
    max_position_embeddings: 2048, rms_norm_eps: 1e-5, rope_theta: 10000, bos_token_id: 1, eos_token_id: 2,
  },
} as const satisfies Record<string, Record<string, unknown>>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function isPreset(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

/** The preset's ModelConfig, through parseConfig so it is validated like a real config.json. */
export function presetConfig(name: string): ModelConfig {
  if (!isPreset(name)) throw new Error(`unknown synthetic preset "${name}" (known: ${PRESET_NAMES.join(', ')})`);
  return parseConfig(JSON.parse(JSON.stringify(PRESETS[name])));
}
