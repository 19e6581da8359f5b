// The model benchmark: engines measured one after the other in one process (load, measure,
// destroy), on the same seeded random prompts, greedy, never stopping early. Throughput comes
// from the wall-clock timestamps generate() gives each token; the per-kernel GPU breakdown from
// one extra profiled run per prompt length, so timestamp queries never disturb the timed runs.
import { acquireDevice, type AcquireOptions, type GpuContext } from '../gpu/device';
import type { KvFormat } from '../kernels/kv_cache';
import { GpuProfiler, kernelFamily, type PhaseTimes } from '../gpu/profiler';
import { parameterCount, parseConfig, ConfigError, type ModelConfig } from '../model/config';
import { DEFAULT_CONTEXT, Engine, GREEDY } from '../model/engine';
import type { SamplingParams } from '../model/sampling';
import { folderSource } from '../model/source';
import type { WeightFormat } from '../kernels/formats';
import { loadSyntheticEngine, presetConfig } from './synthetic';
import { rng } from './rng';
import { streamingRead } from './bandwidth';
import { decodeStreamBytes } from '../model/memory';
import { PipelineCache, type W8a8Setting } from '../gpu/pipelines';
import {
  MODEL_SCHEMA, computeRatios, familyTimes, intervals, latencySummary, summarize,
  type DeviceFeatures, type EngineResult, type GpuTime, type ModelBenchReport, type PromptResult,
} from './report';

export interface BenchOptions {
  /** "synthetic:<preset>" or a local folder in Hugging Face layout */
  model: string;
  engines: WeightFormat[];
  promptTokens: number[];
  newTokens: number;
  runs: number;
  warmup?: number;
  seed?: number;
  /** KV-cache length; default max(2048, longest prompt + new tokens) */
  contextLength?: number;
  maxRows?: number;
  /** the KV cache's storage (EngineOptions.kvCache); default the engine's choice */
  kvCache?: KvFormat;
  /** int8 passes of many rows with 8-bit activations (EngineOptions.w8a8); default the engine's ('auto') */
  w8a8?: W8a8Setting;
  /** where decode applies RMSNorm (EngineOptions.decodeNorm); default the engine's choice */
  decodeNorm?: 'fused' | 'separate';
  /** per-kernel GPU time from timestamp-query (default: when the device has it) */
  profile?: boolean;
  /** bytes of the streaming read measured with profiling (default defaultBandwidthBytes: 1 GiB on GPUs) */
  bandwidthBytes?: number;
  /** progress lines (the CLI sends them to stderr) */
  log?: (line: string) => void;
  /** decoding for every timed generation (default greedy); the sampler's seed is `seed` */
  sampling?: Partial<Omit<SamplingParams, 'seed'>>;
}

export { rng };

/** What every timed generation decodes with: greedy unless the options say otherwise. */
export function benchSampling(o: Pick<BenchOptions, 'sampling' | 'seed'>): SamplingParams {
  return { ...GREEDY, ...o.sampling, seed: o.seed ?? 1 };
}

/** The prompt of run `run` at length `length`: random ids, the same for every engine. */
export function benchPrompt(seed: number, length: number, run: number, vocab: number): number[] {
  const r = rng((seed * 1000003 + length * 7919 + run) >>> 0);
  return Array.from({ length }, () => Math.floor(r() * vocab));
}

/**
 * Dawn flags for benchmarks: nanosecond timestamps (Dawn quantizes them to 65.5 us by default,
 * coarser than most single kernels). Takes effect once acquireDevice passes `dawnFlags` on to the
 * webgpu package's create(); until then the reports say the timestamps were quantized.
 */
export const BENCH_DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

export function acquireBenchDevice(): Promise<GpuContext> {
  const opts: AcquireOptions & { dawnFlags?: string[] } = { dawnFlags: BENCH_DAWN_FLAGS };
  return acquireDevice(opts);
}

export function deviceFeatures(gpu: GpuContext): DeviceFeatures {
  return { ...gpu.features, all: [...gpu.device.features].map(String).sort() };
}

/** A model named as the benchmark CLIs take it: "synthetic:<preset>" or a folder in Hugging Face layout. */
export async function modelConfig(model: string): Promise<{ name: string; config: ModelConfig; synthetic: boolean }> {
  if (model.startsWith('synthetic:')) return { name: model, config: presetConfig(model.slice('synthetic:'.length)), synthetic: true };
  const source = await folderSource(model);
  const text = await source.text('config.json');
  if (text === null) throw new ConfigError(`${model}: config.json is missing`);
  return { name: source.name, config: parseConfig(text), synthetic: false };
}

