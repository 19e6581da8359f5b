// The benchmark suite in Node (`npm run -s bench -- --suite ...`): the same runner as the app, with
// engines loaded one at a time (load, measure, destroy) so a model only needs room for one.
import { acquireDevice, type GpuContext } from '../gpu/device';
import { BufferMemoryTracker } from '../gpu/memory_tracker';
import { Engine } from '../model/engine';
import { folderSource, type ModelSource } from '../model/source';
import type { WeightFormat } from '../kernels/formats';
import { DEFAULT_HUB, hubSource, validateRepoId } from '../hub/hub';
import { datasetFileUrl } from '../hub/dataset';
import { loadSyntheticEngine } from './synthetic';
import { ALPACA_SOURCE, loadPromptSet, samplePrompts } from './prompts';
import { runSuite, type SuiteProgress } from './suite';
import type { SuiteReport, SuiteSettings } from './suite_report';

export interface SuiteCliOptions {
  /** "synthetic:<preset>", a local folder in HF layout, or a hub id */
  model: string;
  settings: SuiteSettings;
  /** the hub for model ids and the Alpaca set; default huggingface.co (or $HF_ENDPOINT) */
  hubUrl?: string;
  revision?: string;
  contextLength?: number;
  /** the text file of settings.eval { text: 'custom' } */
  evalFile?: string;
  log?: (line: string) => void;
}

/** Logit rows per pass when the suite evaluates (memory: rows x vocab x 4 bytes per engine). */
const EVAL_LOGIT_ROWS = 16;

const SYNTHETIC = 'synthetic:';

async function openSource(spec: string, hubUrl: string, revision: string, log: (l: string) => void): Promise<ModelSource> {
  const { stat } = await import('node:fs/promises');
  if ((await stat(spec).catch(() => null))?.isDirectory()) return folderSource(spec);
  return hubSource(validateRepoId(spec), {
    baseUrl: hubUrl,
    revision,
    token: process.env.HF_TOKEN,
    onProgress: (p) => p.fileBytes === p.fileTotal && log(`[suite] downloaded ${p.file} (${(p.fileBytes / 1e6).toFixed(1)} MB)`),
  });
}

function progressLine(p: SuiteProgress): string {
  const eta = p.etaSeconds === null ? '' : `, ETA ${Math.ceil(p.etaSeconds)} s`;
  if (p.phase === 'load') return `[suite] ${p.engine} (${p.engineIndex + 1}/${p.engineCount}): loading`;
  if (p.phase === 'eval') return `[suite] teacher-forced evaluation: ${p.prompts ? `window ${p.prompt} of ${p.prompts}` : 'loading every engine'}`;
  if (p.phase === 'warmup') return `[suite] ${p.engine}: warm-up (${p.done}/${p.total}${eta})`;
  return `[suite] ${p.engine}: prompt ${p.prompt} of ${p.prompts} (${p.done}/${p.total} generations${eta})`;
}

export async function runSuiteCli(o: SuiteCliOptions, gpu?: GpuContext): Promise<SuiteReport> {
  const log = o.log ?? (() => {});
  const hubUrl = o.hubUrl ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB;
  const revision = o.revision ?? 'main';
  const s = o.settings;
  const set = await loadPromptSet(s.promptSet, { baseUrl: hubUrl });
  const prompts = samplePrompts(set, s.sampleSize, s.sampleSeed);
  log(`[suite] ${s.promptSet}: ${prompts.length} of ${set.length} prompts`);
  gpu ??= await acquireDevice();
  const tracker = BufferMemoryTracker.attach(gpu.device);
  const synthetic = o.model.startsWith(SYNTHETIC);
  const source = synthetic ? null : await openSource(o.model, hubUrl, revision, log);
  const opts = {
    ...(o.contextLength === undefined ? {} : { contextLength: o.contextLength }),
    // Every row's logits for the evaluation, a chunk of rows at a time (one row per pass otherwise).
    ...(s.eval ? { maxLogitRows: EVAL_LOGIT_ROWS } : {}),
  };
  const evalText = s.eval?.text === 'custom' ? await (await import('node:fs/promises')).readFile(o.evalFile!, 'utf8') : undefined;
  return runSuite({
    settings: s,
    prompts,
    promptSource: s.promptSet === 'alpaca' ? datasetFileUrl(ALPACA_SOURCE.repo, ALPACA_SOURCE.file, { baseUrl: hubUrl, revision: ALPACA_SOURCE.revision }) : 'built-in',
    setSize: set.length,
    modelName: source?.name ?? o.model,
    synthetic,
    tags: {
      adapter: { ...gpu.adapterInfo },
      features: [...gpu.device.features].map(String).sort(),
      browser: `Node ${process.version} (webgpu/Dawn)`,
      runtime: 'node',
    },
    ...(evalText === undefined ? {} : { evalText }),
    onProgress: (p) => log(progressLine(p)),
    open: async (name) => {
      const format = name as WeightFormat;
      tracker.resetPeak(name);
      tracker.owner = name;
      let engine: Engine;
      try {
        engine = synthetic
          ? await loadSyntheticEngine(gpu, o.model.slice(SYNTHETIC.length), format, opts)
          : await Engine.load(gpu, source!, { format, ...opts });
      } catch (e) {
        tracker.owner = null;
        throw e;
      }
      return {
        engine,
        peakBytes: () => tracker.of(name).peak,
        release: async () => {
          engine.destroy();
          tracker.owner = null;
          await gpu.device.queue.onSubmittedWorkDone();
        },
      };
    },
  });
}
