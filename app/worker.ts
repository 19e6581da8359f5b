// The engine side of the app, in a Web Worker so that loading (parsing, quantizing) and decoding
// never block the page. It owns the GPU device, the engines (a baseline and a candidate, any two
// formats, or one alone) and the weight cache writes; the UI only sends messages
// (protocol.ts) and renders what comes back.
import { acquireDevice, isSoftwareAdapter, type GpuContext } from '../src/gpu/device';
import { Engine, finishReason, GREEDY } from '../src/model/engine';
import { parseConfig, parameterCount, ConfigError } from '../src/model/config';
import { memorySource, type ModelSource } from '../src/model/source';
import type { LoadProgress, PackedTensor } from '../src/model/weights';
import { TokenizerError } from '../src/model/tokenizer';
import { conversationPrompt, templateSystemPrompt } from '../src/model/chat';
import { loadSyntheticEngine, presetConfig } from '../src/bench/synthetic';
import { codecFor } from '../src/bench/text_codec';
import { hubSource, type HubSource } from '../src/hub/hub';
import { WeightCache, type CacheKey } from '../src/hub/cache';
import { loadThroughCache } from '../src/hub/cached_load';
import { BufferMemoryTracker } from '../src/gpu/memory_tracker';
import { PipelineCache } from '../src/gpu/pipelines';
import { FORMATS, modelName, toWire, type BenchRequest, type Format, type FromWorker, type GenerateRequest, type LoadedEngine, type ModelRef, type PlanResult, type SweepRequest, type ToWorker } from './protocol';
import { runBenchmark } from './worker_bench';
import { batchReport, measureBatches, type BatchBenchReport, type BatchEngineResult } from '../src/bench/batch_bench';
import { appLogitRows, planEngines, planShape } from './engine_plan';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromWorker) => scope.postMessage(m);

/** The small files saved with a cache entry, so a cached model loads with no network at all. */
const SMALL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

let gpu: Promise<GpuContext> | null = null;
/** the loaded engines, in load order: the baseline first */
const engines = new Map<Format, Engine>();
/** the model the engines hold and their formats (baseline first), once all are loaded */
let loadedModel: { name: string; synthetic: boolean; formats: Format[] } | null = null;
/**
 * Compiled pipelines of this device, shared by every engine the worker builds: the kernels that do
 * not read weights (attention, norms, RoPE, the KV append, sampling) and any of the same format
 * and shape compile once for both engines of a pair and for every reload of a model.
 */
const pipelineCaches = new WeakMap<GPUDevice, PipelineCache>();
const pipelinesFor = (g: GpuContext) => {
  let c = pipelineCaches.get(g.device);
  if (!c) pipelineCaches.set(g.device, (c = new PipelineCache(g.device)));
  return c;
};
/** counts GPU buffers per engine, for the benchmark's peak memory */
let tracker = new BufferMemoryTracker();
let loading: AbortController | null = null;
/**
 * Settles when every engine build started so far has ended. A cancelled load answers at once but
 * its build may still be compiling (its engine is destroyed when it ends); the next load waits.
 */
let builds: Promise<unknown> = Promise.resolve();
let running: AbortController | null = null;
/** settles when the running generation or benchmark has fully stopped (its engines are free again) */
let runDone: Promise<void> = Promise.resolve();
/** The hub source of the model being planned/loaded: config.json is fetched once for both steps. */
let hub: { id: string; source: Promise<HubSource>; abort: AbortController } | null = null;

