// Models offered with one click. All are real Hugging Face repos in safetensors, openly
// downloadable (no licence gate), and of a model_type the engine runs.
import type { PresetName } from '../src/bench/presets';

export interface Preset {
  repo: string;
  label: string;
  /** parameter count, for the list */
  params: string;
  /** size of the safetensors download (bf16 checkpoints) */
  download: string;
  /** needs more GPU memory than a typical laptop has: both engines stay loaded at once */
  large?: boolean;
}

export const PRESETS: Preset[] = [
  { repo: 'HuggingFaceTB/SmolLM2-135M-Instruct', label: 'SmolLM2 135M Instruct', params: '135M', download: '270 MB' },
  { repo: 'HuggingFaceTB/SmolLM2-360M-Instruct', label: 'SmolLM2 360M Instruct', params: '362M', download: '724 MB' },
  { repo: 'Qwen/Qwen2.5-0.5B-Instruct', label: 'Qwen2.5 0.5B Instruct', params: '494M', download: '988 MB' },
  { repo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', label: 'TinyLlama 1.1B Chat', params: '1.1B', download: '2.2 GB' },
  // Meta's own repo is gated; unsloth's mirror holds the same weights without a licence click.
  { repo: 'unsloth/Llama-3.2-1B-Instruct', label: 'Llama 3.2 1B Instruct', params: '1.24B', download: '2.5 GB' },
  { repo: 'mistralai/Mistral-7B-Instruct-v0.3', label: 'Mistral 7B Instruct v0.3', params: '7.25B', download: '14.5 GB', large: true },
];

/**
 * Synthetic models (src/bench/presets.ts): the shapes of real checkpoints with deterministic random
 * weights generated on the GPU. Nothing is downloaded; speeds and memory are the real model's, the
 * text is meaningless.
 */
export interface SyntheticPreset {
  preset: PresetName;
  label: string;
  large?: boolean;
}

export const SYNTHETIC_PRESETS: SyntheticPreset[] = [
  { preset: 'tiny', label: 'Tiny test model' },
  { preset: 'smollm2-135m', label: 'SmolLM2 135M shapes' },
  { preset: 'qwen2.5-0.5b', label: 'Qwen2.5 0.5B shapes' },
  { preset: 'llama-3.2-1b', label: 'Llama 3.2 1B shapes' },
  { preset: 'mistral-7b', label: 'Mistral 7B shapes', large: true },
];
