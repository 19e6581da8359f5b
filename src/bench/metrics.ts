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
