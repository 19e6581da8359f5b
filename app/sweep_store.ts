// The batch-size sweep of the Benchmark tab (bench --batch in the page): its form, the run in
// progress and the report. The worker rebuilds each loaded engine for the largest batch, measures
// every size and rebuilds it as it was.
import { create } from 'zustand';
import type { BatchBenchReport } from '../src/bench/batch_bench';
import type { WireError } from './protocol';
import { onWorkerMessage, sendToWorker, useApp } from './store';

export interface SweepForm {
  /** e.g. "1,2,4,8,16" */
  batches: string;
  promptTokens: number;
  newTokens: number;
  runs: number;
}

export interface SweepState {
  form: SweepForm;
  status: 'idle' | 'running' | 'done' | 'cancelled' | 'error';
  cancelling: boolean;
  /** the worker's progress lines, newest last */
  log: string[];
  report: BatchBenchReport | null;
  error: WireError | null;
  setForm(f: Partial<SweepForm>): void;
  start(): void;
  cancel(): void;
}

/** "1, 2,4" -> [1, 2, 4]; null when any entry is not a whole number from 1 to 64. */
export function parseBatches(s: string): number[] | null {
  const xs = s.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 1 || x > 64)) return null;
  return [...new Set(xs)].sort((a, b) => a - b);
}

export const useSweep = create<SweepState>()((set, get) => {
  onWorkerMessage((m) => {
    switch (m.type) {
      case 'sweep-progress':
        set((s) => ({ log: [...s.log.slice(-40), m.line] }));
        return;
      case 'sweep-done':
        set({ status: 'done', report: m.report, cancelling: false });
        return;
      case 'sweep-error':
        set({ status: m.cancelled ? 'cancelled' : 'error', error: m.cancelled ? null : m.error, cancelling: false });
        return;
      case 'device-lost':
        if (get().status === 'running') set({ status: 'error', error: { name: 'DeviceLost', message: 'the GPU device was lost during the sweep' }, cancelling: false });
        return;
    }
  });
  return {
    form: { batches: '1,2,4,8,16', promptTokens: 64, newTokens: 32, runs: 2 },
    status: 'idle',
    cancelling: false,
    log: [],
    report: null,
    error: null,
    setForm(f) {
      set((s) => ({ form: { ...s.form, ...f } }));
    },
    start() {
      const app = useApp.getState();
      const { form, status } = get();
      if (status === 'running' || app.load.status !== 'ready' || app.run.status === 'running') return;
      const batches = parseBatches(form.batches);
      if (!batches) {
        set({ status: 'error', error: { name: 'RangeError', message: 'batch sizes: whole numbers from 1 to 64, separated by commas' } });
        return;
      }
      set({ status: 'running', log: [], error: null, cancelling: false });
      sendToWorker({ type: 'sweep-start', request: { batches, promptTokens: form.promptTokens, newTokens: form.newTokens, runs: form.runs } });
    },
    cancel() {
      if (get().status !== 'running') return;
      set({ cancelling: true });
      sendToWorker({ type: 'bench-cancel' });
    },
  };
});
