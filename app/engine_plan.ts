// The memory plan of every engine the app can build, for the worker's plan step: each format's
// bytes from config.json alone, and whether this adapter accepts it (memory.ts's checkFits, per
// format, so a model too large in FP16 can still be offered in INT8 or Q4).
import type { ModelConfig } from '../src/model/config';
import { checkFits, planMemory } from '../src/model/memory';
import { defaultKvFormat } from '../src/kernels/kv_cache';
import { forwardShape, type ForwardShape } from '../src/model/shape';
import { FORMATS, type EnginePlan, type Format } from './protocol';

export type AdapterLimits = Parameters<typeof checkFits>[1];

/** The shape of every engine of a model: the KV cache's format comes with the engine's weight format (planMemory's default). */
export type PlanShape = Omit<ForwardShape, 'kvCache'>;

/** The logits buffer the app's engines may spend on rows for the evaluation. */
export const LOGIT_BUDGET_BYTES = 8 * 2 ** 20;

/**
 * Logit rows per pass of the app's engines: generation needs one, the Benchmark tab's
 * teacher-forced evaluation reads every position's logits, as many rows per pass as 8 MiB of
 * logits hold (16 to 256: 16 for Llama 3's 128,256-token vocabulary, 42 for SmolLM2's 49,152,
 * 256 for a 512-token one) instead of one pass per position.
 */
export function appLogitRows(config: Pick<ModelConfig, 'vocabSize'>): number {
  return Math.max(16, Math.min(256, Math.floor(LOGIT_BUDGET_BYTES / (4 * config.vocabSize))));
}

export function planEngines(
  config: ModelConfig,
  shape: PlanShape,
  limits: AdapterLimits,
  name: string,
  cached: (f: Format) => boolean,
): { engines: EnginePlan[]; largestBuffer: { label: string; bytes: number } } {
  const plans = FORMATS.map((format) => ({ format, plan: planMemory(config, format, shape.maxCtx, shape.maxRows, shape.maxLogitRows) }));
  const engines = plans.map(({ format, plan: p }): EnginePlan => {
    let refusal: string | null = null;
    try {
      checkFits(p, limits, `${name} (${format})`);
    } catch (e) {
      refusal = (e as Error).message;
    }
    return { format, weightBytes: p.weightBytes, kvBytes: p.kvBytes, kvCache: defaultKvFormat(format, config.headDim), activationBytes: p.activationBytes, totalBytes: p.totalBytes, cached: cached(format), refusal };
  });
  // The activations and logits do not depend on the format, the KV cache does (f16 but for f32): the largest of any plan.
  const largestBuffer = plans.map((p) => p.plan.largestBuffer).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { engines, largestBuffer };
}

/** The shape the worker plans and loads the app's engines with (src/model/shape.ts, no adapter limits). */
export function planShape(config: ModelConfig, contextLength: number): PlanShape {
  const { kvCache: _, ...shape } = forwardShape(config, { contextLength, maxLogitRows: appLogitRows(config) });
  return shape;
}

/** One engine's GPU memory (weights, KV cache, activations) from config.json alone: what a badge can say before any fetch. */
export function engineBytes(config: ModelConfig, format: Format, contextLength: number): number {
  const s = planShape(config, contextLength);
  return planMemory(config, format, s.maxCtx, s.maxRows, s.maxLogitRows).totalBytes;
}
