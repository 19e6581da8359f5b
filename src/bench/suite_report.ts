// The benchmark suite's report: its JSON shape, the per-engine summary computed from the raw runs,
// CSV export and the text table of the CLI. Pure functions (no GPU), unit-tested.
import type { AdapterSummary } from '../gpu/device';
import type { SamplingParams } from '../model/sampling';
import { costEstimate, formatUsd, type CostEstimate } from './cost';
import { fmtBytes, formatTable, fx, latencySummary, mean, sig, std, type LatencySummary } from './report';
import type { PromptSetName, SampleSize } from './prompts';
import { renderEvalTable, type EvalReport } from './eval';

export const SUITE_SCHEMA = 'webgpu-int8-llm/bench-suite@1';

export interface SuiteSettings {
  promptSet: PromptSetName;
  sampleSize: SampleSize;
  /** seed of the prompt sample */
  sampleSeed: number;
  /** measured in this order; the first is the baseline the others' outputs are compared with */
  engines: string[];
  maxNewTokens: number;
  /** generations per engine before measuring (not recorded) */
  warmup: number;
  /** measured generations per prompt and engine */
  repetitions: number;
  sampling: SamplingParams;
  /** wrap prompts in the model's chat template (when it has one) */
  chat: boolean;
  /** US dollars per GPU hour, for the cost column */
  pricePerHour: number;
  /** a teacher-forced evaluation after the generations (eval.ts); absent: none */
  eval?: EvalSettings;
  /**
   * prompts decoded together (Engine.generateBatch, continuous batching); absent or 1: one at a
   * time. Each prompt's times are then its own, from when it joined the batch.
   */
  batch?: number;
}

/**
 * The evaluation text: the built-in one (src/bench/eval/builtin_text.ts), the baseline's replies to
 * the suite's prompts (each prompt and its reply one sequence), or a text of the user's.
 */
export type EvalTextSource = 'builtin' | 'replies' | 'custom';

export interface EvalSettings {
  text: EvalTextSource;
  /** a custom text's name (its file name, or "pasted text"); the text itself is not kept */
  name?: string;
  /** tokens per window; default the engines' context */
  contextLength?: number;
  /** default half the window */
  stride?: number;
}

/** The evaluation in a suite report: eval.ts's report and where its text came from. */
export interface SuiteEval extends EvalReport {
  source: EvalTextSource;
}

/** One measured generation. Prefill tok/s = prompt tokens / TTFT; decode tok/s = (tokens - 1) / (e2e - TTFT). */
export interface RunTiming {
  /** from generate() to the first token on the CPU: prompt upload, prefill, first sample, readback */
  ttftMs: number;
  /** from generate() to the last token */
  e2eMs: number;
  tokens: number;
}

export interface PromptEngineResult {
  /** the output of the first measured run */
  text: string;
  ids: number[];
  runs: RunTiming[];
  /** means over the compared runs, against the baseline's first run */
  rougeL: number;
  exactMatch: number;
  tokenAgreement: number;
}

export interface PromptRecord {
  id: string;
  task: string;
  text: string;
  promptTokens: number;
  /** by engine */
  results: Record<string, PromptEngineResult>;
}

export interface Stat {
  mean: number;
  std: number;
  min: number;
  max: number;
  count: number;
}

export interface EngineSummary {
  engine: string;
  baseline: boolean;
  weightBytes: number;
  kvCacheBytes: number;
  /** the most GPU buffer bytes the engine held at once (counted allocations); null when not tracked */
  peakBytes: number | null;
  contextLength: number;
  generations: number;
  generatedTokens: number;
  prefillTokensPerSecond: Stat;
  decodeTokensPerSecond: Stat;
  timeToFirstTokenMs: LatencySummary;
  endToEndLatencyMs: LatencySummary;
  quality: {
    /** the engine whose first-run outputs are the reference */
    against: string;
    /** runs compared; 0 for a baseline measured once (then 1 by definition) */
    runsCompared: number;
    rougeL: number;
    exactMatch: number;
    tokenAgreement: number;
  };
  cost: CostEstimate;
}

export interface SuiteTags {
  adapter: AdapterSummary;
  features: string[];
  /** the browser's user agent, or "Node vX (webgpu/Dawn)" */
  browser: string;
  runtime: 'browser' | 'node';
}

