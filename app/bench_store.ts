// The benchmark view's state: its form, the run in progress, the report on screen and the history
// of runs in IndexedDB. It talks to the engine worker through the main store's channel.
import { create } from 'zustand';
import type { SamplingParams } from '../src/model/sampling';
import { suiteCsv, type EvalTextSource, type SuiteReport } from '../src/bench/suite_report';
import type { SuiteProgress } from '../src/bench/suite';
import type { PromptSetName, SampleSize } from '../src/bench/prompts';
import { toWire, type FromWorker, type WireError } from './protocol';
import { deleteRun, listRuns, saveRun } from './history';
import { onWorkerMessage, sendToWorker, useApp } from './store';

export interface BenchForm {
  promptSet: PromptSetName;
  sampleSize: SampleSize;
  maxNewTokens: number;
  warmup: number;
  repetitions: number;
  pricePerHour: number;
  /** greedy (comparable outputs), or the Compare tab's sampling settings */
  greedy: boolean;
  /** the teacher-forced evaluation after the generations: its text, or none */
  evalText: 'off' | EvalTextSource;
  /** the text of evalText 'custom', and its name (a file's name, or "pasted text") */
  customText: string;
  customName: string;
  /** prompts decoded together (continuous batching); 1: one at a time */
  batch: number;
}

/** The largest evaluation text the page takes (characters): about 250k tokens, minutes on a laptop GPU. */
export const MAX_EVAL_CHARS = 1_000_000;

export type BenchStatus = 'idle' | 'fetching' | 'running' | 'done' | 'cancelled' | 'error';

export interface BenchState {
  tab: 'compare' | 'bench';
  form: BenchForm;
  status: BenchStatus;
  cancelling: boolean;
  source: string | null;
  progress: SuiteProgress | null;
  /** the report on screen: the run just finished, or one picked from the history */
  report: SuiteReport | null;
  error: WireError | null;
  history: SuiteReport[];
  /** the history has been read from IndexedDB at least once */
  historyLoaded: boolean;
  historyError: string | null;
  setTab(tab: BenchState['tab']): void;
  setForm(f: Partial<BenchForm>): void;
  start(): void;
  cancel(): void;
  refreshHistory(): Promise<void>;
  view(id: string): void;
  remove(id: string): Promise<void>;
}

const SAMPLE_SEED = 1;
/** engine.ts's GREEDY, without bundling the engine into the page */
const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

export const useBench = create<BenchState>()((set, get) => {
  const onMessage = (m: FromWorker) => {
    switch (m.type) {
      case 'bench-fetching':
        set({ status: 'fetching', source: m.source });
        return;
      case 'bench-progress':
        set({ status: 'running', progress: m.progress });
        return;
      case 'bench-done':
        set({ status: 'done', report: m.report, cancelling: false });
        void saveRun(m.report)
          .then(() => get().refreshHistory())
          .catch((e) => set({ historyError: `this run was not saved: ${toWire(e).message}` }));
        return;
      case 'bench-error':
        // A lost device aborts the run too; its message (below) already said why.
        if (get().status === 'error') return;
        set({ status: m.cancelled ? 'cancelled' : 'error', error: m.cancelled ? null : m.error, cancelling: false });
        return;
      case 'device-lost':
        if (get().status === 'running' || get().status === 'fetching') set({ status: 'error', error: { name: 'DeviceLost', message: 'the GPU device was lost during the benchmark' } });
        return;
    }
  };
  onWorkerMessage(onMessage);

  return {
    tab: new URLSearchParams(typeof location === 'undefined' ? '' : location.search).get('tab') === 'bench' ? 'bench' : 'compare',
    form: { promptSet: 'builtin', sampleSize: 'all', maxNewTokens: 64, warmup: 1, repetitions: 3, pricePerHour: 2, greedy: true, evalText: 'builtin', customText: '', customName: 'pasted text', batch: 1 },
    status: 'idle',
    cancelling: false,
    source: null,
    progress: null,
    report: null,
    error: null,
    history: [],
    historyLoaded: false,
    historyError: null,

    setTab(tab) {
      set({ tab });
      if (tab === 'bench') void get().refreshHistory();
    },

    setForm(f) {
      set((s) => ({ form: { ...s.form, ...f } }));
    },

    start() {
      const app = useApp.getState();
      const { status, form } = get();
      if (app.load.status !== 'ready' || app.run.status === 'running' || status === 'running' || status === 'fetching') return;
      // The loaded engines, baseline first: the pair picked when the model was loaded.
      const engines = app.load.info?.engines.map((e) => e.format) ?? [];
      if (engines.length === 0) return;
      const st = app.settings;
      const sampling = form.greedy ? GREEDY : { temperature: st.temperature, topK: st.topK, topP: st.topP, repetitionPenalty: st.repetitionPenalty, seed: st.seed };
      const custom = form.evalText === 'custom';
      if (custom && !form.customText.trim()) {
        set({ status: 'error', error: { name: 'EvalTextError', message: 'the evaluation text is empty: paste a text, drop a file on the box or choose one' } });
        return;
      }
      set({ status: 'running', progress: null, error: null, cancelling: false, source: null });
      sendToWorker({
        type: 'bench-start',
        request: {
          hubUrl: app.hubUrl,
          settings: {
            promptSet: form.promptSet,
            sampleSize: form.sampleSize,
            sampleSeed: SAMPLE_SEED,
            engines,
            maxNewTokens: form.maxNewTokens,
            warmup: form.warmup,
            repetitions: form.repetitions,
            sampling,
            chat: st.chat,
            pricePerHour: form.pricePerHour,
            ...(form.batch > 1 ? { batch: form.batch } : {}),
            ...(form.evalText === 'off' ? {} : { eval: { text: form.evalText, ...(custom ? { name: form.customName } : {}) } }),
          },
          ...(custom ? { evalText: form.customText } : {}),
        },
      });
    },

    cancel() {
      if (get().status !== 'running' && get().status !== 'fetching') return;
      set({ cancelling: true });
      sendToWorker({ type: 'bench-cancel' });
    },

    async refreshHistory() {
      try {
        set({ history: await listRuns(), historyLoaded: true, historyError: null });
      } catch (e) {
        set({ historyError: toWire(e).message });
      }
    },

    view(id) {
      const r = get().history.find((h) => h.id === id);
      if (r) set({ report: r });
    },

    async remove(id) {
      await deleteRun(id);
      if (get().report?.id === id) set({ report: null });
      await get().refreshHistory();
    },
  };
});

/** A file name for exports: "bench-stories260K-2026-11-24T20-18-59" */
export function exportName(r: SuiteReport, ext: 'json' | 'csv'): string {
  const model = r.model.name.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `bench-${model}-${r.date.slice(0, 19).replace(/:/g, '-')}.${ext}`;
}

export function download(r: SuiteReport, ext: 'json' | 'csv'): void {
  saveFile(exportName(r, ext), ext === 'json' ? JSON.stringify(r, null, 2) : suiteCsv(r), ext === 'json' ? 'application/json' : 'text/csv');
}

/** Offers `body` to the browser as a download named `name`. */
export function saveFile(name: string, body: string, type: string): void {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
