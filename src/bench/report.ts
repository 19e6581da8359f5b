// Benchmark report: the JSON shapes, the statistics, the ratios and the text tables. Pure
// functions (no GPU), unit-tested in tests/unit/report.test.ts.
import { QUANTIZED_NS, type KernelFamily } from '../gpu/profiler';
import type { KvFormat } from '../kernels/kv_cache';
import type { SamplingParams } from '../model/sampling';

export const MODEL_SCHEMA = 'webgpu-int8-llm/bench-model@1';

// ---------------------------------------------------------------- statistics

export function mean(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1 in the denominator); 0 for a single value. */
/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function std(xs: readonly number[]): number {
  if (xs.length < 2) return xs.length ? 0 : NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * Nearest-rank percentile: the smallest value with at least p% of the values at or below it,
 * i.e. sorted[ceil(p/100 * n) - 1] (p = 0 gives the minimum). Always an observed value, so a p99
 * latency is one a token actually had; with few samples it is coarser than interpolation.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface Summary {
  mean: number;
  std: number;
  min: number;
  max: number;
  values: number[];
}

export function summarize(xs: readonly number[]): Summary {
  return { mean: mean(xs), std: std(xs), min: Math.min(...xs), max: Math.max(...xs), values: [...xs] };
}

export interface LatencySummary {
  /** number of inter-token intervals pooled over the runs */
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function latencySummary(xs: readonly number[]): LatencySummary {
  return { count: xs.length, mean: mean(xs), p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99), max: Math.max(...xs) };
}

/** Differences between consecutive timestamps (per-token decode latency). */
export function intervals(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

// ---------------------------------------------------------------- model report

export interface FamilyTimes {
  matmul: number;
  attention: number;
  other: number;
  total: number;
}

export type GpuTime =
  | {
      source: 'timestamp-query';
      /** GPU ms of one prefill (all its passes) by kernel family */
      prefillMs: FamilyTimes;
      /** GPU ms per decode step by kernel family */
      decodeMsPerToken: FamilyTimes;
      /** GPU ms per decode step by kernel (first word of the pipeline key) */
      decodeKernelsMs: Record<string, number>;
      prefillKernelsMs: Record<string, number>;
      /** timed passes without valid timestamps (should be 0) */
      invalidPasses: number;
      /** the timestamps' grid: 32 on NVIDIA; 65536 when Dawn quantized them (per-kernel numbers then coarse) */
      timestampQuantumNs: number;
      /** wall clock of the profiled run itself (its passes are split per kernel, so it runs slower) */
      profiledWall: { timeToFirstTokenMs: number; decodeMsPerToken: number };
      /**
       * A second profiled run that times whole passes only (two timestamps each, nothing between
       * kernels): the GPU's busy time per step as it runs unprofiled, against that run's wall clock.
       * GPU time well under the wall time means the GPU waits for the CPU.
       */
      steps?: { prefillGpuMs: number; decodeGpuMsPerToken: number; decodeWallMsPerToken: number };
    }
  | { source: 'wall' };

export interface PromptResult {
  promptTokens: number;
  newTokens: number;
  runs: number;
  prefillTokensPerSecond: Summary;
  decodeTokensPerSecond: Summary;
  timeToFirstTokenMs: Summary;
  /** gaps between consecutive generated tokens, pooled over the runs */
  decodeLatencyMs: LatencySummary;
  gpuTime: GpuTime;
}

export interface EngineResult {
  engine: string;
  weightBytes: number;
  kvCacheBytes: number;
  /** the KV cache's storage (absent in reports before 2026-12-05: f32) */
  kvCache?: KvFormat;
  /** int8 prefill with 8-bit activations: on subgroup matrices or dot4I8Packed (absent: f32 activations) */
  w8a8?: 'sgmat' | 'dp4a' | 'rows';
  contextLength: number;
  /** weight generation or loading plus pipeline compilation */
  loadMs: number;
  /** where decode steps applied RMSNorm (absent in reports before 2026-11-30) */
  decodeNorm?: 'fused' | 'separate';
  /** the weight bytes one decode step reads (decodeStreamBytes; absent in reports before 2026-12-07) */
  decodeStreamBytes?: number;
  results: PromptResult[];
}

export interface PromptRatio {
  promptTokens: number;
  /** engine decode tokens/s over the baseline's (> 1: faster) */
  decodeSpeedup: number;
  prefillSpeedup: number;
  /** engine TTFT over the baseline's (< 1: faster) */
  ttftRatio: number;
}

export interface EngineRatio {
  engine: string;
  baseline: string;
  /** engine weight bytes over the baseline's */
  weightBytesRatio: number;
  byPrompt: PromptRatio[];
}

export interface AdapterReport {
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface DeviceFeatures {
  subgroups: boolean;
  shaderF16: boolean;
  timestampQuery: boolean;
  /** every feature of the device, as WebGPU names them */
  all: string[];
}

export interface ModelBenchReport {
  schema: typeof MODEL_SCHEMA;
  date: string;
  adapter: AdapterReport;
  features: DeviceFeatures;
  settings: {
    model: string;
    engines: string[];
    promptTokens: number[];
    newTokens: number;
    runs: number;
    warmup: number;
    seed: number;
    contextLength: number | null;
    maxRows: number | null;
    profile: boolean;
    /** how the timed generations decode (absent in reports from before it was recorded: greedy) */
    sampling?: SamplingParams;
  };
  model: {
    name: string;
    modelType: string;
    hiddenSize: number;
    intermediateSize: number;
    numLayers: number;
    numHeads: number;
    numKvHeads: number;
    headDim: number;
    vocabSize: number;
    tiedEmbeddings: boolean;
    parameters: number;
  };
  /**
   * the streaming read measured in the same run (one dispatch over `bytes`; absent without
   * timestamp queries and in reports before 2026-12-07): the yardstick of the fixed cost per token
   */
  bandwidth?: { bytes: number; gbPerSecond: number };
  engines: EngineResult[];
  ratios: EngineRatio[];
}

/**
 * A decode step's fixed cost: its whole-pass GPU time minus the time its weight bytes take at the
 * measured streaming bandwidth (what a step would cost if it only streamed its weights), in ms;
 * undefined where the report lacks either.
 */
export function fixedCostMs(r: Pick<ModelBenchReport, 'bandwidth'>, e: Pick<EngineResult, 'decodeStreamBytes'>, p: PromptResult): { streamMs: number; fixedMs: number } | undefined {
  const g = p.gpuTime;
  if (!r.bandwidth || e.decodeStreamBytes === undefined || g.source !== 'timestamp-query' || !g.steps) return undefined;
  const streamMs = e.decodeStreamBytes / (r.bandwidth.gbPerSecond * 1e9) * 1000;
  return { streamMs, fixedMs: g.steps.decodeGpuMsPerToken - streamMs };
}

/** The baseline for ratios: f16 when measured, else the first engine. */
export function baselineEngine(engines: readonly string[]): string | undefined {
  return engines.includes('f16') ? 'f16' : engines[0];
}

/** Every other engine against the baseline, per prompt length (means over runs). */
export function computeRatios(engines: readonly EngineResult[]): EngineRatio[] {
  const baseName = baselineEngine(engines.map((e) => e.engine));
  const base = engines.find((e) => e.engine === baseName);
  if (!base) return [];
  return engines
    .filter((e) => e !== base)
    .map((e) => ({
      engine: e.engine,
      baseline: base.engine,
      weightBytesRatio: e.weightBytes / base.weightBytes,
      byPrompt: e.results.flatMap((r) => {
        const b = base.results.find((x) => x.promptTokens === r.promptTokens);
        if (!b) return [];
        return [{
          promptTokens: r.promptTokens,
          decodeSpeedup: r.decodeTokensPerSecond.mean / b.decodeTokensPerSecond.mean,
          prefillSpeedup: r.prefillTokensPerSecond.mean / b.prefillTokensPerSecond.mean,
          ttftRatio: r.timeToFirstTokenMs.mean / b.timeToFirstTokenMs.mean,
        }];
      }),
    }));
}

/** Sums per-kernel times into families (+ total). */
export function familyTimes(kernels: Record<string, number>, familyOf: (kernel: string) => KernelFamily): FamilyTimes {
  const out: FamilyTimes = { matmul: 0, attention: 0, other: 0, total: 0 };
  for (const [k, ms] of Object.entries(kernels)) {
    out[familyOf(k)] += ms;
    out.total += ms;
  }
  return out;
}

// ---------------------------------------------------------------- text output

export type Align = 'left' | 'right';

/** A plain-text table: columns padded to their widest cell; numbers right-aligned by default. */
export function formatTable(headers: string[], rows: Array<Array<string | number>>, align?: Align[]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const al = headers.map((_, i) => align?.[i] ?? (i === 0 ? 'left' : 'right'));
  const fmt = (r: string[]) =>
    r.map((c, i) => (al[i] === 'left' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}

/** Fixed decimals for a table cell; "-" for a missing or non-finite value. */
export function fx(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/** Three significant digits (at least one decimal below 100), for rates that span 0.001 to 4000. */
export function sig(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : x.toPrecision(3);
}

export function fmtCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function fmtBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

const pm = (s: Summary, d = 1) => `${fx(s.mean, d)} ±${fx(s.std, d)}`;

/** "greedy", or the sampling settings that are on. */
export function describeSampling(p: SamplingParams | undefined): string {
  if (!p || (p.temperature <= 0 && p.repetitionPenalty === 1)) return 'greedy';
  const on = [p.temperature > 0 ? `temperature ${p.temperature}` : 'greedy', p.topK > 0 ? `top-k ${p.topK}` : '', p.topP < 1 ? `top-p ${p.topP}` : '', p.repetitionPenalty !== 1 ? `repetition penalty ${p.repetitionPenalty}` : ''];
  return on.filter(Boolean).join(', ');
}

export function renderModelReport(r: ModelBenchReport): string {
  const s = r.settings;
  const lines = [
    `${r.model.name} (${r.model.modelType}, ${fmtCount(r.model.parameters)} params) on ${r.adapter.name}`,
    `${r.date} | features: ${r.features.all.join(', ') || 'none'} | runs ${s.runs} (+${s.warmup} warmup), ${s.newTokens} new tokens, ${describeSampling(s.sampling)}, seed ${s.seed}`,
    '',
  ];
  const rows = r.engines.flatMap((e) =>
    e.results.map((p) => {
      const g = p.gpuTime;
      const gpu = g.source === 'wall' ? 'wall' : `${fx(g.decodeMsPerToken.matmul, 3)}/${fx(g.decodeMsPerToken.attention, 3)}/${fx(g.decodeMsPerToken.other, 3)}`;
      return [e.engine, p.promptTokens, pm(p.prefillTokensPerSecond), pm(p.decodeTokensPerSecond), pm(p.timeToFirstTokenMs), `${fx(p.decodeLatencyMs.p50, 2)}/${fx(p.decodeLatencyMs.p95, 2)}/${fx(p.decodeLatencyMs.p99, 2)}`, gpu, fmtBytes(e.weightBytes), `${fmtBytes(e.kvCacheBytes)} ${e.kvCache ?? 'f32'}`];
    }),
  );
  const quanta = r.engines.flatMap((e) => e.results.map((p) => (p.gpuTime.source === 'timestamp-query' ? p.gpuTime.timestampQuantumNs : 1)));
  const q = Math.max(1, ...quanta);
  const quantized = q >= QUANTIZED_NS;
  lines.push(formatTable(['engine', 'prompt', 'prefill tok/s', 'decode tok/s', 'TTFT ms', 'tok ms p50/p95/p99', 'GPU ms/tok mm/attn/other', 'weights', 'KV cache'], rows));
  const profiled = r.engines.flatMap((e) => e.results.flatMap((p) => (p.gpuTime.source === 'timestamp-query' ? [{ e, p, g: p.gpuTime }] : [])));
  if (profiled.length) {
    const kernels = [...new Set(profiled.flatMap(({ g }) => Object.keys(g.decodeKernelsMs)))].sort();
    const cols = profiled.map(({ e, p }) => `${e.engine} P${p.promptTokens}`);
    lines.push('', 'decode GPU ms per token by kernel (one profiled run; passes split per kernel):');
    lines.push(formatTable(['kernel', ...cols], [
      ...kernels.map((k) => [k, ...profiled.map(({ g }) => fx(g.decodeKernelsMs[k], 3))]),
      ['sum', ...profiled.map(({ g }) => fx(g.decodeMsPerToken.total, 3))],
      ['wall (same run)', ...profiled.map(({ g }) => fx(g.profiledWall.decodeMsPerToken, 3))],
      ['whole-pass GPU', ...profiled.map(({ g }) => (g.steps ? fx(g.steps.decodeGpuMsPerToken, 3) : '-'))],
      ['wall (that run)', ...profiled.map(({ g }) => (g.steps ? fx(g.steps.decodeWallMsPerToken, 3) : '-'))],
      ...(r.bandwidth ? [
        [`weights at ${fx(r.bandwidth.gbPerSecond, 0)} GB/s`, ...profiled.map(({ e, p }) => fx(fixedCostMs(r, e, p)?.streamMs, 3))],
        ['fixed cost', ...profiled.map(({ e, p }) => fx(fixedCostMs(r, e, p)?.fixedMs, 3))],
      ] : []),
    ]));
    if (r.bandwidth) lines.push(`(fixed cost: whole-pass GPU time minus the step's weight bytes at the streaming read of ${fmtBytes(r.bandwidth.bytes)} measured in this run)`);
  }
  if (quantized) lines.push(`note: GPU timestamps are quantized to ${q} ns (Dawn's timestamp_quantization); per-kernel times are sums of coarse samples`);
  for (const ratio of r.ratios) {
    lines.push('', `${ratio.engine} vs ${ratio.baseline}: weight bytes x${fx(ratio.weightBytesRatio, 3)}`);
    lines.push(formatTable(['prompt', 'decode speed-up', 'prefill speed-up', 'TTFT ratio'], ratio.byPrompt.map((p) => [p.promptTokens, `x${fx(p.decodeSpeedup, 3)}`, `x${fx(p.prefillSpeedup, 3)}`, `x${fx(p.ttftRatio, 3)}`])));
  }
  return lines.join('\n') + '\n';
}
