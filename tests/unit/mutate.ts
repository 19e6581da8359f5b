// A seeded mutator of a model folder's files (config.json, model.safetensors, tokenizer.json,
// tokenizer_config.json), shared by the CPU fuzz test (tests/unit/fuzz.test.ts) and the GPU one
// (tests/gpu/robustness.test.ts). Mutations are structure-aware where a random byte would only
// ever hit "not JSON": a field of config.json set to an awkward value, one tensor's dtype, shape or
// offsets changed in a header that is then re-serialized with a correct length, and so on.
import { ConfigError, UnsupportedModelError } from '../../src/model/config';
import { SafetensorsError } from '../../src/model/safetensors';
import { WeightError } from '../../src/model/weights';
import { TokenizerError } from '../../src/model/tokenizer';
import { MissingFileError } from '../../src/model/source';
import { ModelTooLargeError } from '../../src/model/memory';
import { ContextOverflowError } from '../../src/model/engine';

/** The errors a bad model file may end in: each names the file and what is wrong with it. */
export const NAMED_ERRORS = [ConfigError, UnsupportedModelError, SafetensorsError, WeightError, TokenizerError, MissingFileError, ModelTooLargeError, ContextOverflowError];

export function isNamedError(e: unknown): boolean {
  return NAMED_ERRORS.some((c) => e instanceof c);
}

export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(a: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32, as in tests/gpu/harness.ts. */
export function rngFrom(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (arr) => arr[Math.floor(next() * arr.length)]!, chance: (p) => next() < p };
}

const AWKWARD: unknown[] = [0, -1, 1, 2, 3, 4, 7, 8, 63, 64, 65, 511, 512, 513, 4096, 1e9, 2 ** 31, 2 ** 53, 2 ** 64, 1.5, -0.5, 1e-300, null, true, false, 'x', '64', '', [], [1], [1, 2, 3, 4, 5], {}, { a: 1 }];
const CONFIG_KEYS = [
  'model_type', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim',
  'vocab_size', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'rope_scaling', 'rope_parameters', 'tie_word_embeddings',
  'hidden_act', 'sliding_window', 'layer_types', 'use_sliding_window', 'max_window_layers', 'eos_token_id', 'bos_token_id', 'attention_bias', 'mlp_bias',
];
const ROPE: unknown[] = [
  { rope_type: 'linear', factor: 0 }, { rope_type: 'linear', factor: 2 }, { type: 'linear' }, { rope_type: 'llama3', factor: 8 },
  { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 1, original_max_position_embeddings: 512 },
  { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 512 },
  { rope_type: 'yarn', factor: 4 }, { rope_type: 'dynamic' }, { rope_theta: -1 }, { rope_theta: 1e6 }, 'linear', 5,
];
const DTYPES: unknown[] = ['F64', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'f32', '', null, 4, ['F32'], 'F16', 'BF16', 'F32'];
const TOK_PARTS = ['model', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'added_tokens'];
const TOK_VALUES: unknown[] = [null, 5, 'x', [], {}, { type: 'Nope' }, { type: 'BPE' }, { type: 'Replace' }, { type: 'Sequence', decoders: [null] }, { type: 'Sequence', normalizers: 3 }, [{ id: 'x' }], [{ id: 1e9, content: '<big>', special: true }]];

/** A ChatML template of the usual shape (system default, role checks, generation prompt), to mutate. */
export const CHATML =
  "{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
  "{% for message in messages %}{% if message['role'] not in ['system', 'user', 'assistant'] %}{{ raise_exception('unknown role') }}{% endif %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export const MUTATION_KINDS = [
  'config-text', 'config-field', 'config-fields', 'config-rope',
  'st-truncate', 'st-bytes', 'st-length', 'st-tensor', 'st-header', 'st-data',
  'tok-text', 'tok-field', 'tok-vocab', 'tok-config', 'file-missing',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface Mutation {
  kind: MutationKind;
  /** what was changed, for failure messages */
  detail: string;
  files: Map<string, Uint8Array>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (b: Uint8Array) => JSON.parse(dec.decode(b)) as Record<string, unknown>;

/** Splits a safetensors file into its header object and data section. */
export function splitSafetensors(file: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const len = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(dec.decode(file.subarray(8, 8 + len))) as Record<string, unknown>, data: file.subarray(8 + len) };
}

