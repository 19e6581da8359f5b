// The memory plan of every engine the app can build, for the worker's plan step: each format's
// bytes from config.json alone, and whether this adapter accepts it (memory.ts's checkFits, per
// format, so a model too large in FP16 can still be offered in INT8 or Q4).
import type { ModelConfig } from '../src/model/config';
import { checkFits, planMemory } from '../src/model/memory';
import { FORMATS, type EnginePlan, type Format } from './protocol';

export type AdapterLimits = Parameters<typeof checkFits>[1];

export interface PlanShape {
  maxCtx: number;
  maxRows: number;
  maxLogitRows: number;
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
    return { format, weightBytes: p.weightBytes, kvBytes: p.kvBytes, activationBytes: p.activationBytes, totalBytes: p.totalBytes, cached: cached(format), refusal };
  });
  // The KV cache, activations and logits do not depend on the format: the largest of any plan.
  const largestBuffer = plans.map((p) => p.plan.largestBuffer).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { engines, largestBuffer };
}

/**
 * Engine.shapeFor(config, { contextLength }) (what the worker's plan and load use), restated here so
 * the page need not bundle the engine: the context capped by the model, 512 rows per pass (the
 * engine's DEFAULT_MAX_ROWS), logits for one row. tests/unit/engines.test.ts holds the two equal.
 */
export function planShape(config: ModelConfig, contextLength: number): PlanShape {
  const maxCtx = Math.min(contextLength, config.maxPositionEmbeddings);
  return { maxCtx, maxRows: Math.min(512, maxCtx), maxLogitRows: 1 };
}

/** One engine's GPU memory (weights, KV cache, activations) from config.json alone: what a badge can say before any fetch. */
export function engineBytes(config: ModelConfig, format: Format, contextLength: number): number {
  const s = planShape(config, contextLength);
  return planMemory(config, format, s.maxCtx, s.maxRows, s.maxLogitRows).totalBytes;
}
