// The benchmark suite, shared by the app's worker and the Node CLI: a prompt set through every
// engine, one engine after the other (each gets the whole GPU while timed), warm-up generations
// first, then each prompt `repetitions` times. Outputs are compared with the baseline's (the
// first engine's) first run: ROUGE-L F1 on words, exact match of the text, token agreement.
// Optionally a teacher-forced evaluation follows (eval.ts: perplexity, KL against the baseline),
// with every engine open at once since they read the same text in lockstep.
// Where the engines come from (already resident in the worker, loaded one at a time in the CLI)
// is the caller's business: `open` hands one over, `release` gives it back.
import type { Engine } from '../model/engine';
import { parameterCount } from '../model/config';
import { rougeL, tokenAgreement } from './metrics';
import { evaluate } from './eval';
import { BUILTIN_EVAL_NAME, BUILTIN_EVAL_TEXT } from './eval/builtin_text';
import { codecFor, type TextCodec } from './text_codec';
import type { BenchPrompt } from './prompts';
import {
  SUITE_SCHEMA, summarizeEngine,
  type PromptRecord, type RunTiming, type SuiteEval, type SuiteReport, type SuiteSettings, type SuiteTags,
} from './suite_report';

export class SuiteSettingsError extends Error {
  override name = 'SuiteSettingsError';
}

export interface SuiteEngineHandle {
  engine: Engine;
  /** the most GPU buffer bytes this engine has held at once; null when not tracked */
  peakBytes(): number | null;
  release(): void | Promise<void>;
}

export interface SuiteProgress {
  engine: string;
  engineIndex: number;
  engineCount: number;
  /** 'eval': the teacher-forced evaluation, all engines at once (engine: the baseline's name) */
  phase: 'load' | 'warmup' | 'measure' | 'eval';
  /** 1-based prompt number within the measured set (0 while loading or warming up); in 'eval', windows done */
  prompt: number;
  /** in 'eval': windows in all */
  prompts: number;
  /** generations done and to do, over all engines */
  done: number;
  total: number;
  /** from the mean time of the generations so far; null before the first */
  etaSeconds: number | null;
}

export interface RunSuiteOptions {
  settings: SuiteSettings;
  /** the prompts to run (already sampled) */
  prompts: readonly BenchPrompt[];
  /** where the set came from (a URL, or "built-in"), and how many prompts it has in all */
  promptSource: string;
  setSize: number;
  modelName: string;
  synthetic: boolean;
  tags: SuiteTags;
  open(engine: string): Promise<SuiteEngineHandle>;
  /** the text of settings.eval { text: 'custom' } */
  evalText?: string;
  signal?: AbortSignal;
  onProgress?(p: SuiteProgress): void;
}

export function checkSuiteSettings(s: SuiteSettings): void {
  const bad = (m: string) => {
    throw new SuiteSettingsError(m);
  };
  if (!s.engines.length) bad('no engines to run');
  if (new Set(s.engines).size !== s.engines.length) bad(`an engine is listed twice: ${s.engines.join(', ')}`);
  if (!Number.isInteger(s.maxNewTokens) || s.maxNewTokens < 1) bad(`max new tokens must be a whole number >= 1, got ${s.maxNewTokens}`);
  if (!Number.isInteger(s.warmup) || s.warmup < 0) bad(`warm-up must be a whole number >= 0, got ${s.warmup}`);
  if (!Number.isInteger(s.repetitions) || s.repetitions < 1) bad(`repetitions must be a whole number >= 1, got ${s.repetitions}`);
  if (!Number.isFinite(s.pricePerHour) || s.pricePerHour < 0) bad(`the hourly price must be a number >= 0, got ${s.pricePerHour}`);
  if (s.batch !== undefined && (!Number.isInteger(s.batch) || s.batch < 1 || s.batch > 64)) bad(`prompts at once must be a whole number from 1 to 64, got ${s.batch}`);
  if (s.eval) {
    const { text, contextLength: c, stride } = s.eval;
    if (!['builtin', 'replies', 'custom'].includes(text)) bad(`unknown evaluation text "${String(text)}"`);
    if (c !== undefined && (!Number.isInteger(c) || c < 2)) bad(`the evaluation window must be a whole number >= 2, got ${c}`);
    if (stride !== undefined && (!Number.isInteger(stride) || stride < 1 || (c !== undefined && stride >= c))) bad(`the evaluation stride must be a whole number from 1 to the window - 1, got ${stride}`);
  }
}

function abortError(): DOMException {
  return new DOMException('the benchmark was cancelled', 'AbortError');
}

interface Output {
  text: string;
  ids: number[];
  timing: RunTiming;
}

async function generateOnce(engine: Engine, codec: TextCodec, ids: number[], s: SuiteSettings, signal?: AbortSignal): Promise<Output> {
  const out: number[] = [];
  const times: number[] = [];
  for await (const t of engine.generate(ids, { maxNewTokens: s.maxNewTokens, sampling: s.sampling, ...(signal ? { signal } : {}) })) {
    out.push(t.id);
    times.push(t.timeMs);
  }
  if (signal?.aborted) throw abortError();
  return { text: codec.decode(out), ids: out, timing: { ttftMs: times[0]!, e2eMs: times[times.length - 1]!, tokens: out.length } };
}

