// The batch-size study (`bench --batch 1,4,16`): aggregate and per-sequence decode speed, step
// latency and memory per engine and batch size, and the int8/f16 ratio per batch size. B = 1 is
// today's path (generate(): fused GEMVs, pipelined steps); B >= 2 is generateBatch (one pass of B
// rows per step, each weight read once for all of them). Engines are measured one after the
// other in one process, on the same seeded prompts, greedy, never stopping early.
import type { GpuContext } from '../gpu/device';
import type { KvFormat } from '../kernels/kv_cache';
import { parameterCount, type ModelConfig } from '../model/config';
import { Engine, GREEDY } from '../model/engine';
import { folderSource } from '../model/source';
import type { WeightFormat } from '../kernels/formats';
import { loadSyntheticEngine } from './synthetic';
import { acquireBenchDevice, benchPrompt, deviceFeatures, modelConfig } from './model_bench';
import { GpuProfiler } from '../gpu/profiler';
import { latencySummary, median, summarize, type DeviceFeatures, type LatencySummary, type Summary } from './report';
import type { W8a8Setting } from '../gpu/pipelines';

export const BATCH_SCHEMA = 'webgpu-int8-llm/batch-bench@1';

export interface BatchBenchOptions {
  model: string;
  engines: WeightFormat[];
  batches: number[];
  promptTokens: number;
  newTokens: number;
  runs: number;
  warmup?: number;
  seed?: number;
  /** the KV cache's storage; default the engine's choice */
  kvCache?: KvFormat;
  /** int8 passes of many rows with 8-bit activations (EngineOptions.w8a8); default the engine's ('auto') */
  w8a8?: W8a8Setting;
  log?: (line: string) => void;
}

export interface BatchResult {
  batch: number;
  /** tokens of all sequences per second of decode steps (B rows a step), per run */
  aggregateTokensPerSecond: Summary;
  /** one sequence's tokens per second: 1000 / the step's milliseconds */
  perSequenceTokensPerSecond: Summary;
  /** wall time of a decode step (all B rows), pooled over the runs */
  stepMs: LatencySummary;
  /** weight bytes read per second if each step reads every weight once */
  weightGBps: number;
  /** matmul arithmetic per second: 2 x parameters x B per step */
  gflops: number;
  /**
   * GPU time of a decode step (timestamp queries, one extra run): the whole step, and per kernel;
   * wall minus GPU is what the CPU adds (encoding, submit, readback). Absent without timestamps.
   */
  gpu?: { stepMs: number; kernelsMs: Record<string, number> };
}

export interface BatchEngineResult {
  engine: WeightFormat;
  weightBytes: number;
  /** the KV cache of one sequence slot (the engine holds max(batches) of them) */
  kvBytesPerSequence: number;
  /** the KV cache's storage (absent in reports before 2026-12-05: f32) */
  kvCache?: KvFormat;
  /** batched steps with 8-bit activations: on subgroup matrices or dot4I8Packed (absent: f32 activations) */
  w8a8?: 'sgmat' | 'dp4a' | 'rows';
  contextLength: number;
  results: BatchResult[];
}

export interface BatchBenchReport {
  schema: typeof BATCH_SCHEMA;
  date: string;
  adapter: GpuContext['adapterInfo'];
  features: DeviceFeatures;
  settings: Required<Omit<BatchBenchOptions, 'log' | 'kvCache' | 'w8a8'>> & Pick<BatchBenchOptions, 'kvCache' | 'w8a8'>;
  model: { name: string; parameters: number; numLayers: number; hiddenSize: number; vocabSize: number };
  engines: BatchEngineResult[];
  /** every engine's aggregate tok/s over the first's, per batch size */
  ratios: Array<{ batch: number; engine: WeightFormat; over: WeightFormat; aggregate: number }>;
}


type Measure = Pick<BatchBenchOptions, 'promptTokens' | 'newTokens'> & { signal?: AbortSignal };

