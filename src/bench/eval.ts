// Teacher-forced evaluation: every engine reads the same token sequence, and at every position its
// next-token distribution is scored (perplexity: how well it predicts the text) and compared with
// the baseline engine's (KL divergence, top-1 agreement): the measure quantization work trusts
// (llama.cpp's `perplexity --kl-divergence`), where free-running greedy texts fork at the first
// near-tie. Long texts run in windows of the context length with a stride, as HF's perplexity
// guide does; logits are streamed chunk by chunk (Engine.logitChunks) and only the statistics kept.
import type { Engine } from '../model/engine';

/** log softmax of row `r` of `logits` [rows, V], in f64. */
export function logSoftmax(logits: ArrayLike<number>, V: number, r = 0, out = new Float64Array(V)): Float64Array {
  const base = r * V;
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[base + i]!);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(logits[base + i]! - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < V; i++) out[i] = logits[base + i]! - lse;
  return out;
}

/** KL(P || Q) in nats from log-probabilities: sum p (log p - log q). */
export function klDivergence(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const lp = logP[i]!;
    if (lp === -Infinity) continue; // p = 0 contributes nothing
    kl += Math.exp(lp) * (lp - logQ[i]!);
  }
  return Math.max(0, kl); // rounding can leave -1e-17 for identical rows
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Perplexity from a sum of negative log-likelihoods over `count` predictions. */
export const perplexity = (nllSum: number, count: number): number => Math.exp(nllSum / count);

/** Upper edges of the per-position KL histogram (nats); the last bin is everything above 10. */
export const KL_BINS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, Infinity];

/** A baseline's top token counts as confident at this probability or more. */
export const CONFIDENT = 0.5;

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface EngineEval {
  engine: string;
  /** exp(mean negative log-likelihood of the next token) */
  perplexity: number;
  meanNll: number;
  /** against the baseline; absent for the baseline itself */
  vsBaseline?: {
    meanKl: number;
    p99Kl: number;
    maxKl: number;
    medianKl: number;
    /** share of positions whose top token equals the baseline's */
    top1Agreement: number;
    /** among positions where the baseline's top token has p >= CONFIDENT: share with the same top token */
    confidentSameTop: number;
    confidentPositions: number;
    /** counts of per-position KL per KL_BINS bin */
    klHistogram: number[];
  };
}

export interface EvalReport {
  /** the text's name: "builtin-v1", a file name, "baseline replies" */
  text: string;
  /** sequences evaluated (each windowed on its own): 1 for a text, one per prompt for replies */
  sequences: number;
  tokens: number;
  /** next-token predictions scored (tokens - sequences) */
  positions: number;
  contextLength: number;
  stride: number;
  windows: number;
  baseline: string;
  engines: EngineEval[];
}

/** Per-engine accumulators, updated one position at a time. */
class Accumulator {
  nll = 0;
  kls: number[] = [];
  top1 = 0;
  confident = 0;
  confidentSame = 0;
  constructor(readonly name: string) {}
}

/**
 * The windows of a sequence of n tokens: [begin, end) with end - begin <= context, each scoring
 * the targets from `from` (HF's perplexity with a stride: a window's first `context - stride`
 * tokens are context only, already scored by the window before).
 */
export function evalWindows(n: number, context: number, stride: number): Array<{ begin: number; end: number; from: number }> {
  // stride < context: each window after the first has context before its first target, so every
  // token after the first is scored exactly once.
  if (!(Number.isInteger(stride) && stride >= 1 && stride < context)) throw new RangeError(`eval: stride ${stride} must be in [1, context ${context} - 1]`);
  const out: Array<{ begin: number; end: number; from: number }> = [];
  let prevEnd = 0;
  for (let begin = 0; begin < n; begin += stride) {
    const end = Math.min(begin + context, n);
    // Targets are tokens [max(prevEnd, begin + 1), end): token 0 of a window is never predicted.
    out.push({ begin, end, from: Math.max(prevEnd, begin + 1) });
    prevEnd = end;
    if (end === n) break;
  }
  return out;
}

export interface EvalOptions {
  /** tokens per window; default the engines' context length */
  contextLength?: number;
  /** default half the context length */
  stride?: number;
  text?: string;
  log?: (line: string) => void;
  /** after every window: windows done, and in all */
  onWindow?: (done: number, total: number) => void;
  /** checked between chunks: the evaluation rejects with an AbortError */
  signal?: AbortSignal;
}

/** The windows of every sequence, in order. */
export function evalPlan(sequences: readonly (readonly number[])[], context: number, stride: number) {
  return sequences.flatMap((ids, seq) => (ids.length < 2 ? [] : evalWindows(ids.length, context, stride).map((w) => ({ ...w, seq }))));
}

/**
 * Runs every engine over `input` (one token sequence, or several, each windowed on its own) and
 * scores it; the first engine is the baseline the others are compared with. The engines run window
 * by window and chunk by chunk in lockstep, so only one chunk of logits per engine is held at a time.
 */