/** Several prompts decoded together: each one's output and its own times (from when it joined the batch). */
async function generateBatched(engine: Engine, codec: TextCodec, prompts: number[][], s: SuiteSettings, signal: AbortSignal | undefined, onDone: () => void): Promise<Output[]> {
  const out = prompts.map(() => ({ ids: [] as number[], times: [] as number[], start: 0 }));
  const seqs = prompts.map((promptIds) => ({ promptIds, maxNewTokens: s.maxNewTokens, sampling: s.sampling }));
  for await (const t of engine.generateBatch(seqs, { batch: s.batch, ...(signal ? { signal } : {}) })) {
    const o = out[t.seq]!;
    o.ids.push(t.id);
    o.times.push(t.timeMs);
    o.start = t.startMs;
    if (t.last) onDone();
  }
  if (signal?.aborted) throw abortError();
  return out.map((o) => ({ text: codec.decode(o.ids), ids: o.ids, timing: { ttftMs: o.times[0]! - o.start, e2eMs: o.times[o.times.length - 1]! - o.start, tokens: o.ids.length } }));
}

/** Runs the suite and returns its report; rejects with an AbortError when `signal` aborts. */
export async function runSuite(o: RunSuiteOptions): Promise<SuiteReport> {
  const s = o.settings;
  checkSuiteSettings(s);
  if (!o.prompts.length) throw new SuiteSettingsError('the prompt set is empty');
  if (s.eval?.text === 'custom' && !o.evalText?.trim()) throw new SuiteSettingsError('the evaluation text is empty: paste a text or choose a file');
  const t0 = performance.now();
  const baseline = s.engines[0]!;
  const records: PromptRecord[] = [];
  const promptIds: number[][] = []; // parallel to records
  const skipped: SuiteReport['skipped'] = [];
  const outputs = new Map<string, Output[][]>(); // engine -> prompt -> runs
  const memory = new Map<string, { weightBytes: number; kvCacheBytes: number; peakBytes: number | null; contextLength: number }>();
  let model: SuiteReport['model'] | null = null;
  let total = s.engines.length * (s.warmup + o.prompts.length * s.repetitions);
  let done = 0;
  let generationMs = 0;
  const progress = (p: Pick<SuiteProgress, 'engine' | 'engineIndex' | 'phase' | 'prompt'> & { prompts?: number }) =>
    o.onProgress?.({ engineCount: s.engines.length, prompts: records.length || o.prompts.length, done, total, etaSeconds: p.phase === 'eval' ? null : done ? ((generationMs / done) * (total - done)) / 1000 : null, ...p });

  for (const [engineIndex, name] of s.engines.entries()) {
    if (o.signal?.aborted) throw abortError();
    progress({ engine: name, engineIndex, phase: 'load', prompt: 0 });
    const handle = await o.open(name);
    // Prompts decoded together need a KV cache region each: the pass is rebuilt for them, and back.
    const batch = s.batch ?? 1;
    const restoreBatch = batch > 1 ? handle.engine.forward.shape.maxBatch : null;
    try {
      const { engine } = handle;
      if (restoreBatch !== null && batch > restoreBatch) await engine.setMaxBatch(batch);
      const codec = codecFor(engine);
      if (!model) {
        // The prompts are tokenized once, by the first engine: every engine shares the model's tokenizer.
        model = { name: o.modelName, modelType: engine.config.modelType, parameters: parameterCount(engine.config), synthetic: o.synthetic, contextLength: engine.contextLength };
        for (const p of o.prompts) {
          const ids = codec.encode(p.text, s.chat);
          if (ids.length + 1 > engine.contextLength) skipped.push({ id: p.id, reason: `${ids.length} prompt tokens leave no room in the context of ${engine.contextLength}` });
          else {
            records.push({ id: p.id, task: p.task, text: p.text, promptTokens: ids.length, results: {} });
            promptIds.push(ids);
          }
        }
        if (!records.length) throw new SuiteSettingsError(`no prompt fits the context of ${engine.contextLength} tokens`);
        total = s.engines.length * (s.warmup + records.length * s.repetitions);
      }
      const timed = async (ids: number[]) => {
        const start = performance.now();
        const out = await generateOnce(engine, codec, ids, s, o.signal);
        generationMs += performance.now() - start;
        done++;
        return out;
      };
      for (let w = 0; w < s.warmup; w++) {
        progress({ engine: name, engineIndex, phase: 'warmup', prompt: 0 });
        await timed(promptIds[w % records.length]!);
      }
      const mine: Output[][] = promptIds.map(() => []);
      if (batch > 1) {
        // All the prompts through one continuous batch per repetition.
        for (let rep = 0; rep < s.repetitions; rep++) {
          progress({ engine: name, engineIndex, phase: 'measure', prompt: 1 });
          const start = performance.now();
          const outs = await generateBatched(engine, codec, promptIds, s, o.signal, () => {
            done++;
            progress({ engine: name, engineIndex, phase: 'measure', prompt: Math.min(done, promptIds.length) });
          });
          generationMs += performance.now() - start;
          outs.forEach((x, i) => mine[i]!.push(x));
        }
      } else {
        for (const [i, ids] of promptIds.entries()) {
          for (let rep = 0; rep < s.repetitions; rep++) {
            progress({ engine: name, engineIndex, phase: 'measure', prompt: i + 1 });
            mine[i]!.push(await timed(ids));
          }
        }
      }
      outputs.set(name, mine);
      memory.set(name, { weightBytes: engine.weightBytes, kvCacheBytes: engine.kvBytes, peakBytes: handle.peakBytes(), contextLength: engine.contextLength });
    } finally {
      if (restoreBatch !== null && !handle.engine.lost && handle.engine.forward.shape.maxBatch !== restoreBatch) await handle.engine.setMaxBatch(restoreBatch);
      await handle.release();
    }
  }

  // Quality: every run against the baseline's first run of the same prompt. The baseline's own
  // first run is the reference, so for it only the later runs count (a determinism check); with
  // one repetition nothing is compared and its quality is NaN (none), never 1 by definition.
  const reference = outputs.get(baseline)!;
  for (const name of s.engines) {
    for (const [i, r] of records.entries()) {
      const runs = outputs.get(name)![i]!;
      const ref = reference[i]![0]!;
      const compared = name === baseline ? runs.slice(1) : runs;
      r.results[name] = {
        text: runs[0]!.text,
        ids: runs[0]!.ids,
        runs: runs.map((x) => x.timing),
        rougeL: avg(compared.map((x) => rougeL(x.text, ref.text).f1)),
        exactMatch: avg(compared.map((x) => (x.text === ref.text ? 1 : 0))),
        tokenAgreement: avg(compared.map((x) => tokenAgreement(x.ids, ref.ids))),
      };
    }
  }
  const evalReport = s.eval ? await runEval(o, records, promptIds, reference, progress) : undefined;
  const runsCompared = (name: string) => (name === baseline ? records.length * (s.repetitions - 1) : records.length * s.repetitions);
  const date = new Date().toISOString();
  return {
    schema: SUITE_SCHEMA,
    id: `${date}-${Math.random().toString(36).slice(2, 8)}`,
    date,
    durationMs: performance.now() - t0,
    tags: o.tags,
    model: model!,
    settings: { ...s, engines: [...s.engines], baseline, promptSource: o.promptSource, setSize: o.setSize },
    engines: s.engines.map((name) => summarizeEngine(name, baseline, records, memory.get(name)!, s.pricePerHour, runsCompared(name))),
    prompts: records,
    skipped,
    ...(evalReport ? { eval: evalReport } : {}),
  };
}

