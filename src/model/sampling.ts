// Plain-TS reference of the GPU sampler (src/kernels/sample.wgsl) and the RNG both share.
// Semantics follow HF's logits processors in their default order: repetition penalty, temperature,
// top-k, top-p, then a multinomial draw. Ties at the top-k/top-p cut are kept (a threshold on the
// logit value), which for distinct logits is exactly HF's sort-based behaviour.

export interface SamplingParams {
  temperature: number; // 0 = greedy
  topK: number; // 0 = off
  topP: number; // 1 = off
  repetitionPenalty: number; // 1 = off
  seed: number;
}

// Sizes of the GPU sampler's spread passes (the constants of src/kernels/sample.wgsl), here so the
// memory plan can count its scratch without loading the kernel.
/** logits per workgroup of the spread passes (SPART) */
export const SAMPLER_SPART = 1024;
const SAMPLER_NB = 32; // candidate thresholds (NB)
const SAMPLER_CAP = 4096; // most candidates the final pass takes (CAP)
/** The largest vocabulary the spread passes take: one workgroup of 256 reduces a figure per part. */
export const MAX_SAMPLER_VOCAB = 256 * SAMPLER_SPART;

/**
 * Where the sampler's scratch buffer (the OFF_* layout in sample.wgsl) keeps the threshold that
 * sample_select chose (SAMPLER_THRESHOLDS: none, the full-vocabulary path), and its size in words.
 */
export function samplerScratchLayout(vocab: number): { choiceWord: number; words: number } {
  const parts = Math.ceil(vocab / SAMPLER_SPART);
  const choiceWord = parts * (4 + 2 * SAMPLER_NB);
  return { choiceWord, words: choiceWord + 1 + vocab + 2 * SAMPLER_CAP };
}
export const SAMPLER_THRESHOLDS = SAMPLER_NB;

export const samplerScratchWords = (vocab: number) => samplerScratchLayout(vocab).words;

/** PCG-RXS-M-XS hash of one u32 (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020). */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/**
 * Counter-based uniform in [0, 1): a pure function of (seed, counter), so a generation replays
 * exactly and the GPU needs no RNG state. 24 bits, exact in f32, so the WGSL twin is bit-exact.
 * The sampler uses counter = kv_len (the number of tokens before the one being drawn).
 */
export function samplingUniform(seed: number, counter: number): number {
  const h = pcgHash((pcgHash(seed >>> 0) + (counter >>> 0)) >>> 0);
  return (h >>> 8) / 16777216;
}

/** One row of logits -> next token id, in float64 with sorts: the reference for the GPU sampler. */
export function sampleReference(logits: Float32Array, history: ArrayLike<number>, p: SamplingParams, kvLen: number): number {
  const v = logits.length;
  const x = Float64Array.from(logits);

  // (a) Each distinct token seen so far is penalized once, from its raw logit.
  if (p.repetitionPenalty !== 1) {
    const seen = new Set<number>();
    for (let j = 0; j < kvLen; j++) {
      const t = history[j]!;
      if (t >= v || seen.has(t)) continue;
      seen.add(t);
      const l = logits[t]!;
      x[t] = l > 0 ? l / p.repetitionPenalty : l * p.repetitionPenalty;
    }
  }

  // (b) Greedy: first index of the maximum.
  if (!(p.temperature > 0)) {
    let best = 0;
    for (let i = 1; i < v; i++) if (x[i]! > x[best]!) best = i;
    return best;
  }
  for (let i = 0; i < v; i++) x[i] = x[i]! / p.temperature;

  const order = Array.from({ length: v }, (_, i) => i).sort((a, b) => x[b]! - x[a]! || a - b);
  const max = x[order[0]!]!;

  // (c) Top-k: keep x >= the k-th largest value.
  let thr = -Infinity;
  if (p.topK > 0 && p.topK < v) thr = x[order[p.topK - 1]!]!;

  // (d) Top-p over the top-k survivors: the smallest prefix of the sorted list whose mass reaches
  // topP; its last value becomes the threshold (so ties with it are kept too).
  if (p.topP < 1) {
    let z = 0;
    for (let i = 0; i < v; i++) if (x[i]! >= thr) z += Math.exp(x[i]! - max);
    let cum = 0;
    for (const i of order) {
      if (x[i]! < thr) break;
      cum += Math.exp(x[i]! - max) / z;
      if (cum >= p.topP) {
        thr = x[i]!;
        break;
      }
    }
  }

  // (e) Multinomial draw by cumulative mass in index order.
  let total = 0;
  for (let i = 0; i < v; i++) if (x[i]! >= thr) total += Math.exp(x[i]! - max);
  const target = samplingUniform(p.seed, kvLen) * total;
  let acc = 0;
  let last = order[0]!;
  for (let i = 0; i < v; i++) {
    if (x[i]! < thr) continue;
    acc += Math.exp(x[i]! - max);
    last = i;
    if (acc > target) return i;
  }
  return last; // only reachable through rounding when u is within an ulp of 1
}