function ensureGpu(): Promise<GpuContext> {
  if (gpu) return gpu;
  const p = acquireDevice().then((ctx) => {
    tracker = BufferMemoryTracker.attach(ctx.device);
    // We never destroy the device ourselves (except through the debug message), so any loss is
    // a driver reset, a GPU process crash or the like: the engines are gone and must be rebuilt.
    void ctx.device.lost.then((info) => {
      if (gpu !== p) return;
      gpu = null;
      engines.clear();
      running?.abort();
      loading?.abort();
      post({ type: 'device-lost', message: info.message || `reason: ${info.reason}` });
    });
    post({ type: 'gpu', adapter: ctx.adapterInfo.name, software: isSoftwareAdapter(ctx.adapterInfo), maxBufferBytes: Math.min(ctx.limits.maxBufferSize, ctx.limits.maxStorageBufferBindingSize), features: Object.entries(ctx.features).filter(([, v]) => v).map(([k]) => k) });
    return ctx;
  });
  gpu = p;
  p.catch(() => {
    if (gpu === p) gpu = null;
  });
  return p;
}

function cacheKeys(model: ModelRef): ((format: Format) => CacheKey) | null {
  // A local folder is already on disk; caching it would only duplicate it.
  if (model.kind !== 'hub') return null;
  return (format) => ({ repo: cacheRepo(model), revision: model.revision, format });
}

/** The default hub is keyed by repo alone; another hub (a mirror, the test server) by its URL too. */
function cacheRepo(model: Extract<ModelRef, { kind: 'hub' }>): string {
  return /^https:\/\/huggingface\.co\/?$/.test(model.baseUrl) ? model.repo : `${model.baseUrl.replace(/\/+$/, '')}/${model.repo}`;
}

function hubFor(model: Extract<ModelRef, { kind: 'hub' }>): Promise<HubSource> {
  const id = `${model.baseUrl}|${model.repo}|${model.revision}|${model.token ?? ''}`;
  if (hub?.id !== id) {
    hub?.abort.abort();
    const abort = new AbortController();
    const source = hubSource(model.repo, {
      baseUrl: model.baseUrl,
      revision: model.revision,
      ...(model.token ? { token: model.token } : {}),
      signal: abort.signal,
      onProgress: (progress) => post({ type: 'download', progress }),
    });
    const entry = { id, source, abort };
    hub = entry;
    // A failed lookup (typo, network) must not stick: the next attempt asks again.
    source.catch(() => {
      if (hub === entry) hub = null;
    });
  }
  return hub.source;
}

/** The picked folder's top-level files, by name relative to the folder. */
async function localSource(model: Extract<ModelRef, { kind: 'local' }>): Promise<ModelSource> {
  const files = new Map<string, Uint8Array>();
  for (const f of model.files) {
    const rel = (f.webkitRelativePath || f.name).split('/').slice(1).join('/') || f.name;
    if (!/\.(json|safetensors)$/.test(rel) || rel.includes('/')) continue;
    files.set(rel, new Uint8Array(await f.arrayBuffer()));
  }
  return memorySource(model.name, files);
}

function sourceFor(model: Exclude<ModelRef, { kind: 'synthetic' }>): Promise<ModelSource> {
  return model.kind === 'hub' ? hubFor(model) : localSource(model);
}

async function plan(model: ModelRef, contextLength: number): Promise<PlanResult> {
  const g = await ensureGpu();
  const cache = new WeightCache();
  const keys = cacheKeys(model);
  const cached = new Set<Format>();
  let configText: string | null = null;
  for (const f of FORMATS) {
    if (!keys || !(await cache.has(keys(f)))) continue;
    cached.add(f);
    configText ??= (await cache.files(keys(f)))?.get('config.json') ?? null;
  }
  // Only config.json is fetched here; the weights wait for the user's go-ahead.
  if (configText === null && model.kind !== 'synthetic') configText = await (await sourceFor(model)).text('config.json');
  if (configText === null && model.kind !== 'synthetic') throw new ConfigError(`${modelName(model)}: config.json is missing`);
  const config = model.kind === 'synthetic' ? presetConfig(model.preset) : parseConfig(configText!);
  const shape = planShape(config, contextLength);
  // Every format, each with its own verdict: the user picks the pair among those that fit.
  const { engines: plans, largestBuffer } = planEngines(config, shape, g.limits, modelName(model), (f) => cached.has(f));
  return {
    name: modelName(model),
    modelType: config.modelType,
    params: parameterCount(config),
    layers: config.numLayers,
    contextLength: shape.maxCtx,
    maxContextLength: config.maxPositionEmbeddings,
    engines: plans,
    largestBuffer,
    maxBufferBytes: Math.min(g.limits.maxBufferSize, g.limits.maxStorageBufferBindingSize),
    synthetic: model.kind === 'synthetic',
  };
}