/**
 * The teacher-forced evaluation of settings.eval: every engine opened at once (their logits are
 * compared position by position), the text tokenized by the baseline, the baseline first.
 */
async function runEval(
  o: RunSuiteOptions,
  records: readonly PromptRecord[],
  promptIds: readonly number[][],
  reference: readonly Output[][],
  progress: (p: Pick<SuiteProgress, 'engine' | 'engineIndex' | 'phase' | 'prompt'> & { prompts?: number }) => void,
): Promise<SuiteEval> {
  const s = o.settings;
  const e = s.eval!;
  const baseline = s.engines[0]!;
  progress({ engine: baseline, engineIndex: 0, phase: 'eval', prompt: 0, prompts: 0 });
  const handles: SuiteEngineHandle[] = [];
  try {
    for (const name of s.engines) {
      if (o.signal?.aborted) throw abortError();
      handles.push(await o.open(name));
    }
    const codec = codecFor(handles[0]!.engine);
    let sequences: number[][];
    let text: string;
    if (e.text === 'replies') {
      // Each prompt as the engines read it, then the baseline's first reply: the text the model
      // itself writes, scored at every position.
      sequences = records.map((_, i) => [...promptIds[i]!, ...reference[i]![0]!.ids]);
      text = `${baseline} replies to ${records.length} prompts`;
    } else {
      const body = e.text === 'builtin' ? BUILTIN_EVAL_TEXT : o.evalText!;
      sequences = [codec.encode(body, false)];
      text = e.text === 'builtin' ? BUILTIN_EVAL_NAME : (e.name ?? 'custom text');
    }
    const report = await evaluate(
      s.engines.map((name, i) => ({ name, engine: handles[i]!.engine })),
      sequences,
      {
        text,
        ...(e.contextLength !== undefined ? { contextLength: e.contextLength } : {}),
        ...(e.stride !== undefined ? { stride: e.stride } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        onWindow: (done, total) => progress({ engine: baseline, engineIndex: 0, phase: 'eval', prompt: done, prompts: total }),
      },
    );
    return { source: e.text, ...report };
  } catch (err) {
    if (o.signal?.aborted) throw abortError();
    throw err;
  } finally {
    for (const h of handles) await h.release();
  }
}

function avg(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
