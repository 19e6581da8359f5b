// How close two generations are: the app compares the f16 baseline with the int8 engine, the
// benchmarks compare an engine with a reference. Pure functions, no engine imports.

/** Whitespace tokens: ROUGE-L here is about words the reader sees, not the model's subword ids. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/**
 * Length of the longest common subsequence. Two rolling rows, so memory is O(min(n, m)) even for
 * long generations; time is O(n*m), fine for a few thousand words.
 */
export function lcsLength<T>(a: readonly T[], b: readonly T[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let prev = new Uint32Array(short.length + 1);
  let cur = new Uint32Array(short.length + 1);
  for (let i = 1; i <= long.length; i++) {
    const x = long[i - 1];
    for (let j = 1; j <= short.length; j++) {
      cur[j] = x === short[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[short.length]!;
}

export interface RougeL {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * ROUGE-L (Lin, 2004) on whitespace tokens: precision = LCS / |candidate|, recall = LCS / |reference|,
 * F1 their harmonic mean. Two empty texts are identical (1); one empty text shares nothing (0).
 */
export function rougeL(candidate: string, reference: string): RougeL {
  const c = words(candidate);
  const r = words(reference);
  if (c.length === 0 && r.length === 0) return { precision: 1, recall: 1, f1: 1 };
  if (c.length === 0 || r.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const l = lcsLength(c, r);
  const precision = l / c.length;
  const recall = l / r.length;
  const f1 = l === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/**
 * Fraction of positions holding the same token id, over the longer sequence: extra tokens in one
 * sequence count as disagreements, so stopping early is not rewarded. Two empty sequences agree (1).
 */
export function tokenAgreement(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  if (n === 0) return 1;
  let same = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] === b[i]) same++;
  return same / n;
}

/**
 * Index of the first position where the sequences differ; when one is a prefix of the other, the
 * shorter length (where one continues and the other stopped); null when they are identical.
 */
export function firstDivergence(a: readonly number[], b: readonly number[]): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? null : n;
}

export interface LogitsAgreement {
  /** rms(got - want) / std(want) over all positions */
  nrmse: number;
  /** positions whose reference top-2 gap exceeds 4x the rms error (plus a hair): a clear winner */
  clear: number;
  /** of those, positions where `got` has the same argmax */
  agree: number;
}

function argmaxOf(row: ArrayLike<number>, from: number, to: number): number {
  let top = from;
  for (let i = from + 1; i < to; i++) if (row[i]! > row[top]!) top = i;
  return top - from;
}

/**
 * How well logits [T, V] match a reference: the normalized RMSE, and top-1 agreement on the
 * positions where the reference's winner is clear of its error (random-weight models have near
 * ties that any rounding may flip).
 */
export function logitsAgreement(got: ArrayLike<number>, want: ArrayLike<number>, T: number, V: number): LogitsAgreement {
  if (got.length !== T * V || want.length !== T * V) throw new RangeError(`logitsAgreement: expected ${T}x${V} values, got ${got.length} and ${want.length}`);
  let se = 0;
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < want.length; i++) {
    se += (got[i]! - want[i]!) ** 2;
    sum += want[i]!;
    sum2 += want[i]! ** 2;
  }
  const n = want.length;
  const mean = sum / n;
  const err = Math.sqrt(se / n);
  const nrmse = err / Math.sqrt(sum2 / n - mean * mean);
  let clear = 0;
  let agree = 0;
  for (let t = 0; t < T; t++) {
    const top = argmaxOf(want, t * V, (t + 1) * V);
    let second = -Infinity;
    let rowSum = 0;
    let rowSum2 = 0;
    for (let i = 0; i < V; i++) {
      const w = want[t * V + i]!;
      if (i !== top && w > second) second = w;
      rowSum += w;
      rowSum2 += w * w;
    }
    const std = Math.sqrt(Math.max(0, rowSum2 / V - (rowSum / V) ** 2));
    if (want[t * V + top]! - second > 4 * err + 1e-4 * std) {
      clear++;
      if (argmaxOf(got, t * V, (t + 1) * V) === top) agree++;
    }
  }
  return { nrmse, clear, agree };
}