/** One measured run at batch size B: per-step milliseconds of the decode steps that held all B sequences. */
async function runOnce(engine: Engine, B: number, o: Measure, seed: number, run: number): Promise<number[]> {
  const V = engine.config.vocabSize;
  const prompts = Array.from({ length: B }, (_, i) => benchPrompt(seed, o.promptTokens, run * 64 + i, V));
  if (B === 1) {
    const t: number[] = [];
    for await (const tok of engine.generate(prompts[0]!, { maxNewTokens: o.newTokens, sampling: GREEDY, stopIds: [], signal: o.signal })) t.push(tok.timeMs);
    if (o.signal?.aborted) throw new DOMException('cancelled', 'AbortError');
    return t.slice(1).map((v, i) => v - t[i]!);
  }
  const steps: number[] = [];
  const seqs = prompts.map((promptIds) => ({ promptIds, maxNewTokens: o.newTokens, stopIds: [] }));
  for await (const t of engine.generateBatch(seqs, { batch: B, signal: o.signal, onStep: (s) => s.rows === B && steps.push(s.ms) })) void t;
  if (o.signal?.aborted) throw new DOMException('cancelled', 'AbortError');
  return steps;
}

/** GPU milliseconds of one decode step at batch size B: whole passes, then kernel by kernel. */
async function profiledStep(engine: Engine, B: number, o: Measure, seed: number): Promise<{ stepMs: number; kernelsMs: Record<string, number> }> {
  const phase = B === 1 ? 'decode' : 'decode-batch';
  const run = async (granularity: 'kernel' | 'pass') => {
    const prof = new GpuProfiler(engine.gpu.device, 1024, granularity);
    engine.forward.profiler = prof;
    try {
      await runOnce(engine, B, o, seed, 0);
      await prof.flush();
      return prof.results()[phase];
    } finally {
      engine.forward.profiler = null;
      prof.destroy();
    }
  };
  const perStep = (p: Awaited<ReturnType<typeof run>>) => Object.fromEntries(Object.entries(p?.kernels ?? {}).map(([k, v]) => [k, v.ns / 1e6 / Math.max(1, p?.encoders ?? 1)]));
  const whole = perStep(await run('pass'));
  return { stepMs: Object.values(whole).reduce((a, b) => a + b, 0), kernelsMs: perStep(await run('kernel')) };
}

/**
 * Batch sizes `o.batches` on one engine (loaded with maxBatch >= the largest): for each, `warmup`
 * runs then `runs` timed ones of B sequences of `promptTokens` random ids and `newTokens` tokens.
 */
export async function measureBatches(
  engine: Engine,
  o: Pick<BatchBenchOptions, 'batches' | 'promptTokens' | 'newTokens' | 'runs'> & { seed: number; warmup: number; profile: boolean; signal?: AbortSignal; log?: (line: string) => void },
): Promise<BatchResult[]> {
  const params = parameterCount(engine.config);
  const results: BatchResult[] = [];
  for (const B of o.batches) {
    for (let w = 0; w < o.warmup; w++) await runOnce(engine, B, o, o.seed, 1000 + w);
    const aggregate: number[] = [];
    const perSeq: number[] = [];
    const pooled: number[] = [];
    for (let run = 0; run < o.runs; run++) {
      const steps = await runOnce(engine, B, o, o.seed, run);
      const total = steps.reduce((a, b) => a + b, 0);
      aggregate.push((B * steps.length * 1000) / total);
      perSeq.push((steps.length * 1000) / total);
      pooled.push(...steps);
    }
    const stepMs = median(pooled);
    const r: BatchResult = {
      batch: B,
      aggregateTokensPerSecond: summarize(aggregate),
      perSequenceTokensPerSecond: summarize(perSeq),
      stepMs: latencySummary(pooled),
      weightGBps: engine.weightBytes / stepMs / 1e6,
      gflops: (2 * params * B) / stepMs / 1e6,
    };
    if (o.profile && GpuProfiler.supported(engine.gpu.device)) r.gpu = await profiledStep(engine, B, o, o.seed);
    o.log?.(`B=${B}: ${median(aggregate).toFixed(1)} tok/s aggregate, ${median(perSeq).toFixed(1)} per sequence, step p50 ${r.stepMs.p50.toFixed(2)} ms`);
    results.push(r);
  }
  return results;
}

/** Every engine's aggregate tok/s over the first's, per batch size. */
export function batchRatios(engines: readonly BatchEngineResult[]): BatchBenchReport['ratios'] {
  const base = engines[0];
  if (!base) return [];
  return engines.slice(1).flatMap((e) =>
    e.results.map((r, i) => ({ batch: r.batch, engine: e.engine, over: base.engine, aggregate: median(r.aggregateTokensPerSecond.values) / median(base.results[i]!.aggregateTokensPerSecond.values) })),
  );
}

