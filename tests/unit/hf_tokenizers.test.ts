// The app's tokenizer against HF `transformers`, preset by preset: token ids of a varied text set
// with and without special tokens, decoding, and the chat template's text and ids. The references
// (tests/data/tokenizers/<preset>.json) are made by scripts/hf/make_references.py where
// transformers is installed (tests/data/README.md); a missing one fails the test, never skips it.
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { TextTokenizer, type ChatMessage, type ChatTemplateOptions } from '../../src/model/tokenizer';
import { FIXTURES, readJson } from './fixtures';

const ROOT = path.resolve(__dirname, '../..');
const DATA = path.join(ROOT, 'tests', 'data', 'tokenizers');
// Another folder of references, to try this test on throwaway files: HF_TOKENIZER_REFS=/tmp/refs
const REFS = process.env.HF_TOKENIZER_REFS ? path.resolve(process.env.HF_TOKENIZER_REFS) : DATA;
const MAKE = 'python3 scripts/hf/make_references.py --fixtures ../shared/fixtures --out tests/data';
const PRESETS = ['SmolLM2-135M-Instruct', 'Qwen2.5-0.5B-Instruct', 'TinyLlama-1.1B-Chat-v1.0', 'Llama-3.2-1B-Instruct', 'gpt2'];

interface EncodeCase {
  text: number;
  special: boolean;
  ids?: number[];
  /** the ids of tokenizer.json run by the Rust `tokenizers` library, where they differ from transformers' */
  json_ids?: number[];
  error?: string;
}
interface DecodeCase {
  text: number;
  skip_special_tokens: boolean;
  ids: number[] | null;
  decoded?: string;
  error?: string;
}
interface ChatCase {
  name: string;
  messages: ChatMessage[];
  add_generation_prompt: boolean;
  /** default: transformers' own clock at `clock`; date_string: passed; strftime_*: clock pinned at `clock` */
  variant: 'default' | 'date_string' | 'strftime_kwarg' | 'strftime_patched';
  clock?: string;
  date_string?: string;
  override_worked?: boolean;
  text?: string;
  ids?: number[];
  error?: string;
}
interface Reference {
  preset: string;
  tool_versions: Record<string, string>;
  tokenizer_class: string;
  texts_sha256: string;
  has_chat_template: boolean;
  cases: EncodeCase[];
  decodes: DecodeCase[];
  chat: ChatCase[];
}

const textsFile = readFileSync(path.join(DATA, 'texts.json'));
const texts = (JSON.parse(textsFile.toString('utf8')) as { texts: Array<{ name: string; text: string }> }).texts;
const textsSha256 = createHash('sha256').update(textsFile).digest('hex');

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Where two id lists part, with a few ids either side (llm.c-style: show the first mismatches). */
function idDiff(name: string, ours: number[], hf: number[], jsonIds?: number[]): string {
  let i = 0;
  while (i < ours.length && i < hf.length && ours[i] === hf[i]) i++;
  const around = (ids: number[]) => JSON.stringify(ids.slice(Math.max(0, i - 2), i + 4));
  const rust = jsonIds ? (same(ours, jsonIds) ? '; ours equal tokenizer.json run by the Rust library' : '; the Rust library on tokenizer.json gives a third answer') : '';
  return `${name}: first difference at token ${i} of ${ours.length} (ours) / ${hf.length} (HF): ours ${around(ours)} HF ${around(hf)}${rust}`;
}

function textDiff(name: string, ours: string, hf: string): string {
  let i = 0;
  while (i < ours.length && i < hf.length && ours[i] === hf[i]) i++;
  return `${name}: first difference at character ${i}: ours ${JSON.stringify(ours.slice(Math.max(0, i - 20), i + 40))} HF ${JSON.stringify(hf.slice(Math.max(0, i - 20), i + 40))}`;
}

