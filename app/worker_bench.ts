// The benchmark button's work, in the engine worker: the prompt set (the built-in one, or AlpacaEval
// fetched from the app's hub), then the shared suite runner (src/bench/suite.ts) over the engines
// already loaded, and the teacher-forced evaluation when asked. Each engine counts as the owner of GPU buffers made while it runs, so the peak
// memory of the report includes anything a run allocates besides what its load did. A run of one
// engine (no baseline) reports no quality: see withoutSelfQuality.
import type { GpuContext } from '../src/gpu/device';
import type { BufferMemoryTracker } from '../src/gpu/memory_tracker';
import type { Engine } from '../src/model/engine';
import { datasetFileUrl } from '../src/hub/dataset';
import { ALPACA_SOURCE, loadPromptSet, samplePrompts } from '../src/bench/prompts';
import { runSuite } from '../src/bench/suite';
import type { SuiteReport } from '../src/bench/suite_report';
import type { BenchRequest, FromWorker } from './protocol';

export class EngineNotLoadedError extends Error {
  override name = 'EngineNotLoadedError';
}

export interface BenchContext {
  gpu: GpuContext;
  engines: ReadonlyMap<string, Engine>;
  tracker: BufferMemoryTracker;
  modelName: string;
  synthetic: boolean;
  signal: AbortSignal;
  post(m: FromWorker): void;
}

export async function runBenchmark(req: BenchRequest, c: BenchContext): Promise<SuiteReport> {
  const s = req.settings;
  for (const e of s.engines) if (!c.engines.has(e)) throw new EngineNotLoadedError(`the ${e} engine is not loaded; load a model first`);
  const source = s.promptSet === 'alpaca' ? datasetFileUrl(ALPACA_SOURCE.repo, ALPACA_SOURCE.file, { baseUrl: req.hubUrl, revision: ALPACA_SOURCE.revision }) : 'built-in';
  if (s.promptSet === 'alpaca') c.post({ type: 'bench-fetching', source });
  const set = await loadPromptSet(s.promptSet, { baseUrl: req.hubUrl, signal: c.signal });
  const base = c.engines.get(s.engines[0]!)!;
  // A chat template only where the model has one; the report records what was actually used.
  const settings = { ...s, chat: s.chat && (base.tokenizer?.hasChatTemplate ?? false) };
  const report = await runSuite({
    settings,
    prompts: samplePrompts(set, s.sampleSize, s.sampleSeed),
    promptSource: source,
    setSize: set.length,
    modelName: c.modelName,
    synthetic: c.synthetic,
    tags: {
      adapter: { ...c.gpu.adapterInfo },
      features: [...c.gpu.device.features].map(String).sort(),
      browser: navigator.userAgent,
      runtime: 'browser',
    },
    ...(req.evalText === undefined ? {} : { evalText: req.evalText }),
    signal: c.signal,
    onProgress: (progress) => c.post({ type: 'bench-progress', progress }),
    open: async (name) => {
      c.tracker.owner = name;
      return {
        engine: c.engines.get(name)!,
        peakBytes: () => c.tracker.of(name).peak,
        release: () => {
          c.tracker.owner = null;
        },
      };
    },
  });
  return withoutSelfQuality(report);
}

/**
 * A run of one engine has no baseline: runSuite still measures its outputs against its own first run
 * (1 by definition with one repetition), which is no quality figure. Those numbers become NaN:
 * "—" on screen, empty cells in the CSV, null in the JSON. A run of two or more is returned as it is.
 */
export function withoutSelfQuality(r: SuiteReport): SuiteReport {
  if (r.engines.length !== 1) return r;
  const none = { rougeL: NaN, exactMatch: NaN, tokenAgreement: NaN };
  return {
    ...r,
    engines: r.engines.map((e) => ({ ...e, quality: { ...e.quality, runsCompared: 0, ...none } })),
    prompts: r.prompts.map((p) => ({ ...p, results: Object.fromEntries(Object.entries(p.results).map(([name, res]) => [name, { ...res, ...none }])) })),
  };
}