export async function runBatchBench(o: BatchBenchOptions, gpu?: GpuContext): Promise<BatchBenchReport> {
  const log = o.log ?? (() => {});
  if (!o.batches.length || o.batches.some((b) => !Number.isInteger(b) || b < 1)) throw new RangeError('bench: --batch sizes must be integers >= 1');
  if (o.newTokens < 2) throw new RangeError('bench: --new-tokens must be >= 2');
  gpu ??= await acquireBenchDevice();
  const seed = o.seed ?? 1;
  const warmup = o.warmup ?? 1;
  const { name, config, synthetic } = await modelConfig(o.model);
  const contextLength = o.promptTokens + o.newTokens;
  const maxBatch = Math.max(2, ...o.batches);
  const engines: BatchEngineResult[] = [];
  for (const format of o.engines) {
    log(`[batch] ${name} ${format}: loading with ${maxBatch} sequence slots of ${contextLength} tokens`);
    const opts = { contextLength, maxBatch, kvCache: o.kvCache, w8a8: o.w8a8 };
    const engine = synthetic
      ? await loadSyntheticEngine(gpu, name.slice('synthetic:'.length), format, { ...opts, seed })
      : await Engine.load(gpu, await folderSource(o.model), { format, ...opts });
    try {
      const results = await measureBatches(engine, { ...o, seed, warmup, profile: true, log: (l) => log(`[batch] ${format} ${l}`) });
      engines.push({ engine: format, weightBytes: engine.weightBytes, kvBytesPerSequence: engine.kvBytes / maxBatch, kvCache: engine.kvCache, ...(engine.w8a8 ? { w8a8: engine.w8a8 } : {}), contextLength: engine.contextLength, results });
    } finally {
      engine.destroy();
    }
  }
  const settings = { model: o.model, engines: [...o.engines], batches: [...o.batches], promptTokens: o.promptTokens, newTokens: o.newTokens, runs: o.runs, warmup, seed, ...(o.kvCache ? { kvCache: o.kvCache } : {}), ...(o.w8a8 ? { w8a8: o.w8a8 } : {}) };
  return batchReport(gpu, settings, name, config, engines);
}

/** A sweep's report (the CLI's and the app's): the device, the settings, the model, each engine's results and the ratios. */
export function batchReport(gpu: GpuContext, settings: BatchBenchReport['settings'], name: string, config: ModelConfig, engines: BatchEngineResult[]): BatchBenchReport {
  return {
    schema: BATCH_SCHEMA,
    date: new Date().toISOString(),
    adapter: { ...gpu.adapterInfo },
    features: deviceFeatures(gpu),
    settings,
    model: { name, parameters: parameterCount(config), numLayers: config.numLayers, hiddenSize: config.hiddenSize, vocabSize: config.vocabSize },
    engines,
    ratios: batchRatios(engines),
  };
}

/** The report as a text table: one row per engine and batch size, then the ratios. */
export function renderBatchReport(r: BatchBenchReport): string {
  const lines = [
    `${r.model.name} on ${r.adapter.name || r.adapter.vendor || 'unknown adapter'} (${r.date.slice(0, 10)}): prompt ${r.settings.promptTokens}, ${r.settings.newTokens} new tokens, median of ${r.settings.runs}`,
    'engine  batch  aggregate tok/s  per-sequence tok/s  step p50 ms  step p99 ms  weights GB/s  GFLOP/s',
  ];
  const gpuLines: string[] = [];
  for (const e of r.engines) {
    for (const x of e.results) {
      if (x.gpu) {
        const top = Object.entries(x.gpu.kernelsMs).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
        gpuLines.push(`${e.engine} B=${x.batch}: GPU ${x.gpu.stepMs.toFixed(2)} ms of a ${x.stepMs.p50.toFixed(2)} ms step; ${top}`);
      }
      lines.push(
        [
          e.engine.padEnd(6),
          String(x.batch).padStart(5),
          median(x.aggregateTokensPerSecond.values).toFixed(1).padStart(16),
          median(x.perSequenceTokensPerSecond.values).toFixed(1).padStart(19),
          x.stepMs.p50.toFixed(2).padStart(12),
          x.stepMs.p99.toFixed(2).padStart(12),
          x.weightGBps.toFixed(0).padStart(13),
          x.gflops.toFixed(0).padStart(8),
        ].join(' '),
      );
    }
  }
  lines.push(...gpuLines);
  for (const q of r.ratios) lines.push(`${q.engine}/${q.over} at B=${q.batch}: ${q.aggregate.toFixed(2)}x aggregate`);
  return lines.join('\n') + '\n';
}
