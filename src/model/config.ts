// One ModelConfig, parsed from Hugging Face `config.json` here: the JSON is checked to be an object,
// its model_type picks the architecture module (src/model/arch), and that module's config rules
// build the config (Llama's accept both the classic `rope_theta` + `rope_scaling` and the newer
// `rope_parameters`; GPT-2's read `n_embd`, `n_head`, ...).
import { architectureFor, type Json, type ModelConfig, ConfigError } from './arch';

export { ConfigError, UnsupportedModelError, SUPPORTED_MODEL_TYPES, parameterCount, type ModelConfig, type ArchName } from './arch';

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
  return architectureFor(c.model_type).parseConfig(c);
}