/** Builds a safetensors file from header JSON text (as given, duplicates and all) and data. */
export function joinSafetensors(headerText: string, data: Uint8Array): Uint8Array {
  const h = enc.encode(headerText);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function byteNoise(b: Uint8Array, rng: Rng, from: number, to: number, count: number): Uint8Array {
  const out = b.slice();
  for (let i = 0; i < count; i++) out[from + rng.int(Math.max(1, to - from))] = rng.int(256);
  return out;
}

function textMutation(b: Uint8Array, rng: Rng): { bytes: Uint8Array; detail: string } {
  const r = rng.int(3);
  if (r === 0) {
    const at = rng.int(b.length);
    return { bytes: b.subarray(0, at), detail: `cut at ${at} of ${b.length}` };
  }
  if (r === 1) return { bytes: byteNoise(b, rng, 0, b.length, 1 + rng.int(6)), detail: 'random bytes' };
  const junk = rng.pick(['', 'null', '[]', '"x"', '{', '}', '1e999', '{"a":', '\u0000', '{"model_type":"llama"}', '\uFEFF{}']);
  return { bytes: enc.encode(junk), detail: `replaced by ${JSON.stringify(junk)}` };
}

function mutateConfig(c: Record<string, unknown>, rng: Rng, n: number): string {
  const changes: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = rng.pick(CONFIG_KEYS);
    if (rng.chance(0.15)) {
      delete c[key];
      changes.push(`-${key}`);
      continue;
    }
    const orig = c[key];
    let v: unknown = rng.pick(AWKWARD);
    // Plausible-looking changes too: doubled or halved sizes get past the type checks.
    if (typeof orig === 'number' && rng.chance(0.3)) v = rng.chance(0.5) ? orig * 2 : Math.floor(orig / 2);
    if (key === 'model_type' && rng.chance(0.5)) v = rng.pick(['gpt2', 'llama', 'mistral', 'qwen2', 'LLAMA', 'gemma']);
    if (key === 'layer_types' && rng.chance(0.6)) v = Array.from({ length: rng.int(8) }, () => rng.pick(['sliding_attention', 'full_attention', 3]));
    c[key] = v;
    changes.push(`${key}=${JSON.stringify(v)}`);
  }
  return changes.join(' ');
}

function mutateTensor(header: Record<string, unknown>, rng: Rng): { text: string; detail: string } {
  const names = Object.keys(header).filter((n) => n !== '__metadata__');
  const name = rng.pick(names);
  const t = header[name] as { dtype: unknown; shape: unknown; data_offsets: unknown };
  const shape = t.shape as number[];
  const offs = t.data_offsets as [number, number];
  switch (rng.int(9)) {
    case 0:
      t.dtype = rng.pick(DTYPES);
      return { text: JSON.stringify(header), detail: `${name}.dtype=${JSON.stringify(t.dtype)}` };
    case 1: {
      const s = [...shape];
      const op = rng.int(5);
      if (op === 0) s.push(1 + rng.int(3));
      else if (op === 1) s.pop();
      else if (op === 2) s[rng.int(s.length)] = rng.pick(AWKWARD) as number;
      else if (op === 3) s.reverse();
      else s[0] = (s[0] ?? 1) * 2;
      t.shape = rng.chance(0.1) ? rng.pick(AWKWARD) : s;
      return { text: JSON.stringify(header), detail: `${name}.shape=${JSON.stringify(t.shape)}` };
    }
    case 2: {
      const d = rng.pick([1, 2, 4, -4, -1, 64, 1 << 20, 2 ** 53]);
      t.data_offsets = rng.chance(0.5) ? [offs[0] + d, offs[1] + d] : rng.chance(0.5) ? [offs[0], offs[1] + d] : [offs[1], offs[0]];
      return { text: JSON.stringify(header), detail: `${name}.data_offsets=${JSON.stringify(t.data_offsets)}` };
    }
    case 3:
      t.data_offsets = rng.pick(AWKWARD);
      return { text: JSON.stringify(header), detail: `${name}.data_offsets=${JSON.stringify(t.data_offsets)}` };
    case 4:
      delete header[name];
      return { text: JSON.stringify(header), detail: `deleted ${name}` };
    case 5: {
      // Another tensor's name: two descriptions under one key (JSON.parse would keep the last).
      const other = rng.pick(names);
      const text = JSON.stringify(header);
      return { text: `${text.slice(0, -1)},${JSON.stringify(other)}:${JSON.stringify(header[name])}}`, detail: `duplicate "${other}"` };
    }
    case 6: {
      const other = rng.pick(names.filter((n) => n !== name));
      header[`${name}.renamed`] = t;
      delete header[name];
      if (rng.chance(0.5)) (header[other] as { data_offsets: unknown }).data_offsets = offs; // overlap
      return { text: JSON.stringify(header), detail: `renamed ${name}, maybe overlapping ${other}` };
    }
    case 7:
      header[name] = rng.pick(AWKWARD);
      return { text: JSON.stringify(header), detail: `${name}=${JSON.stringify(header[name])}` };
    default:
      header.__metadata__ = rng.pick(AWKWARD);
      return { text: JSON.stringify(header) + ' '.repeat(rng.int(9)), detail: `__metadata__=${JSON.stringify(header.__metadata__)}` };
  }
}