export async function evaluate(engines: Array<{ name: string; engine: Engine }>, input: readonly number[] | readonly (readonly number[])[], o: EvalOptions = {}): Promise<EvalReport> {
  if (engines.length === 0) throw new RangeError('eval: no engine');
  const sequences = (input.length > 0 && Array.isArray(input[0]) ? input : [input]) as readonly (readonly number[])[];
  if (!sequences.some((ids) => ids.length >= 2)) throw new RangeError('eval: the text must be at least 2 tokens');
  const V = engines[0]!.engine.config.vocabSize;
  if (engines.some((e) => e.engine.config.vocabSize !== V)) throw new RangeError('eval: the engines have different vocabularies');
  const context = o.contextLength ?? Math.min(...engines.map((e) => e.engine.contextLength));
  const stride = o.stride ?? Math.max(1, Math.floor(context / 2));
  let scored = 0;
  const windows = evalPlan(sequences, context, stride);
  const acc = engines.map((e) => new Accumulator(e.name));
  const logP = new Float64Array(V);
  const logQ = new Float64Array(V);
  for (const [w, win] of windows.entries()) {
    if (o.signal?.aborted) throw new DOMException('the evaluation was cancelled', 'AbortError');
    const ids = sequences[win.seq]!;
    o.log?.(`[eval] window ${w + 1}/${windows.length}: ${sequences.length > 1 ? `sequence ${win.seq + 1}, ` : ''}tokens ${win.begin}..${win.end - 1}`);
    const seq = ids.slice(win.begin, win.end);
    const streams = engines.map((e) => e.engine.logitChunks(seq)[Symbol.asyncIterator]());
    try {
      for (;;) {
        if (o.signal?.aborted) throw new DOMException('the evaluation was cancelled', 'AbortError');
        const chunks = await Promise.all(streams.map((s) => s.next()));
        if (chunks[0]!.done) break;
        const [first, ...rest] = chunks.map((c) => c.value!);
        if (rest.some((c) => c.pos !== first!.pos || c.rows !== first!.rows)) throw new Error('eval: engines chunked the window differently (load them with the same maxRows and maxLogitRows)');
        for (let r = 0; r < first!.rows; r++) {
          const t = win.begin + first!.pos + r + 1; // the token this row predicts
          if (t < win.from || t >= win.end) continue;
          const target = ids[t]!;
          scored++;
          logSoftmax(first!.logits, V, r, logP);
          const top = argmax(logP);
          const confident = Math.exp(logP[top]!) >= CONFIDENT;
          acc[0]!.nll -= logP[target]!;
          chunks.forEach((c, e) => {
            if (e === 0) return;
            logSoftmax(c.value!.logits, V, r, logQ);
            const a = acc[e]!;
            a.nll -= logQ[target]!;
            a.kls.push(klDivergence(logP, logQ));
            const same = argmax(logQ) === top;
            a.top1 += Number(same);
            if (confident) {
              a.confident++;
              a.confidentSame += Number(same);
            }
          });
        }
      }
    } finally {
      await Promise.all(streams.map((s) => s.return?.(undefined)));
    }
    o.onWindow?.(w + 1, windows.length);
  }
  const positions = scored; // sum of (length - 1): evalWindows scores each target once
  return {
    text: o.text ?? 'ids',
    sequences: sequences.filter((ids) => ids.length >= 2).length,
    tokens: sequences.reduce((a, ids) => a + (ids.length >= 2 ? ids.length : 0), 0),
    positions,
    contextLength: context,
    stride,
    windows: windows.length,
    baseline: engines[0]!.name,
    engines: acc.map((a, e): EngineEval => {
      const meanNll = a.nll / positions;
      const r: EngineEval = { engine: a.name, perplexity: Math.exp(meanNll), meanNll };
      if (e === 0) return r;
      const sorted = Float64Array.from(a.kls).sort();
      const hist = KL_BINS.map(() => 0);
      for (const kl of sorted) hist[KL_BINS.findIndex((edge) => kl <= edge)]!++;
      r.vsBaseline = {
        meanKl: sorted.reduce((x, y) => x + y, 0) / sorted.length,
        medianKl: quantile(sorted, 0.5),
        p99Kl: quantile(sorted, 0.99),
        maxKl: sorted[sorted.length - 1]!,
        top1Agreement: a.top1 / positions,
        confidentSameTop: a.confident ? a.confidentSame / a.confident : NaN,
        confidentPositions: a.confident,
        klHistogram: hist,
      };
      return r;
    }),
  };
}

/** "0..1e-6", "1e-6..1e-5", ..., "10..inf": the KL_BINS ranges as labels. */
export const klBinLabels = (): string[] => KL_BINS.map((b, i) => `${i === 0 ? '0' : fmtEdge(KL_BINS[i - 1]!)}..${Number.isFinite(b) ? fmtEdge(b) : 'inf'}`);
const fmtEdge = (x: number) => (x >= 1 ? String(x) : x.toExponential(0));

const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toPrecision(d) : '-');

/** The readable table: perplexity per engine, and each candidate against the baseline, with its KL histogram. */
export function renderEvalTable(r: EvalReport): string {
  const lines = [
    `${r.text}: ${r.sequences > 1 ? `${r.sequences} sequences, ` : ''}${r.tokens} tokens, ${r.positions} positions scored, context ${r.contextLength}, stride ${r.stride} (${r.windows} windows); baseline ${r.baseline}`,
    'engine  perplexity  mean KL    median KL  p99 KL     max KL     top-1   same top where confident',
  ];
  for (const e of r.engines) {
    const v = e.vsBaseline;
    lines.push(
      [e.engine.padEnd(6), f(e.perplexity, 6).padStart(10), ...(v ? [f(v.meanKl), f(v.medianKl), f(v.p99Kl), f(v.maxKl)].map((x) => x.padStart(9)) : ['(baseline)']), ...(v ? [`${(100 * v.top1Agreement).toFixed(2)}%`.padStart(7), `${(100 * v.confidentSameTop).toFixed(2)}% of ${v.confidentPositions}`] : [])].join('  '),
    );
  }
  const labels = klBinLabels();
  for (const e of r.engines.filter((x) => x.vsBaseline)) lines.push(`${e.engine} KL histogram: ${e.vsBaseline!.klHistogram.map((c, i) => `${labels[i]} ${c}`).join(', ')}`);
  return lines.join('\n') + '\n';
}
