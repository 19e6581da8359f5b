// The architectures, listed once. Each is a module: its config rules and its one weight table here
// (plain code the page can import), and its block in <name>_block.ts (kernels; see blocks.ts).
// Adding an architecture means writing those two files and one line in each list.
import { UnsupportedModelError, elements, slotList, type ArchName, type Json, type ModelConfig, type Slot, type WeightTable } from './common';
import { LLAMA_MODEL_TYPES, llamaActivations, llamaWeights, parseLlamaConfig } from './llama';
import { gpt2Activations, gpt2Weights, parseGpt2Config } from './gpt2';

export interface Architecture {
  name: ArchName;
  /** config.json model_type values it runs */
  modelTypes: readonly string[];
  /** config rules: config.json (already an object, model_type one of modelTypes) -> ModelConfig */
  parseConfig(c: Json): ModelConfig;
  /** its one weight table */
  weights(c: ModelConfig): WeightTable;
  /** f32 activation buffers of a pass, in floats per row (allocated by the forward pass and counted by the memory plan) */
  activations(c: ModelConfig): Record<string, number>;
}

export const ARCHITECTURES: Record<ArchName, Architecture> = {
  llama: { name: 'llama', modelTypes: LLAMA_MODEL_TYPES, parseConfig: parseLlamaConfig, weights: llamaWeights, activations: llamaActivations },
  gpt2: { name: 'gpt2', modelTypes: ['gpt2'], parseConfig: parseGpt2Config, weights: gpt2Weights, activations: gpt2Activations },
};

/** Every model_type the engine runs. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.values(ARCHITECTURES).flatMap((a) => a.modelTypes);

/** The architecture that runs `modelType`; throws UnsupportedModelError naming what is supported. */
export function architectureFor(modelType: unknown): Architecture {
  const a = Object.values(ARCHITECTURES).find((x) => x.modelTypes.includes(modelType as string));
  if (!a) {
    throw new UnsupportedModelError(`model_type ${JSON.stringify(modelType)} is not supported; this engine runs ${SUPPORTED_MODEL_TYPES.join(', ')} models`);
  }
  return a;
}

export function weightTable(c: ModelConfig): WeightTable {
  return ARCHITECTURES[c.arch].weights(c);
}

/** Every slot of `c`'s table in load order, keyed "g.embed", "3.wq", ... */
export function modelSlots(c: ModelConfig): Array<[string, Slot]> {
  return slotList(weightTable(c), c.numLayers);
}

/** Parameters of the checkpoint's tensors the model reads (a tied lm_head counted once). */
export function parameterCount(c: ModelConfig): number {
  return modelSlots(c).reduce((a, [, s]) => a + elements(s.shape), 0);
}

/** Where a slot of a layer goes: its stacked target (with its row offset and the target's rows), or itself. */
export function stackedTarget(slots: Record<string, Slot>, field: string): { target: string; offset: number; total: number } | null {
  const into = slots[field]?.into;
  if (!into) return null;
  const parts = Object.values(slots).filter((s) => s.into === into);
  const i = parts.indexOf(slots[field]!);
  const rows = parts.map((s) => s.shape[0]!);
  return { target: into, offset: rows.slice(0, i).reduce((a, b) => a + b, 0), total: rows.reduce((a, b) => a + b, 0) };
}

/** Label of a stacked weight, from its first part's HF name: "model.layers.3.self_attn.wqkv". */
export function stackedLabel(hf: string, target: string): string {
  return hf.replace(/[^.]+\.(weight|bias)$/, target);
}

export * from './common';
