// Paths to the shared fixtures (read in place, never copied into the repo).
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { TextTokenizer } from '../../src/model/tokenizer';

export const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');
export const MODELS = path.join(FIXTURES, 'models');
export const GOLDEN_MODELS = ['stories260K', 'pycode-20M', 'llama-gqa-tied-f32', 'llama3-ropescaled-bf16', 'mistral-swa-f16', 'qwen2-bias-f16', 'gpt2-f32'] as const;

export function modelDir(name: string): string {
  return path.join(MODELS, name);
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** The app presets' real tokenizers (tokenizer.json, tokenizer_config.json, config.json). */
export const TOKENIZERS = path.join(FIXTURES, 'tokenizers');

/** A preset's tokenizer, its tokenizer_config.json edited by `config` first when given. */
export function presetTokenizer(name: string, config?: (cfg: Record<string, unknown>) => void): TextTokenizer {
  const dir = path.join(TOKENIZERS, name);
  const vocabSize = readJson<{ vocab_size: number }>(path.join(dir, 'config.json')).vocab_size;
  const cfg = readJson<Record<string, unknown>>(path.join(dir, 'tokenizer_config.json'));
  config?.(cfg);
  return new TextTokenizer(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'), JSON.stringify(cfg), vocabSize);
}

export interface GreedyCase {
  prompt?: string;
  prompt_ids: number[];
  continuation_ids: number[];
  text?: string;
  /** pycode-20M: the oracle's greedy ids with its weights quantized as our int8 (group 128) */
  sim_int8_g128_ids?: number[];
  sim_int4_g32_ids?: number[];
}

export interface Reference {
  input_ids: number[];
  logits_shape: [number, number];
  greedy: GreedyCase | GreedyCase[];
}

export function reference(name: string): { ref: Reference; logits: Float32Array } {
  const ref = readJson<Reference>(path.join(modelDir(name), 'reference.json'));
  const buf = readFileSync(path.join(modelDir(name), 'reference_logits.f32'));
  const logits = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { ref, logits };
}