export interface SuiteReport {
  schema: typeof SUITE_SCHEMA;
  id: string;
  date: string;
  durationMs: number;
  tags: SuiteTags;
  model: { name: string; modelType: string; parameters: number; synthetic: boolean; contextLength: number };
  settings: SuiteSettings & { baseline: string; promptSource: string; setSize: number };
  engines: EngineSummary[];
  prompts: PromptRecord[];
  /** prompts left out, and why (e.g. longer than the context) */
  skipped: Array<{ id: string; reason: string }>;
  /** the teacher-forced evaluation, when settings.eval asked for one */
  eval?: SuiteEval;
}

export function stat(xs: readonly number[]): Stat {
  if (!xs.length) return { mean: NaN, std: NaN, min: NaN, max: NaN, count: 0 };
  return { mean: mean(xs), std: std(xs), min: Math.min(...xs), max: Math.max(...xs), count: xs.length };
}

export const prefillRate = (r: RunTiming, promptTokens: number) => promptTokens / (r.ttftMs / 1000);
/** null for a run of one token (no decode step) */
export const decodeRate = (r: RunTiming) => (r.tokens >= 2 && r.e2eMs > r.ttftMs ? (r.tokens - 1) / ((r.e2eMs - r.ttftMs) / 1000) : null);

export interface EngineMemory {
  weightBytes: number;
  kvCacheBytes: number;
  peakBytes: number | null;
  contextLength: number;
}

/** The per-engine summary from the prompt records (all the engine's measured runs pooled). */
export function summarizeEngine(engine: string, baseline: string, prompts: readonly PromptRecord[], memory: EngineMemory, pricePerHour: number, runsCompared: number): EngineSummary {
  const mine = prompts.flatMap((p) => (p.results[engine] ? [{ p, r: p.results[engine] }] : []));
  const runs = mine.flatMap(({ p, r }) => r.runs.map((run) => ({ run, promptTokens: p.promptTokens })));
  const decode = stat(runs.flatMap(({ run }) => decodeRate(run) ?? []));
  return {
    engine,
    baseline: engine === baseline,
    ...memory,
    generations: runs.length,
    generatedTokens: runs.reduce((a, { run }) => a + run.tokens, 0),
    prefillTokensPerSecond: stat(runs.map(({ run, promptTokens }) => prefillRate(run, promptTokens))),
    decodeTokensPerSecond: decode,
    timeToFirstTokenMs: latencySummary(runs.map(({ run }) => run.ttftMs)),
    endToEndLatencyMs: latencySummary(runs.map(({ run }) => run.e2eMs)),
    quality: {
      against: baseline,
      runsCompared,
      rougeL: mean(mine.map(({ r }) => r.rougeL)),
      exactMatch: mean(mine.map(({ r }) => r.exactMatch)),
      tokenAgreement: mean(mine.map(({ r }) => r.tokenAgreement)),
    },
    cost: costEstimate(pricePerHour, decode.count ? decode.mean : null),
  };
}

/** Points of an empirical CDF: each sorted value with the fraction of values at or below it. */
export function cdfPoints(xs: readonly number[]): Array<{ x: number; p: number }> {
  const s = [...xs].sort((a, b) => a - b);
  return s.map((x, i) => ({ x, p: (i + 1) / s.length }));
}

export const EVAL_SOURCE_LABEL: Record<EvalTextSource, string> = {
  builtin: 'the built-in text',
  replies: "the baseline's replies to the prompts",
  custom: 'a text of your own',
};

// ---------------------------------------------------------------- CSV

export const CSV_COLUMNS = [
  'date', 'model', 'synthetic', 'adapter', 'browser', 'prompt_set', 'prompts', 'max_new_tokens', 'repetitions', 'engine', 'baseline',
  'generations', 'generated_tokens', 'prefill_tok_s_mean', 'prefill_tok_s_std', 'decode_tok_s_mean', 'decode_tok_s_std',
  'ttft_ms_p50', 'ttft_ms_p95', 'ttft_ms_p99', 'e2e_ms_p50', 'e2e_ms_p95', 'e2e_ms_p99', 'weight_bytes', 'kv_cache_bytes', 'peak_bytes',
  'rouge_l_f1', 'exact_match', 'token_agreement', 'price_per_hour_usd', 'usd_per_1m_tokens', 'cost_assumption',
  'eval_text', 'eval_tokens', 'eval_positions', 'perplexity', 'kl_mean', 'kl_median', 'kl_p99', 'kl_max', 'top1_agreement', 'confident_same_top',
] as const;

