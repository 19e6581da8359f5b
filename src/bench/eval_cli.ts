// `bench --eval`: the teacher-forced evaluation (eval.ts) of a model folder's engines over the
// built-in text or a text file, tokenized with the model's own tokenizer (special tokens as HF's
// tokenizer(text) adds them). The first engine is the baseline.
import { readFile } from 'node:fs/promises';
import { Engine } from '../model/engine';
import { folderSource } from '../model/source';
import type { WeightFormat } from '../kernels/formats';
import type { KvFormat } from '../kernels/kv_cache';
import { acquireBenchDevice } from './model_bench';
import { evaluate, renderEvalTable, type EvalReport } from './eval';
import { BUILTIN_EVAL_NAME, BUILTIN_EVAL_TEXT } from './eval/builtin_text';
import type { W8a8Setting } from '../gpu/pipelines';

export const EVAL_SCHEMA = 'int8-llm-eval/1';

export interface EvalCliOptions {
  model: string;
  engines: WeightFormat[];
  /** 'builtin' or a path to a UTF-8 text file */
  text: string;
  contextLength?: number;
  stride?: number;
  /** logit rows per pass (memory: rows x vocab x 4 bytes per engine); default 64 */
  rows?: number;
  /** the KV cache's storage; default the engine's choice */
  kvCache?: KvFormat;
  /** int8 passes of many rows with 8-bit activations (EngineOptions.w8a8); default the engine's ('auto') */
  w8a8?: W8a8Setting;
  log?: (line: string) => void;
}

export interface EvalCliReport extends EvalReport {
  schema: string;
  date: string;
  adapter: { name: string };
  model: string;
}

export async function runEvalCli(o: EvalCliOptions): Promise<EvalCliReport> {
  const gpu = await acquireBenchDevice();
  const text = o.text === 'builtin' ? BUILTIN_EVAL_TEXT : await readFile(o.text, 'utf8');
  const rows = o.rows ?? 64;
  const engines: Array<{ name: string; engine: Engine }> = [];
  try {
    for (const format of o.engines) {
      o.log?.(`[eval] loading ${o.model} (${format})`);
      const engine = await Engine.load(gpu, await folderSource(o.model), { format, contextLength: o.contextLength, maxRows: rows, maxLogitRows: rows, kvCache: o.kvCache, w8a8: o.w8a8, requireTokenizer: true });
      engines.push({ name: format, engine });
    }
    const ids = engines[0]!.engine.tokenizer!.encode(text);
    o.log?.(`[eval] ${ids.length} tokens`);
    const report = await evaluate(engines, ids, { contextLength: o.contextLength, stride: o.stride, text: o.text === 'builtin' ? BUILTIN_EVAL_NAME : o.text, log: o.log });
    return { schema: EVAL_SCHEMA, date: new Date().toISOString(), adapter: { name: gpu.adapterInfo.name }, model: o.model, ...report };
  } finally {
    for (const e of engines) e.engine.destroy();
  }
}

/** The readable report: the model and adapter, then eval.ts's table. */
export function renderEvalReport(r: EvalCliReport): string {
  return `${r.model} on ${r.adapter.name}\n${renderEvalTable(r)}`;
}