/** transformers records local ISO times ("2025-03-07T14:05:09.123456"); a Date at that local time. */
function localClock(iso: string): Date {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(iso);
  if (!m) throw new Error(`unreadable clock ${iso}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, s, Math.floor(Number((m[7] ?? '0').padEnd(6, '0')) / 1000));
}

/** Our options for an HF render, or null where HF's render did not take the pinned clock. */
function optionsFor(c: ChatCase): ChatTemplateOptions | null {
  const opts: ChatTemplateOptions = { addGenerationPrompt: c.add_generation_prompt };
  if (c.variant === 'date_string') return { ...opts, dateString: c.date_string };
  if (c.variant !== 'default' && !c.override_worked) return null;
  if (c.clock) {
    const clock = localClock(c.clock);
    return { ...opts, now: () => clock };
  }
  return opts;
}

describe.each(PRESETS)('%s against HF transformers', (name) => {
  const dir = path.join(FIXTURES, 'tokenizers', name);
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  const vocabSize = readJson<{ vocab_size: number }>(path.join(dir, 'config.json')).vocab_size;
  const tok = new TextTokenizer(read('tokenizer.json'), read('tokenizer_config.json'), vocabSize);
  const file = path.join(REFS, `${name}.json`);
  const ref = existsSync(file) ? readJson<Reference>(file) : null;
  const need = (): Reference => {
    if (!ref) throw new Error(`${file} is missing: make it with \`${MAKE}\` where HF transformers is installed (tests/data/README.md)`);
    return ref;
  };

  it('has a reference made by transformers from this texts.json', () => {
    const r = need();
    expect(r.preset).toBe(name);
    expect(r.tool_versions.transformers).toMatch(/^\d+\.\d+/);
    expect(r.texts_sha256, 'texts.json changed since the references were made: regenerate them').toBe(textsSha256);
    expect(r.cases.length).toBe(2 * texts.length);
  });

  it.each([true, false])('encodes every text to the ids HF gives (add_special_tokens=%s)', (special) => {
    const bad: string[] = [];
    for (const c of need().cases.filter((c) => c.special === special)) {
      const t = texts[c.text]!;
      if (!c.ids) bad.push(`${t.name}: HF failed: ${c.error ?? 'no ids'}`);
      else {
        const ours = tok.encode(t.text, special);
        if (!same(ours, c.ids)) bad.push(idDiff(t.name, ours, c.ids, c.json_ids));
      }
    }
    expect(bad, `${bad.length} of ${texts.length} texts differ:\n${bad.slice(0, 10).join('\n')}`).toEqual([]);
  });

  it('decodes HF ids to the text HF decodes them to (special tokens kept and skipped)', () => {
    const bad: string[] = [];
    for (const d of need().decodes) {
      const label = `${texts[d.text]!.name} (skip_special_tokens=${d.skip_special_tokens})`;
      if (d.ids === null || d.decoded === undefined) bad.push(`${label}: HF failed: ${d.error ?? 'nothing decoded'}`);
      else {
        const ours = tok.decode(d.ids, d.skip_special_tokens);
        if (ours !== d.decoded) bad.push(textDiff(label, ours, d.decoded));
      }
    }
    expect(bad, `${bad.length} decodes differ:\n${bad.slice(0, 10).join('\n')}`).toEqual([]);
  });

  it('renders the chat template to HF text and ids (add_generation_prompt, date_string, strftime_now)', () => {
    const r = need();
    expect(tok.hasChatTemplate).toBe(r.has_chat_template);
    if (!r.has_chat_template) {
      expect(r.chat).toEqual([]);
      return;
    }
    expect(r.chat.length).toBeGreaterThanOrEqual(4);
    const bad: string[] = [];
    let compared = 0;
    for (const c of r.chat) {
      const label = `${c.name} (${c.variant}, add_generation_prompt=${c.add_generation_prompt})`;
      if (c.error || c.text === undefined || !c.ids) {
        bad.push(`${label}: HF failed: ${c.error ?? 'no text'}`);
        continue;
      }
      const opts = optionsFor(c);
      if (!opts) continue; // HF ignored that way of pinning its clock; another variant covers the date
      compared++;
      const text = tok.renderChatTemplate(c.messages, opts);
      if (text !== c.text) bad.push(textDiff(label, text, c.text));
      const ids = tok.applyChatTemplate(c.messages, opts);
      if (!same(ids, c.ids)) bad.push(idDiff(label, ids, c.ids));
    }
    // A template that prints the date must have been compared at a pinned date at least once per conversation.
    const pinned = new Set(r.chat.filter((c) => c.variant !== 'default' && optionsFor(c)).map((c) => c.name));
    const dated = r.chat.some((c) => c.variant !== 'default');
    if (dated) expect([...new Set(r.chat.map((c) => c.name))].filter((n) => !pinned.has(n))).toEqual([]);
    expect(bad, `${bad.length} renders differ:\n${bad.slice(0, 10).join('\n')}`).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(4);
  });
});
