// Models offered with one click. All are real Hugging Face repos in safetensors, openly
// downloadable (no licence gate), and of a model_type the engine runs.
import type { PresetName } from '../src/bench/presets';
import type { ModelRef } from './protocol';

export interface Preset {
  repo: string;
  label: string;
  /** parameter count, for the list */
  params: string;
  /** size of the safetensors download */
  download: string;
  /** the checkpoint's dtype (bf16 unless stated; GPT-2's are f32, with each layer's causal mask stored too) */
  dtype?: 'f32';
  /**
   * needs more GPU memory than a typical laptop has for two engines: it loads Q4 alone unless the
   * user picks a pair, and its badge says what that needs, computed from `config` (config.json's
   * shape fields, so the number is there before anything is fetched)
   */
  large?: { config: Record<string, unknown> };
}

// mistralai/Mistral-7B-Instruct-v0.3's config.json, the fields the memory plan reads (the whole file
// is tests/data/configs/Mistral-7B-Instruct-v0.3.json; tests/unit/engines.test.ts checks they agree).
const MISTRAL_7B_V03 = {
  model_type: 'mistral', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
  num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 32768, tie_word_embeddings: false,
  max_position_embeddings: 32768, rms_norm_eps: 1e-5, rope_theta: 1e6, sliding_window: null, bos_token_id: 1, eos_token_id: 2,
};

export const PRESETS: Preset[] = [
  { repo: 'HuggingFaceTB/SmolLM2-135M-Instruct', label: 'SmolLM2 135M Instruct', params: '135M', download: '270 MB' },
  { repo: 'HuggingFaceTB/SmolLM2-360M-Instruct', label: 'SmolLM2 360M Instruct', params: '362M', download: '724 MB' },
  { repo: 'Qwen/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', params: '494M', download: '988 MB' },
  { repo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', label: 'TinyLlama 1.1B Chat', params: '1.1B', download: '2.2 GB' },
  // Meta's own repo is gated; unsloth's mirror holds the same weights without a licence click.
  { repo: 'unsloth/Llama-3.2-1B-Instruct', label: 'Llama 3.2 1B Instruct', params: '1.24B', download: '2.5 GB' },
  // Base models without a chat template: the prompt is continued as text.
  { repo: 'openai-community/gpt2', label: 'GPT-2 (base)', params: '124M', download: '548 MB', dtype: 'f32' },
  { repo: 'openai-community/gpt2-large', label: 'GPT-2 Large (base)', params: '774M', download: '3.25 GB', dtype: 'f32' },
  { repo: 'mistralai/Mistral-7B-Instruct-v0.3', label: 'Mistral 7B Instruct v0.3', params: '7.25B', download: '14.5 GB', large: { config: MISTRAL_7B_V03 } },
];

/**
 * Synthetic models (src/bench/presets.ts): the shapes of real checkpoints with deterministic random
 * weights generated on the GPU. Nothing is downloaded; speeds and memory are the real model's, the
 * text is meaningless.
 */
export interface SyntheticPreset {
  preset: PresetName;
  label: string;
  /** as Preset's large; the shapes are the preset's own (src/bench/presets.ts) */
  large?: boolean;
}

export const SYNTHETIC_PRESETS: SyntheticPreset[] = [
  { preset: 'tiny', label: 'Tiny test model' },
  { preset: 'smollm2-135m', label: 'SmolLM2 135M shapes' },
  { preset: 'qwen2.5-0.5b', label: 'Qwen2.5 0.5B shapes' },
  { preset: 'llama-3.2-1b', label: 'Llama 3.2 1B shapes' },
  { preset: 'gpt2-large', label: 'GPT-2 Large shapes' },
  { preset: 'mistral-7b', label: 'Mistral 7B shapes', large: true },
];

/** Whether the model is a preset marked large (it then starts with Q4 alone: app/engines.ts LARGE_DEFAULT). */
export function isLargeModel(m: ModelRef | null): boolean {
  if (m?.kind === 'hub') return PRESETS.some((p) => p.repo === m.repo && p.large);
  if (m?.kind === 'synthetic') return SYNTHETIC_PRESETS.some((p) => p.preset === m.preset && p.large);
  return false;
}