function checkOptions(o: BenchOptions): void {
  const bad = (m: string) => {
    throw new RangeError(`bench: ${m}`);
  };
  if (!o.engines.length) bad('no engines given');
  if (!o.promptTokens.length || o.promptTokens.some((p) => !Number.isInteger(p) || p < 1)) bad('prompt lengths must be integers >= 1');
  if (!Number.isInteger(o.newTokens) || o.newTokens < 2) bad('--new-tokens must be >= 2 (decode speed needs two tokens)');
  if (!Number.isInteger(o.runs) || o.runs < 1) bad('--runs must be >= 1');
  if (o.warmup !== undefined && (!Number.isInteger(o.warmup) || o.warmup < 0)) bad('--warmup must be >= 0');
}

/** Runs the benchmark on `gpu` (acquired when not given) and returns the report. */
export async function runBench(o: BenchOptions, gpu?: GpuContext): Promise<ModelBenchReport> {
  checkOptions(o);
  const log = o.log ?? (() => {});
  gpu ??= await acquireBenchDevice();
  const seed = o.seed ?? 1;
  const warmup = o.warmup ?? 1;
  const profile = (o.profile ?? true) && GpuProfiler.supported(gpu.device);
  const { name, config, synthetic } = await modelConfig(o.model);
  const needed = Math.max(...o.promptTokens) + o.newTokens;
  const contextLength = o.contextLength ?? Math.max(DEFAULT_CONTEXT, needed);
  if (Math.min(contextLength, config.maxPositionEmbeddings) < needed) {
    throw new RangeError(`bench: prompt + new tokens = ${needed} exceed the context (${Math.min(contextLength, config.maxPositionEmbeddings)})`);
  }
  // The streaming read, the yardstick of each engine's fixed cost per token (GPU time needs the
  // timestamps the profiled runs take).
  let bandwidth: ModelBenchReport['bandwidth'];
  if (profile) {
    const read = await streamingRead(gpu, new PipelineCache(gpu.device), { bytes: o.bandwidthBytes });
    bandwidth = { bytes: read.bytes, gbPerSecond: read.gbPerSecond };
    log(`[bench] streaming read ${read.gbPerSecond.toFixed(1)} GB/s (${read.bytes} B)`);
  }
  const engines: EngineResult[] = [];
  for (const format of o.engines) {
    log(`[bench] ${name} ${format}: loading`);
    engines.push(await benchEngine(gpu, o, { name, synthetic, format, contextLength, seed, warmup, profile, log }));
  }
  return {
    schema: MODEL_SCHEMA,
    date: new Date().toISOString(),
    adapter: { ...gpu.adapterInfo },
    features: deviceFeatures(gpu),
    settings: {
      model: o.model, engines: [...o.engines], promptTokens: [...o.promptTokens], newTokens: o.newTokens, runs: o.runs, warmup, seed,
      contextLength: o.contextLength ?? null, maxRows: o.maxRows ?? null, profile, sampling: benchSampling(o),
    },
    model: {
      name, modelType: config.modelType, hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize, numLayers: config.numLayers,
      numHeads: config.numHeads, numKvHeads: config.numKvHeads, headDim: config.headDim, vocabSize: config.vocabSize,
      tiedEmbeddings: config.tieWordEmbeddings, parameters: parameterCount(config),
    },
    ...(bandwidth ? { bandwidth } : {}),
    engines,
    ratios: computeRatios(engines),
  };
}

interface EngineCtx {
  name: string;
  synthetic: boolean;
  format: WeightFormat;
  contextLength: number;
  seed: number;
  warmup: number;
  profile: boolean;
  log: (line: string) => void;
}

async function benchEngine(gpu: GpuContext, o: BenchOptions, c: EngineCtx): Promise<EngineResult> {
  const { device } = gpu;
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let engine: Engine | null = null;
  let result: EngineResult | undefined;
  let failure: unknown;
  try {
    const t0 = performance.now();
    const opts = { contextLength: c.contextLength, maxRows: o.maxRows, decodeNorm: o.decodeNorm, kvCache: o.kvCache, w8a8: o.w8a8 };
    engine = c.synthetic
      ? await loadSyntheticEngine(gpu, c.name.slice('synthetic:'.length), c.format, { ...opts, seed: c.seed })
      : await Engine.load(gpu, await folderSource(o.model), { format: c.format, ...opts });
    await device.queue.onSubmittedWorkDone();
    const loadMs = performance.now() - t0;
    c.log(`[bench] ${c.format}: loaded in ${loadMs.toFixed(0)} ms (weights ${engine.weightBytes} B, KV cache ${engine.kvBytes} B ${engine.kvCache})`);
    const results: PromptResult[] = [];
    for (const P of o.promptTokens) results.push(await measurePrompt(engine, o, c, P));
    const decodeNorm = engine.forward.separateDecodeNorm ? 'separate' : 'fused';
    const decodeStream = decodeStreamBytes(engine.config, c.format);
    result = { engine: c.format, weightBytes: engine.weightBytes, kvCacheBytes: engine.kvBytes, kvCache: engine.kvCache, ...(engine.w8a8 ? { w8a8: engine.w8a8 } : {}), contextLength: engine.contextLength, loadMs, decodeNorm, decodeStreamBytes: decodeStream, results };
  } catch (e) {
    failure = e;
  } finally {
    engine?.destroy();
    await device.queue.onSubmittedWorkDone();
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const gpuError = oom ?? validation;
    if (gpuError && !failure) failure = new Error(`${c.format}: WebGPU ${oom ? 'out-of-memory' : 'validation'} error: ${gpuError.message}`);
  }
  if (failure || !result) throw failure ?? new Error('bench: no result');
  return result;
}