/**
 * `work` until the signal aborts, then an AbortError at once: a GPU pipeline compile cannot be
 * interrupted, so a cancelled build goes on in the background and `dispose` frees what it made.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, dispose: (v: T) => void): Promise<T> {
  builds = Promise.allSettled([builds, work]);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(new DOMException('loading cancelled', 'AbortError'));
      work.then(dispose, () => {});
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) return;
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** While the engine compiles its kernels: how many of those it has asked for so far are done, four times a second. */
function watchCompile(g: GpuContext, format: Format): () => void {
  const cache = pipelinesFor(g);
  const [c0, s0] = [cache.compiled, cache.settled];
  const report = () => post({ type: 'load-progress', format, phase: 'compile', tensorsDone: Math.max(0, cache.settled - s0), tensorsTotal: cache.compiled - c0 });
  report();
  const id = setInterval(report, 250);
  return () => clearInterval(id);
}

/** Passes tensors through, reporting progress and stopping between tensors when cancelled. */
async function* watched(tensors: AsyncIterable<PackedTensor>, signal: AbortSignal, report: (done: number) => void, onEnd: () => void): AsyncGenerator<PackedTensor> {
  let done = 0;
  for await (const t of tensors) {
    if (signal.aborted) throw new DOMException('loading cancelled', 'AbortError');
    yield t;
    report(++done);
  }
  // Every tensor is on the GPU: the engine compiles its pipelines next.
  onEnd();
}

/**
 * One short generation right after a load (4 prompt tokens, 2 new ones): the first Compare after a
 * load must not pay first-use costs the later ones do not (the first run's FP16 was timed at 4.6 s
 * to the first token against 3.0 s on the next run), or the first speed-up is biased.
 */
async function warmUp(engine: Engine): Promise<void> {
  const V = engine.config.vocabSize;
  for await (const t of engine.generate([1, 2, 3, 4].map((i) => i % V), { maxNewTokens: 2, sampling: GREEDY })) void t;
  engine.resetCache();
}

function destroyEngines(): void {
  for (const e of engines.values()) e.destroy();
  engines.clear();
  loadedModel = null;
}

