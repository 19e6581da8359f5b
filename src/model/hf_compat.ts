// Where @huggingface/tokenizers, given a tokenizer.json as it is, would give other ids or text than
// HF `transformers` 5 (the oracle of tests/unit/hf_tokenizers.test.ts), the tokenizer.json is
// adjusted here before the library sees it. Each rule names the transformers code it follows.
type Json = Record<string, unknown>;

const SP = '\u2581'; // SentencePiece's visible space

/** GPT-2's pre-tokenizer pattern, as the Rust `tokenizers` ByteLevel pre-tokenizer runs it. */
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * The library's ByteLevel pre-tokenizer splits with a JS regex whose `\s` also takes U+FEFF (a
 * byte-order mark) and misses U+0085, unlike Rust's: GPT-2 then cuts " \uFEFF" in two where HF
 * keeps one piece. Its Split pre-tokenizer translates `\s` to Unicode White_Space as Rust does, so
 * ByteLevel(use_regex) becomes Split(GPT-2 pattern, isolated) + ByteLevel(no regex): the same
 * pieces, split the Rust way. Only without add_prefix_space, which ByteLevel applies before splitting.
 */
function byteLevelSplitTheRustWay(pre: unknown): unknown[] {
  if (!pre || typeof pre !== 'object') return [pre];
  const p = pre as Json;
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) return [{ ...p, pretokenizers: p.pretokenizers.flatMap(byteLevelSplitTheRustWay) }];
  if (p.type !== 'ByteLevel' || p.use_regex === false || p.add_prefix_space === true) return [pre];
  return [{ type: 'Split', pattern: { Regex: GPT2_PATTERN }, behavior: 'Isolated', invert: false }, { ...p, use_regex: false }];
}

const isLegacySentencePieceNormalizer = (n: unknown): boolean => {
  const steps = (n as { type?: string; normalizers?: Json[] } | null)?.normalizers;
  return (
    (n as Json | null)?.type === 'Sequence' &&
    Array.isArray(steps) &&
    steps.length === 2 &&
    steps[0]?.type === 'Prepend' &&
    steps[0]?.prepend === SP &&
    steps[1]?.type === 'Replace' &&
    (steps[1]?.pattern as Json | undefined)?.String === ' ' &&
    steps[1]?.content === SP
  );
};

/**
 * transformers 5 builds a `LlamaTokenizer` from its class (models/llama/tokenization_llama.py),
 * keeping only the vocabulary and merges of tokenizer.json: no normalizer, and
 * Metaspace(replacement="▁", prepend_scheme, split=False) with prepend_scheme "first" unless
 * tokenizer_config says legacy=true ("always") or add_prefix_space=false ("never"). Against
 * tokenizer.json's Prepend("▁") normalizer that means: no "▁" after a special token when
 * legacy=false (TinyLlama's "</s>\n" chat turns are [2, 13], not [2, 29871, 13]) and one "▁", not
 * two, before text that starts with a space. Only for SentencePiece-style BPE (byte fallback):
 * a byte-level tokenizer.json mislabelled LlamaTokenizer is a known transformers 5 bug, not a rule.
 */
function llamaClassPipeline(tj: Json, cfg: Json): void {
  if (cfg.tokenizer_class !== 'LlamaTokenizer' && cfg.tokenizer_class !== 'LlamaTokenizerFast') return;
  const model = tj.model as Json;
  if (model.type !== 'BPE' || model.byte_fallback !== true) return;
  const metaspace = (tj.pre_tokenizer as Json | null)?.type === 'Metaspace' && !tj.normalizer;
  if (!metaspace && !(isLegacySentencePieceNormalizer(tj.normalizer) && !tj.pre_tokenizer)) return;
  const prependScheme = cfg.add_prefix_space === false ? 'never' : cfg.legacy === true ? 'always' : 'first';
  tj.normalizer = null;
  tj.pre_tokenizer = { type: 'Metaspace', replacement: SP, prepend_scheme: prependScheme, split: false };
}

/**
 * transformers 5 builds a `GPT2Tokenizer` from its class (models/gpt2/tokenization_gpt2.py) with
 * the vocabulary and merges of tokenizer.json and a plain ByteLevel pre-tokenizer: whatever else
 * tokenizer.json's pre-tokenizer does is dropped. SmolLM2's (and pycode-20M's) splits digits first
 * (Digits(individual_digits) before ByteLevel), which HF then does not: the GPT-2 pattern sees a run
 * of whitespace together with the digit after it, so "\n\n1." is "\n", "\n", "1", "." for HF
 * ([198, 198, 33, 30]) where the Digits split would give "\n\n" (1116). Its merges join no
 * digits, so digit runs still come out one digit per token.
 */
function gpt2ClassPipeline(tj: Json, cfg: Json): void {
  if (cfg.tokenizer_class !== 'GPT2Tokenizer' && cfg.tokenizer_class !== 'GPT2TokenizerFast') return;
  if ((tj.model as Json).type !== 'BPE') return;
  const pre = tj.pre_tokenizer as Json | null;
  if (pre?.type !== 'Sequence' || !Array.isArray(pre.pretokenizers)) return;
  const byteLevel = (pre.pretokenizers as Json[]).find((p) => p.type === 'ByteLevel');
  if (!byteLevel) return;
  tj.pre_tokenizer = { ...byteLevel, use_regex: true, add_prefix_space: cfg.add_prefix_space === true };
}

/** Adjusts a parsed tokenizer.json in place so the library encodes as transformers 5 does. */
export function matchTransformers(tj: Json, cfg: Json): void {
  gpt2ClassPipeline(tj, cfg);
  const pre = byteLevelSplitTheRustWay(tj.pre_tokenizer);
  tj.pre_tokenizer = pre.length === 1 ? pre[0] : { type: 'Sequence', pretokenizers: pre };
  llamaClassPipeline(tj, cfg);
}

/**
 * Whether decode() cleans up spaces before punctuation (" ." -> "."). transformers 5 defaults
 * clean_up_tokenization_spaces to false and ignores it for BPE models, where it corrupts text
 * ("x != y" -> "x!= y"; TokenizersBackend._decode); the library would default it to true.
 */
export function cleansUpSpaces(tj: Json, cfg: Json): boolean {
  const model = tj.model as Json;
  const bpe = model.type === 'BPE' || (model.type === undefined && 'merges' in model);
  return !bpe && cfg.clean_up_tokenization_spaces === true;
}
