// Tokenizer and chat template: the Hugging Face libraries do the work (@huggingface/tokenizers
// for tokenizer.json, @huggingface/jinja's sandboxed interpreter for chat templates).
import { Tokenizer } from '@huggingface/tokenizers';
import { Template, Environment, Interpreter } from '@huggingface/jinja';
import { strftime } from './strftime';
import { matchTransformers, cleansUpSpaces } from './hf_compat';

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatTemplateOptions {
  /** end with the header of the assistant's turn (HF's add_generation_prompt); default true */
  addGenerationPrompt?: boolean;
  /** `date_string` for templates that print today's date (Llama 3.x); when absent they call strftime_now */
  dateString?: string;
  /** the clock behind `strftime_now` (tests pin it); default: now */
  now?: () => Date;
}

type Json = Record<string, unknown>;

function parseJson(text: string, file: string): Json {
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (e) {
    throw new TokenizerError(`${file} is not valid: ${(e as Error).message}`);
  }
}

/** Every id in the vocabulary and the added tokens must be an integer in [0, limit). */
function checkIds(tj: Json, limit: number): void {
  const refuse = (id: unknown): never => {
    throw new TokenizerError(`tokenizer.json has token id ${JSON.stringify(id) ?? 'undefined'}, outside the model's vocabulary 0..${limit - 1}: the tokenizer is corrupt or belongs to another model`);
  };
  const ok = (id: unknown): boolean => typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < limit;
  const vocab = (tj.model as Json).vocab;
  // BPE, WordPiece, WordLevel: { piece: id }; Unigram: [[piece, score], ...] whose ids are indices.
  // A plain loop: real vocabularies hold 128k-152k ids, too many to spread into one call's arguments.
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    for (const piece in vocab) {
      const id = (vocab as Json)[piece];
      if (!ok(id)) refuse(id);
    }
  } else if (Array.isArray(vocab) && vocab.length > limit) refuse(vocab.length - 1);
  if (Array.isArray(tj.added_tokens)) for (const t of tj.added_tokens) if (!ok((t as Json | null)?.id)) refuse((t as Json | null)?.id);
}

/** The special token strings of tokenizer_config.json may be plain strings or AddedToken objects. */
function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

export class TextTokenizer {
  private readonly tok: Tokenizer;
  private readonly template: Template | null;
  readonly bosToken?: string;
  readonly eosToken?: string;
  /** the named special tokens of tokenizer_config.json (bos_token, eos_token, ...), as HF hands them to chat templates */
  private readonly specialTokens: Record<string, string> = {};
  /** ids that end generation, from tokenizer_config's eos_token (the model config adds its own). */
  readonly eosIds: number[];
  /** one more than the largest id the tokenizer can produce (added tokens included) */
  readonly idLimit: number;
  private readonly cleanUpSpaces: boolean;