async function load(model: ModelRef, contextLength: number, formats: Format[]): Promise<void> {
  if (formats.length === 0 || new Set(formats).size !== formats.length) throw new Error(`load: expected distinct engines, got [${formats.join(', ')}]`);
  // Switching models mid-generation: stop the generation first (it ends as "stopped"), so that no
  // engine is destroyed while it is still generating.
  if (running) {
    running.abort();
    await runDone;
  }
  loading?.abort();
  const abort = new AbortController();
  loading = abort;
  destroyEngines();
  // A cancelled load's build may still be compiling: its kernels land in the shared cache.
  await builds;
  if (abort.signal.aborted) throw new DOMException('loading cancelled', 'AbortError');
  const g = await ensureGpu();
  const cache = new WeightCache();
  const keys = cacheKeys(model);
  const name = modelName(model);
  let source: ModelSource | null = null;
  let smallFiles: Map<string, string> | null = null;
  const warnings: string[] = [];
  const loaded: LoadedEngine[] = [];
  try {
    for (const format of formats) {
      const t0 = performance.now();
      const key = keys?.(format) ?? null;
      const progress = (phase: 'cache' | 'convert', total: number) => (done: number) => post({ type: 'load-progress', format, phase, tensorsDone: done, tensorsTotal: total });
      let engine: Engine;
      let fromCache = false;
      let stopWatch = () => {};
      tracker.resetPeak(format);
      tracker.owner = format;
      if (model.kind === 'synthetic') {
        // Nothing to download or cache: the weights are generated on the GPU in a moment.
        post({ type: 'load-progress', format, phase: 'synthetic', tensorsDone: 0, tensorsTotal: 0 });
        stopWatch = watchCompile(g, format);
        engine = await untilAborted(loadSyntheticEngine(g, model.preset, format, { contextLength, maxLogitRows: appLogitRows, pipelines: pipelinesFor(g) }), abort.signal, (e) => e.destroy()).finally(() => stopWatch());
      } else {
        // From the cache when it holds the weights (a corrupt entry is downloaded again), else from
        // the source while caching them; a full disk only means not cached (src/hub/cached_load.ts).
        const viaCache = await untilAborted(loadThroughCache(g, {
          name,
          format,
          contextLength,
          maxLogitRows: appLogitRows,
          pipelines: pipelinesFor(g),
          // The app needs text: a model without tokenizer.json is refused before its weights load.
          requireTokenizer: true,
          cache: key ? cache : null,
          key,
          source: async () => (source ??= await sourceFor(model)),
          smallFiles: async (src) => (smallFiles ??= await readSmallFiles(src)),
          watch: (tensors, phase, total) => watched(tensors, abort.signal, phase === 'cache' ? progress('cache', total) : () => {}, () => (stopWatch = watchCompile(g, format))),
          onProgress: (p: LoadProgress) => progress('convert', p.tensorsTotal)(p.tensorsDone),
        }), abort.signal, (v) => v.engine.destroy()).finally(() => stopWatch());
        ({ engine, fromCache } = viaCache);
        warnings.push(...viaCache.notes);
      }
      if (abort.signal.aborted) {
        engine.destroy();
        throw new DOMException('loading cancelled', 'AbortError');
      }
      if (!engine.tokenizer && model.kind !== 'synthetic') {
        engine.destroy();
        throw new TokenizerError(`${name} has no tokenizer.json, which the app needs to turn a prompt into tokens`);
      }
      const loadMs = performance.now() - t0;
      post({ type: 'load-progress', format, phase: 'warmup', tensorsDone: 0, tensorsTotal: 0 });
      const w0 = performance.now();
      await warmUp(engine);
      tracker.owner = null;
      engines.set(format, engine);
      const info: LoadedEngine = { format, weightBytes: engine.weightBytes, kvBytes: engine.kvBytes, kvCache: engine.kvCache, contextLength: engine.contextLength, fromCache, loadMs, warmupMs: performance.now() - w0 };
      loaded.push(info);
      post({ type: 'engine-loaded', engine: info });
    }
    const base = engines.get(formats[0]!)!;
    loadedModel = { name, synthetic: model.kind === 'synthetic', formats: [...formats] };
    post({
      type: 'loaded',
      info: {
        name,
        engines: loaded,
        hasChatTemplate: base.tokenizer?.hasChatTemplate ?? false,
        systemPrompt: base.tokenizer?.hasChatTemplate ? templateSystemPrompt(base.tokenizer) : { supported: false, defaultPrompt: null },
        synthetic: model.kind === 'synthetic',
        cacheWarning: warnings.length ? warnings.join(' ') : null,
      },
    });
  } catch (e) {
    destroyEngines();
    throw e;
  } finally {
    tracker.owner = null;
    if (loading === abort) loading = null;
    // The engines hold the weights now (or failed); the downloaded files need not stay in memory.
    if (model.kind === 'hub' && hub) {
      void hub.source.then((s) => s.release()).catch(() => {});
      hub = null;
    }
  }
}

