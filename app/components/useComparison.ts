import { useMemo } from 'react';
import { rougeL, tokenAgreement, firstDivergence } from '../../src/bench/metrics';
import { useApp, paneStats } from '../store';

export interface ComparisonResult {
  tokens: { f16: number; int8: number };
  agreement: number;
  /** first token index where the engines differ; null when identical */
  divergence: number | null;
  rougeL: number;
  /** int8 decode tokens/s over f16's */
  speedup: number | null;
  /** int8 weight bytes over f16's */
  memoryRatio: number | null;
}

/** Metrics once both engines have finished (or been stopped after producing tokens). */
export function useComparison(): ComparisonResult | null {
  const run = useApp((s) => s.run);
  const engines = useApp((s) => s.load.info?.engines);
  return useMemo(() => {
    const { f16, int8 } = run.panes;
    const finished = (p: typeof f16) => p.status === 'done' || p.status === 'stopped';
    if (run.status === 'running' || !finished(f16) || !finished(int8)) return null;
    const a = paneStats(f16);
    const b = paneStats(int8);
    const w16 = engines?.find((e) => e.format === 'f16')?.weightBytes;
    const w8 = engines?.find((e) => e.format === 'int8')?.weightBytes;
    return {
      tokens: { f16: f16.ids.length, int8: int8.ids.length },
      agreement: tokenAgreement(f16.ids, int8.ids),
      divergence: firstDivergence(f16.ids, int8.ids),
      rougeL: rougeL(int8.text, f16.text).f1,
      speedup: a.tokensPerSecond && b.tokensPerSecond ? b.tokensPerSecond / a.tokensPerSecond : null,
      memoryRatio: w16 && w8 ? w8 / w16 : null,
    };
  }, [run, engines]);
}