  /**
   * `vocabSize` (config.json's) bounds the ids the tokenizer may use; without it, 2^24. The bound is
   * checked before the library sees the file: it sizes tables by the largest id, so a corrupt id
   * of 1e9 would otherwise cost a minute and gigabytes before any error.
   */
  constructor(tokenizerJson: string, tokenizerConfigJson?: string, vocabSize = 2 ** 24) {
    const tj = parseJson(tokenizerJson, 'tokenizer.json');
    if (!tj.model || typeof tj.model !== 'object') throw new TokenizerError('tokenizer.json has no "model" section');
    checkIds(tj, vocabSize);
    const cfg = tokenizerConfigJson ? parseJson(tokenizerConfigJson, 'tokenizer_config.json') : {};
    // Padding and truncation in tokenizer.json are batch-training settings; generation needs neither.
    delete tj.padding;
    delete tj.truncation;
    matchTransformers(tj, cfg);
    this.cleanUpSpaces = cleansUpSpaces(tj, cfg);
    try {
      this.tok = new Tokenizer(tj, cfg);
    } catch (e) {
      throw new TokenizerError(`tokenizer.json could not be loaded: ${(e as Error).message}`);
    }
    this.bosToken = tokenString(cfg.bos_token);
    this.eosToken = tokenString(cfg.eos_token);
    // Only the tokens the config sets (HF passes its special_tokens_map, which omits unset ones;
    // it also holds a tokenizer class's defaults, e.g. GPT-2's "<|endoftext|>", which a config lacks).
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
      const t = tokenString(cfg[key]);
      if (t !== undefined) this.specialTokens[key] = t;
    }
    const eos = this.eosToken === undefined ? undefined : this.guard('look up the EOS token', () => this.tok.token_to_id(this.eosToken!));
    this.eosIds = typeof eos === 'number' && Number.isInteger(eos) && eos >= 0 ? [eos] : [];
    this.idLimit = this.guard('read the vocabulary', () => {
      let max = -1;
      for (const id of this.tok.get_vocab(true).values()) if (Number.isInteger(id) && id > max) max = id;
      return max + 1;
    });
    if (this.idLimit === 0) throw new TokenizerError('tokenizer.json has an empty vocabulary');
    let template = cfg.chat_template;
    // Some repos ship a list of named templates; "default" is the chat one.
    if (Array.isArray(template)) template = (template as Array<{ name?: string; template?: string }>).find((t) => t.name === 'default')?.template;
    try {
      this.template = typeof template === 'string' ? new Template(template) : null;
    } catch (e) {
      throw new TokenizerError(`the chat template in tokenizer_config.json does not parse: ${(e as Error).message}`);
    }
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  /**
   * A tokenizer.json that parses can still be inconsistent (a merge naming a missing token, a
   * broken normalizer); the library then throws plain TypeErrors at use. Named here, per use.
   */
  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof TokenizerError) throw e;
      throw new TokenizerError(`tokenizer.json is inconsistent: could not ${what}: ${(e as Error).message}`);
    }
  }

  encode(text: string, addSpecialTokens = true): number[] {
    const ids = this.guard('encode text', () => this.tok.encode(text, { add_special_tokens: addSpecialTokens }).ids);
    // A vocabulary with holes maps some pieces to no id at all; never pass that on as a token.
    const bad = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= this.idLimit);
    if (bad >= 0) throw new TokenizerError(`tokenizer.json is inconsistent: it encoded part of the text to ${String(ids[bad])}, which is not a token id`);
    return ids;
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    // The library refuses an empty list; a generation stopped before its first token has one.
    if (ids.length === 0) return '';
    return this.guard('decode ids', () => this.tok.decode(ids, { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: this.cleanUpSpaces }));
  }

  /**
   * The chat template's text for `messages`, as HF `apply_chat_template(..., tokenize=False)`
   * renders it: the same variables (messages, add_generation_prompt, the special token strings,
   * date_string when given, tools and documents as None) and the same functions
   * (raise_exception, strftime_now in the C locale).
   */
  renderChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions = {}): string {
    if (!this.template) throw new TokenizerError('this model has no chat template; use a raw prompt');
    const now = opts.now ?? (() => new Date());
    // @huggingface/jinja interprets the template over these values only: no JS is evaluated and
    // the template sees no globals beyond these, so a hostile template can fail but not run code.
    // Template.render() would declare its own strftime_now (browser locale) and raise_exception
    // (a plain Error) and refuse ours as redeclarations, so the environment is built here.
    const vars: Record<string, unknown> = {
      true: true,
      false: false,
      none: null,
      True: true,
      False: false,
      None: null,
      range: pyRange,
      raise_exception: (message: unknown) => {
        throw new TokenizerError(`the chat template failed to render: ${String(message)}`);
      },
      strftime_now: (format: unknown) => strftime(now(), String(format)),
      ...this.specialTokens,
      messages: messages.map((m) => ({ ...m })),
      tools: null,
      documents: null,
      add_generation_prompt: opts.addGenerationPrompt ?? true,
    };
    if (opts.dateString !== undefined) vars.date_string = opts.dateString;
    const env = new Environment();
    try {
      for (const [name, value] of Object.entries(vars)) env.set(name, value);
      const out = new Interpreter(env).run(this.template.parsed) as { value: unknown };
      return String(out.value);
    } catch (e) {
      if (e instanceof TokenizerError) throw e;
      throw new TokenizerError(`the chat template failed to render: ${(e as Error).message}`);
    }
  }

  /**
   * The chat template's text tokenized, as HF `apply_chat_template(..., tokenize=True)`: without
   * adding special tokens, since the template already wrote BOS and the turn markers.
   */
  applyChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions = {}): number[] {
    return this.encode(this.renderChatTemplate(messages, opts), false);
  }
}

/** Python's range() for templates (jinja's global of that name). */
function pyRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  // A template cannot ask for more numbers than a chat could use.
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (out.length >= 1_000_000) throw new Error('range() too long');
    out.push(i);
  }
  return out;
}

/**
 * Turns a growing list of ids into text deltas. Decoding token by token breaks multi-byte
 * characters and SentencePiece spaces, so the whole tail is decoded and only complete text is
 * emitted (a trailing U+FFFD means a character is still incomplete).
 */
export class StreamingDecoder {
  private ids: number[] = [];
  private emitted = '';
  constructor(private readonly tok: TextTokenizer) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.tok.decode(this.ids);
    if (text.endsWith('\uFFFD')) return '';
    const delta = text.startsWith(this.emitted) ? text.slice(this.emitted.length) : '';
    this.emitted = text;
    return delta;
  }

  get text(): string {
    return this.tok.decode(this.ids);
  }
}