/** The loaded engines' formats, baseline first; throws when a load is missing or incomplete (a lost device). */
function loadedFormats(): Format[] {
  if (!loadedModel || loadedModel.formats.some((f) => !engines.has(f))) throw new Error('no model is loaded');
  return loadedModel.formats;
}

async function readSmallFiles(src: ModelSource): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of SMALL_FILES) {
    const t = await src.text(f);
    if (t !== null) out.set(f, t);
  }
  return out;
}

async function generate(req: GenerateRequest): Promise<void> {
  if (running) throw new Error('a generation is already running');
  if (loading) throw new Error('a model is still loading');
  const formats = loadedFormats();
  const base = engines.get(formats[0]!)!;
  const codec = codecFor(base);
  const tok = base.tokenizer;
  // Chat: each engine's own conversation (its own replies) through the template, the oldest turns
  // dropped when it no longer fits (src/model/chat.ts); its KV cache keeps what the last turn left.
  const conversation = req.chat && tok?.hasChatTemplate ? (req.conversation ?? { system: null, turns: [] }) : null;
  const prompts = new Map<Format, { ids: number[]; text: string; droppedTurns: number }>();
  for (const format of formats) {
    const engine = engines.get(format)!;
    if (conversation) {
      const turns = conversation.turns.map((t) => ({ user: t.user, assistant: t.replies[format] ?? '' }));
      prompts.set(format, conversationPrompt(tok!, { system: conversation.system, turns, user: req.prompt }, { contextLength: engine.contextLength, maxNewTokens: req.maxNewTokens }));
    } else {
      prompts.set(format, { ids: codec.encode(req.prompt, req.chat), text: req.prompt, droppedTurns: 0 });
    }
    // The context policy (refuse, never truncate): checked before either engine starts, so the
    // message comes before any pane shows progress.
    engine.checkPrompt(prompts.get(format)!.ids);
  }
  const abort = new AbortController();
  running = abort;
  let finished = () => {};
  runDone = new Promise((r) => (finished = r));
  const { signal } = abort;
  try {
    // One after the other, never interleaved: each engine gets the whole GPU while it is timed.
    for (const format of formats) {
      if (signal.aborted) break;
      const engine = engines.get(format)!;
      const { ids, text, droppedTurns } = prompts.get(format)!;
      const reuseCache = conversation !== null;
      const promptPieces = tok ? ids.map((id) => tok.decode([id], false)) : ids.map(String);
      post({ type: 'gen-start', format, promptTokens: ids.length, reusedTokens: reuseCache ? engine.reusableTokens(ids) : 0, droppedTurns, promptText: tok ? text : codec.decode(ids), promptPieces });
      const decoder = codec.decoder();
      const out: number[] = [];
      const offsets: number[] = [];
      let at = 0;
      for await (const t of engine.generate(ids, { maxNewTokens: req.maxNewTokens, sampling: req.sampling, signal, reuseCache })) {
        offsets.push(at);
        out.push(t.id);
        const delta = decoder.push(t.id);
        at += delta.length;
        post({ type: 'token', format, index: t.index, id: t.id, delta, timeMs: t.timeMs });
      }
      const finish = finishReason(out, { promptTokens: ids.length, contextLength: engine.contextLength, stopIds: engine.eosIds, aborted: signal.aborted });
      post({ type: 'gen-end', format, ids: out, text: decoder.text, offsets, stopped: signal.aborted, finish });
    }
    post({ type: 'run-end', stopped: signal.aborted });
  } finally {
    if (running === abort) running = null;
    finished();
  }
}

async function bench(req: BenchRequest): Promise<void> {
  if (running) throw new Error('a generation or benchmark is already running');
  if (loading) throw new Error('a model is still loading');
  loadedFormats();
  const g = await ensureGpu();
  const abort = new AbortController();
  running = abort;
  let finished = () => {};
  runDone = new Promise((r) => (finished = r));
  try {
    const report = await runBenchmark(req, { gpu: g, engines, tracker, modelName: loadedModel!.name, synthetic: loadedModel!.synthetic, signal: abort.signal, post });
    post({ type: 'bench-done', report });
  } finally {
    if (running === abort) running = null;
    finished();
  }
}

