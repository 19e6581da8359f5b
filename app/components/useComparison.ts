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
    const finished = (p: typeof base) => p.status === 'done' || p.status === 'stopped';
    if (run.status === 'running' || !finished(base) || !finished(cand)) return null;
    const x = paneStats(base);
    const y = paneStats(cand);
    return {
      baseline: b.format,
      candidate: c.format,
      tokens: { baseline: base.ids.length, candidate: cand.ids.length },
      agreement: tokenAgreement(base.ids, cand.ids),
      divergence: firstDivergence(base.ids, cand.ids),
      rougeL: rougeL(cand.text, base.text).f1,
      speedup: x.tokensPerSecond && y.tokensPerSecond ? y.tokensPerSecond / x.tokensPerSecond : null,
      memoryRatio: b.weightBytes && c.weightBytes ? c.weightBytes / b.weightBytes : null,
    };
  }, [run, engines]);
}
