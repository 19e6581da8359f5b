// The benchmark's prompt sets: a small built-in set written for this project (varied tasks, from
// a few words to a long paragraph), and the AlpacaEval instructions, fetched from the Hugging Face
// hub at run time (tatsu-lab/alpaca_eval, Apache-2.0: 805 real user instructions). A seeded sample
// keeps long sets affordable and every engine, run and device on the same prompts.
import { fetchDatasetText } from '../hub/dataset';
import type { HubOptions } from '../hub/download';
import { rng } from './rng';

export class PromptSetError extends Error {
  override name = 'PromptSetError';
}

export interface BenchPrompt {
  /** stable within its set: "builtin/story-fox", "alpaca/17" */
  id: string;
  text: string;
  /** what kind of task (built-in) or the AlpacaEval sub-dataset it comes from */
  task: string;
}

export type PromptSetName = 'builtin' | 'alpaca';
export const PROMPT_SETS: readonly PromptSetName[] = ['builtin', 'alpaca'];
export type SampleSize = number | 'all';
export const SAMPLE_SIZES: readonly SampleSize[] = [5, 20, 100, 'all'];

const BUILTIN: Array<[task: string, slug: string, text: string]> = [
  ['story', 'fox', 'Once upon a time, a little fox found a shiny key in the snow.'],
  ['question', 'sky', 'Why is the sky blue?'],
  ['story', 'robot', 'Write a short story for children about a robot who is afraid of the dark and the friend who helps it.'],
  ['list', 'packing', 'List five things to pack for a weekend hiking trip and say why each one matters.'],
  ['explain', 'int8', 'Explain to a curious twelve-year-old what it means to store the numbers of a neural network in 8 bits instead of 16, and what could go wrong.'],
  ['rewrite', 'formal', 'Rewrite this message so it sounds polite and professional: "hey, the report is late again, send it today or we have a problem."'],
  ['summarize', 'meeting',
    'Summarize the following notes in two sentences. The team met on Tuesday to plan the release. Anna reported that the download page is finished but the cache ' +
    'still fails when the browser runs out of storage. Ben will add a clear error message and a button to free space. Chris measured the new decoder: it is ' +
    '20% faster on laptops but slower on one older phone, which he will investigate. The release moves from Friday to next Wednesday.'],
  ['code', 'reverse', 'Write a JavaScript function that returns the words of a sentence in reverse order, and show one example call.'],
  ['reasoning', 'apples', 'Tom has 3 baskets with 7 apples each. He gives away 5 apples and eats 2. How many apples are left? Explain each step.'],
  ['translate', 'french', 'Translate into French: "The library opens at nine, but the children are already waiting at the door."'],
  ['classify', 'reviews',
    'For each review, answer positive, negative or mixed. 1: "The battery lasts all day and the screen is lovely." 2: "It arrived broken and support never replied." ' +
    '3: "Great camera, but it gets hot when I play games."'],
  ['dialogue', 'baker', 'Continue this conversation in three more lines. Baker: "You are early today!" Girl: "I wanted the first warm bread of the morning."'],
];

export const BUILTIN_PROMPTS: readonly BenchPrompt[] = BUILTIN.map(([task, slug, text]) => ({ id: `builtin/${task}-${slug}`, text, task }));

/** The AlpacaEval set on the hub: a dataset repo, one JSON file of {instruction, output, generator, dataset}. */
export const ALPACA_SOURCE = { repo: 'tatsu-lab/alpaca_eval', file: 'alpaca_eval.json', revision: 'main' } as const;

/** An array of objects with a non-empty `instruction` (other fields ignored; `dataset` becomes the task). */
export function parseAlpaca(json: string, what: string = ALPACA_SOURCE.file): BenchPrompt[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (e) {
    throw new PromptSetError(`${what} is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw new PromptSetError(`${what}: expected an array of {instruction, ...} records`);
  const out = data.map((r: unknown, i): BenchPrompt => {
    const rec = r as { instruction?: unknown; dataset?: unknown } | null;
    if (!rec || typeof rec.instruction !== 'string' || rec.instruction.trim() === '') throw new PromptSetError(`${what}: record ${i} has no "instruction" text`);
    return { id: `alpaca/${i}`, text: rec.instruction, task: typeof rec.dataset === 'string' ? rec.dataset : 'alpaca' };
  });
  if (!out.length) throw new PromptSetError(`${what}: the set is empty`);
  return out;
}

/** The AlpacaEval instructions from the hub (or the mirror/test server in `opts.baseUrl`). */
export async function loadAlpacaPrompts(opts: HubOptions = {}): Promise<BenchPrompt[]> {
  const text = await fetchDatasetText(ALPACA_SOURCE.repo, ALPACA_SOURCE.file, { revision: ALPACA_SOURCE.revision, ...opts });
  return parseAlpaca(text, `${ALPACA_SOURCE.repo}/${ALPACA_SOURCE.file}`);
}

export async function loadPromptSet(name: PromptSetName, opts: HubOptions = {}): Promise<BenchPrompt[]> {
  if (name === 'builtin') return [...BUILTIN_PROMPTS];
  if (name === 'alpaca') return loadAlpacaPrompts(opts);
  throw new PromptSetError(`unknown prompt set "${String(name)}" (known: ${PROMPT_SETS.join(', ')})`);
}

/**
 * `size` items drawn without replacement by a seeded shuffle, returned in their original order
 * (so a sample of 20 reads like the set). 'all', or a size at least the set's, keeps everything.
 */
export function samplePrompts<T>(items: readonly T[], size: SampleSize, seed: number): T[] {
  if (size !== 'all' && (!Number.isInteger(size) || size < 1)) throw new PromptSetError(`the sample size must be a whole number >= 1 or "all", got ${size}`);
  if (size === 'all' || size >= items.length) return [...items];
  const r = rng(seed);
  const idx = items.map((_, i) => i);
  // Partial Fisher-Yates: the first `size` slots end up a uniform sample.
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(r() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, size).sort((a, b) => a - b).map((i) => items[i]!);
}