/**
 * The batch-size sweep: each loaded engine rebuilt for the largest batch (with a KV cache just long
 * enough for the sweep's sequences, so 16 of them cost little memory), measured at every size, and
 * rebuilt as it was, also when cancelled or failed.
 */
async function sweep(req: SweepRequest): Promise<BatchBenchReport> {
  if (running) throw new Error('a generation or benchmark is already running');
  if (loading) throw new Error('a model is still loading');
  const formats = loadedFormats();
  const g = await ensureGpu();
  if (!req.batches.length || req.batches.some((b) => !Number.isInteger(b) || b < 1 || b > 64)) throw new RangeError('batch sizes must be whole numbers from 1 to 64');
  const abort = new AbortController();
  running = abort;
  let finished = () => {};
  runDone = new Promise((r) => (finished = r));
  try {
    const maxBatch = Math.max(2, ...req.batches);
    const contextLength = req.promptTokens + req.newTokens;
    const results: BatchEngineResult[] = [];
    for (const format of formats) {
      const engine = engines.get(format)!;
      const before = { batch: engine.forward.shape.maxBatch, context: engine.contextLength };
      post({ type: 'sweep-progress', line: `${format}: rebuilding for ${maxBatch} sequences of ${contextLength} tokens` });
      await engine.setMaxBatch(maxBatch, contextLength);
      try {
        const r = await measureBatches(engine, { ...req, seed: 1, warmup: 1, profile: false, signal: abort.signal, log: (line) => post({ type: 'sweep-progress', line: `${format} ${line}` }) });
        results.push({ engine: format, weightBytes: engine.weightBytes, kvBytesPerSequence: engine.kvBytes / maxBatch, contextLength, results: r });
      } finally {
        await engine.setMaxBatch(before.batch, before.context);
      }
    }
    const settings = { model: loadedModel!.name, engines: [...formats], batches: [...req.batches], promptTokens: req.promptTokens, newTokens: req.newTokens, runs: req.runs, warmup: 1, seed: 1 };
    return batchReport(g, settings, loadedModel!.name, engines.get(formats[0]!)!.config, results);
  } finally {
    if (running === abort) running = null;
    finished();
  }
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init':
      try {
        await ensureGpu();
      } catch (e) {
        post({ type: 'gpu-unavailable', error: toWire(e) });
      }
      return;
    case 'plan':
      try {
        post({ type: 'plan', requestId: m.requestId, plan: await plan(m.model, m.contextLength) });
      } catch (e) {
        post({ type: 'plan-error', requestId: m.requestId, error: toWire(e) });
      }
      return;
    case 'load':
      try {
        await load(m.model, m.contextLength, m.engines);
      } catch (e) {
        post({ type: 'load-error', error: toWire(e) });
      }
      return;
    case 'cancel-load':
      loading?.abort();
      hub?.abort.abort();
      return;
    case 'generate':
      try {
        await generate(m.request);
      } catch (e) {
        post({ type: 'run-error', error: toWire(e) });
      }
      return;
    case 'stop':
    case 'bench-cancel':
      running?.abort();
      return;
    case 'bench-start':
      try {
        await bench(m.request);
      } catch (e) {
        post({ type: 'bench-error', error: toWire(e), cancelled: (e as Error)?.name === 'AbortError' });
      }
      return;
    case 'sweep-start':
      try {
        post({ type: 'sweep-done', report: await sweep(m.request) });
      } catch (e) {
        post({ type: 'sweep-error', error: toWire(e), cancelled: (e as Error)?.name === 'AbortError' });
      }
      return;
    case 'lose-device':
      if (gpu) (await gpu).device.destroy();
      return;
  }
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => void handle(ev.data);