/** Generates exactly `n` tokens and returns their timestamps (ms since generate() was called). */
async function timedGenerate(engine: Engine, prompt: number[], n: number, sampling: SamplingParams): Promise<number[]> {
  const times: number[] = [];
  for await (const t of engine.generate(prompt, { maxNewTokens: n, sampling, stopIds: [] })) times.push(t.timeMs);
  if (times.length !== n) throw new Error(`bench: generated ${times.length} tokens, expected ${n}`);
  return times;
}

async function measurePrompt(engine: Engine, o: BenchOptions, c: EngineCtx, P: number): Promise<PromptResult> {
  const N = o.newTokens;
  const V = engine.config.vocabSize;
  for (let w = 0; w < c.warmup; w++) await timedGenerate(engine, benchPrompt(c.seed, P, -1 - w, V), N, benchSampling(o));
  const prefill: number[] = [];
  const decode: number[] = [];
  const ttft: number[] = [];
  const gaps: number[] = [];
  for (let run = 0; run < o.runs; run++) {
    const t = await timedGenerate(engine, benchPrompt(c.seed, P, run, V), N, benchSampling(o));
    // The first token's time covers the prompt upload, the prefill, the first sample and its readback.
    ttft.push(t[0]!);
    prefill.push(P / (t[0]! / 1000));
    decode.push((N - 1) / ((t[N - 1]! - t[0]!) / 1000));
    gaps.push(...intervals(t));
  }
  const gpuTime: GpuTime = c.profile ? await profiledRun(engine, benchPrompt(c.seed, P, 0, V), N, benchSampling(o)) : { source: 'wall' };
  const r: PromptResult = {
    promptTokens: P,
    newTokens: N,
    runs: o.runs,
    prefillTokensPerSecond: summarize(prefill),
    decodeTokensPerSecond: summarize(decode),
    timeToFirstTokenMs: summarize(ttft),
    decodeLatencyMs: latencySummary(gaps),
    gpuTime,
  };
  c.log(`[bench] ${c.format} prompt ${P}: prefill ${r.prefillTokensPerSecond.mean.toFixed(1)} tok/s, decode ${r.decodeTokensPerSecond.mean.toFixed(1)} tok/s, TTFT ${r.timeToFirstTokenMs.mean.toFixed(1)} ms`);
  return r;
}

const toMs = (t: PhaseTimes | undefined, per: number): Record<string, number> =>
  Object.fromEntries(Object.entries(t?.kernels ?? {}).map(([k, v]) => [k, v.ns / 1e6 / Math.max(per, 1)]));

/** One generation with the profiler attached: GPU time per kernel for the prefill and per decode step. */
async function profiledRun(engine: Engine, prompt: number[], n: number, sampling: SamplingParams): Promise<GpuTime> {
  const run = async (granularity: 'kernel' | 'pass') => {
    const prof = new GpuProfiler(engine.gpu.device, 1024, granularity);
    engine.forward.profiler = prof;
    try {
      const t = await timedGenerate(engine, prompt, n, sampling);
      await prof.flush();
      return { t, res: prof.results(), invalidPasses: prof.invalidPasses, quantumNs: prof.quantumNs };
    } finally {
      engine.forward.profiler = null;
      prof.destroy();
    }
  };
  const { t, res, invalidPasses, quantumNs } = await run('kernel');
  const whole = await run('pass');
  const total = (phase: PhaseTimes | undefined) => Object.values(phase?.kernels ?? {}).reduce((a, k) => a + k.ns, 0) / 1e6;
  const prefillKernelsMs = toMs(res.prefill, 1);
  const decodeKernelsMs = toMs(res.decode, res.decode?.encoders ?? 0);
  return {
    source: 'timestamp-query',
    prefillMs: familyTimes(prefillKernelsMs, kernelFamily),
    decodeMsPerToken: familyTimes(decodeKernelsMs, kernelFamily),
    prefillKernelsMs,
    decodeKernelsMs,
    invalidPasses: invalidPasses + whole.invalidPasses,
    timestampQuantumNs: quantumNs || 1,
    profiledWall: { timeToFirstTokenMs: t[0]!, decodeMsPerToken: (t[n - 1]! - t[0]!) / (n - 1) },
    steps: {
      prefillGpuMs: total(whole.res.prefill),
      decodeGpuMsPerToken: total(whole.res.decode) / Math.max(1, whole.res.decode?.encoders ?? 0),
      decodeWallMsPerToken: (whole.t[n - 1]! - whole.t[0]!) / (n - 1),
    },
  };
}
