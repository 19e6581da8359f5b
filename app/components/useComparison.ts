import { useMemo } from 'react';
import { rougeL, tokenAgreement, firstDivergence } from '../../src/bench/metrics';
import { useApp, paneStats } from '../store';
import type { Format } from '../protocol';

export interface ComparisonResult {
  /** the loaded pair: the candidate is measured against the baseline */
  baseline: Format;
  candidate: Format;
  tokens: { baseline: number; candidate: number };
  agreement: number;
  /** first token index where the engines differ; null when identical */
  divergence: number | null;
  rougeL: number;
  /** candidate decode tokens/s over the baseline's */
  speedup: number | null;
  /** candidate weight bytes over the baseline's */
  memoryRatio: number | null;
  /** an engine was stopped: only the first `compared` tokens, which both produced, are compared */
  incomplete: boolean;
  compared: number;
}

/** Metrics once both engines have finished (or been stopped after producing tokens). */
export function useComparison(): ComparisonResult | null {
  const run = useApp((s) => s.run);
  const engines = useApp((s) => s.load.info?.engines);
  return useMemo(() => {
    const [b, c] = engines ?? [];
    if (!b || !c) return null;
    const base = run.panes[b.format];
    const cand = run.panes[c.format];
    // A pane skipped by Stop counts as stopped with no tokens.
    const skipped = (p: typeof base) => run.status === 'stopped' && p.status === 'waiting';
    const finished = (p: typeof base) => p.status === 'done' || p.status === 'stopped' || skipped(p);
    if (run.status === 'running' || !finished(base) || !finished(cand)) return null;
    const x = paneStats(base);
    const y = paneStats(cand);
    // A stopped engine did not diverge where it stopped: compare only the tokens both produced.
    const incomplete = base.status === 'stopped' || cand.status === 'stopped' || skipped(base) || skipped(cand);
    const n = incomplete ? Math.min(base.ids.length, cand.ids.length) : Math.max(base.ids.length, cand.ids.length);
    const cut = (p: typeof base) => (incomplete ? { ids: p.ids.slice(0, n), text: p.text.slice(0, p.offsets[n] ?? p.text.length) } : p);
    const [bb, cc] = [cut(base), cut(cand)];
    return {
      baseline: b.format,
      candidate: c.format,
      tokens: { baseline: base.ids.length, candidate: cand.ids.length },
      agreement: tokenAgreement(bb.ids, cc.ids),
      divergence: firstDivergence(bb.ids, cc.ids),
      rougeL: rougeL(cc.text, bb.text).f1,
      incomplete,
      compared: n,
      speedup: x.tokensPerSecond && y.tokensPerSecond ? y.tokensPerSecond / x.tokensPerSecond : null,
      memoryRatio: b.weightBytes && c.weightBytes ? c.weightBytes / b.weightBytes : null,
    };
  }, [run, engines]);
}