function csvCell(v: string | number | boolean | null): string {
  if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per engine, with the run's tags on every row so rows from many runs can be concatenated. */
export function suiteCsv(r: SuiteReport): string {
  const ev = r.eval;
  const rows = r.engines.map((e) => {
    const mine = ev?.engines.find((x) => x.engine === e.engine);
    const v = mine?.vsBaseline;
    return [
    r.date, r.model.name, r.model.synthetic, r.tags.adapter.name, r.tags.browser, r.settings.promptSet, r.prompts.length, r.settings.maxNewTokens, r.settings.repetitions,
    e.engine, e.baseline, e.generations, e.generatedTokens, e.prefillTokensPerSecond.mean, e.prefillTokensPerSecond.std, e.decodeTokensPerSecond.mean, e.decodeTokensPerSecond.std,
    e.timeToFirstTokenMs.p50, e.timeToFirstTokenMs.p95, e.timeToFirstTokenMs.p99, e.endToEndLatencyMs.p50, e.endToEndLatencyMs.p95, e.endToEndLatencyMs.p99,
    e.weightBytes, e.kvCacheBytes, e.peakBytes, e.quality.rougeL, e.quality.exactMatch, e.quality.tokenAgreement, e.cost.pricePerHour, e.cost.usdPerMillionTokens, e.cost.assumption,
    ev ? ev.text : null, ev ? ev.tokens : null, ev ? ev.positions : null, mine ? mine.perplexity : null,
    v ? v.meanKl : null, v ? v.medianKl : null, v ? v.p99Kl : null, v ? v.maxKl : null, v ? v.top1Agreement : null, v ? v.confidentSameTop : null,
    ];
  });
  return [CSV_COLUMNS.join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\n') + '\n';
}

// ---------------------------------------------------------------- text

const pm = (s: Stat) => `${sig(s.mean)} ±${sig(s.std)}`;
const pct = (l: LatencySummary) => `${fx(l.p50, 0)}/${fx(l.p95, 0)}/${fx(l.p99, 0)}`;

export function renderSuiteReport(r: SuiteReport): string {
  const s = r.settings;
  const lines = [
    `${r.model.name}${r.model.synthetic ? ' (synthetic weights: speed only)' : ''} on ${r.tags.adapter.name} · ${r.tags.browser}`,
    `${r.date} | ${s.promptSet} prompts: ${r.prompts.length} of ${r.settings.setSize} (seed ${s.sampleSeed})${r.skipped.length ? `, ${r.skipped.length} skipped` : ''} | ` +
      `${s.maxNewTokens} new tokens, ${s.repetitions} runs each after ${s.warmup} warm-up | ${s.sampling.temperature === 0 ? 'greedy' : `temperature ${s.sampling.temperature}`}${s.chat ? ', chat template' : ''}`,
    '',
    formatTable(
      ['engine', 'prefill tok/s', 'decode tok/s', 'TTFT ms p50/95/99', 'E2E ms p50/95/99', 'weights', 'KV cache', 'peak', 'ROUGE-L', 'exact', 'agree', '$/1M tok'],
      r.engines.map((e) => [
        `${e.engine}${e.baseline ? ' (base)' : ''}`, pm(e.prefillTokensPerSecond), pm(e.decodeTokensPerSecond), pct(e.timeToFirstTokenMs), pct(e.endToEndLatencyMs),
        fmtBytes(e.weightBytes), fmtBytes(e.kvCacheBytes), e.peakBytes === null ? '-' : fmtBytes(e.peakBytes),
        fx(e.quality.rougeL, 3), fx(e.quality.exactMatch, 2), fx(e.quality.tokenAgreement, 3), formatUsd(e.cost.usdPerMillionTokens),
      ]),
    ),
    '',
    `quality: each engine's outputs against ${s.baseline}'s first run (for ${s.baseline} itself: its later runs, a determinism check)`,
    `cost: ${r.engines[0]?.cost.assumption.replace(/ \(.*?\)/, '') ?? ''}`,
  ];
  for (const k of r.skipped) lines.push(`skipped ${k.id}: ${k.reason}`);
  if (r.eval) lines.push('', `teacher-forced evaluation (${EVAL_SOURCE_LABEL[r.eval.source]}):`, renderEvalTable(r.eval).trimEnd());
  return lines.join('\n') + '\n';
}