function mutateTemplate(template: string, rng: Rng): string {
  const at = rng.int(template.length);
  const r = rng.int(4);
  if (r === 0) return template.slice(0, at);
  if (r === 1) return template.slice(0, at) + rng.pick(['{%', '%}', '{{', '}}', '{% endfor %}', '{% if %}', '|', '(', '"', "raise_exception('x')", '{{ messages[5].content }}', '{{ x.y.z() }}']) + template.slice(at);
  if (r === 2) return template.slice(0, at) + template.slice(at + 1 + rng.int(10));
  return "{{ raise_exception('this model refuses') }}";
}

/** One seeded mutation of one file of the model (of kind `only` when given). */
export function mutateModel(original: Map<string, Uint8Array>, rng: Rng, chatTemplate: string, only?: MutationKind): Mutation {
  const files = new Map(original);
  const kind = only ?? rng.pick(MUTATION_KINDS);
  let detail = '';
  const st = original.get('model.safetensors')!;
  switch (kind) {
    case 'config-text': {
      const m = textMutation(original.get('config.json')!, rng);
      files.set('config.json', m.bytes);
      detail = m.detail;
      break;
    }
    case 'config-field':
    case 'config-fields': {
      const c = json(original.get('config.json')!);
      detail = mutateConfig(c, rng, kind === 'config-field' ? 1 : 2 + rng.int(3));
      files.set('config.json', enc.encode(JSON.stringify(c)));
      break;
    }
    case 'config-rope': {
      const c = json(original.get('config.json')!);
      c[rng.pick(['rope_scaling', 'rope_parameters'])] = rng.pick(ROPE);
      detail = JSON.stringify(c.rope_scaling ?? c.rope_parameters);
      files.set('config.json', enc.encode(JSON.stringify(c)));
      break;
    }
    case 'st-truncate': {
      const len = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
      const at = rng.chance(0.3) ? rng.int(8 + len) : 8 + len + rng.int(st.length - 8 - len);
      files.set('model.safetensors', st.subarray(0, at));
      detail = `cut at ${at} of ${st.length}`;
      break;
    }
    case 'st-bytes': {
      const len = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
      files.set('model.safetensors', byteNoise(st, rng, 0, 8 + len, 1 + rng.int(4)));
      detail = 'random bytes in the header';
      break;
    }
    case 'st-length': {
      const out = st.slice();
      const len = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
      const v = rng.pick([0n, 1n, BigInt(len - 1), BigInt(len + 1), BigInt(len - 8), 2n ** 32n, 2n ** 53n, 2n ** 64n - 1n, BigInt(st.length)]);
      new DataView(out.buffer).setBigUint64(0, v, true);
      files.set('model.safetensors', out);
      detail = `header length ${v}`;
      break;
    }
    case 'st-tensor': {
      const { header, data } = splitSafetensors(st);
      const m = mutateTensor(header, rng);
      files.set('model.safetensors', joinSafetensors(m.text, data));
      detail = m.detail;
      break;
    }
    case 'st-header': {
      const { data } = splitSafetensors(st);
      const text = rng.pick(['[]', 'null', '"x"', '{}', '{"__metadata__": 5}', '1', '{"a": null}', '{"a": {"dtype": "F32"}}']);
      files.set('model.safetensors', joinSafetensors(text, data));
      detail = `header ${text}`;
      break;
    }
    case 'st-data': {
      const len = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
      // NaN, Inf and denormal patterns in the weights: the structure is intact, the numbers are not.
      const out = st.slice();
      for (let i = 0; i < 1 + rng.int(64); i++) out.set(rng.pick([[0, 0, 0xc0, 0x7f], [0, 0, 0x80, 0x7f], [0, 0, 0x80, 0xff], [1, 0, 0, 0], [0xff, 0xff, 0xff, 0xff]]), 8 + len + 4 * rng.int((st.length - 8 - len) / 4));
      files.set('model.safetensors', out);
      detail = 'NaN/Inf/denormal weights';
      break;
    }
    case 'tok-text': {
      const m = textMutation(original.get('tokenizer.json')!, rng);
      files.set('tokenizer.json', m.bytes);
      detail = m.detail;
      break;
    }
    case 'tok-field': {
      const t = json(original.get('tokenizer.json')!);
      const part = rng.pick(TOK_PARTS);
      if (rng.chance(0.2)) delete t[part];
      else t[part] = rng.pick(TOK_VALUES);
      detail = `${part}=${JSON.stringify(t[part])}`;
      files.set('tokenizer.json', enc.encode(JSON.stringify(t)));
      break;
    }
    case 'tok-vocab': {
      const t = json(original.get('tokenizer.json')!) as { model: Record<string, unknown> };
      const vocab = t.model.vocab as Record<string, number>;
      const keys = Object.keys(vocab);
      const r = rng.int(5);
      if (r === 0) vocab[rng.pick(keys)] = rng.pick([-1, 1.5, 512, 513, 1e9, 2 ** 53]);
      else if (r === 1) for (let i = 0; i < 50; i++) delete vocab[rng.pick(keys)];
      else if (r === 2) t.model.merges = rng.pick(TOK_VALUES);
      else if (r === 3) t.model.type = rng.pick(['WordPiece', 'Unigram', 'WordLevel', 'BPE', 'Nope', 7]);
      else t.model[rng.pick(['unk_token', 'byte_fallback', 'dropout', 'fuse_unk', 'ignore_merges'])] = rng.pick(AWKWARD);
      detail = `vocab/model mutation ${r}`;
      files.set('tokenizer.json', enc.encode(JSON.stringify(t)));
      break;
    }
    case 'tok-config': {
      const c = json(original.get('tokenizer_config.json')!);
      const r = rng.int(3);
      if (r === 0) c.chat_template = mutateTemplate(chatTemplate, rng);
      else if (r === 1) c.chat_template = rng.pick([5, null, [], [{ name: 'default', template: '{{' }], [{ name: 'tool_use', template: 'x' }], { a: 1 }]);
      else c[rng.pick(['bos_token', 'eos_token'])] = rng.pick(['<nope>', 5, null, { content: '</s>' }, { content: 5 }, '']);
      detail = `tokenizer_config ${JSON.stringify(c.chat_template ?? c.eos_token)}`.slice(0, 200);
      files.set('tokenizer_config.json', enc.encode(JSON.stringify(c)));
      break;
    }
    case 'file-missing': {
      const f = rng.pick(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
      files.delete(f);
      detail = `no ${f}`;
      break;
    }
  }
  return { kind, detail, files };
}
