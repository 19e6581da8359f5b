// `bench --eval`: the teacher-forced evaluation (eval.ts) of a model folder's engines over the
// built-in text or a text file, tokenized with the model's own tokenizer (special tokens as HF's
// tokenizer(text) adds them). The first engine is the baseline.
import { readFile } from 'node:fs/promises';
import { Engine } from '../model/engine';
import { folderSource } from '../model/source';
import type { WeightFormat } from '../kernels/formats';
import { acquireBenchDevice } from './model_bench';
import { evaluate, KL_BINS, type EvalReport } from './eval';
import { BUILTIN_EVAL_NAME, BUILTIN_EVAL_TEXT } from './eval/builtin_text';

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
      const engine = await Engine.load(gpu, await folderSource(o.model), { format, contextLength: o.contextLength, maxRows: rows, maxLogitRows: rows, requireTokenizer: true });
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

const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toPrecision(d) : '-');

/** The readable table: perplexity per engine, and each candidate against the baseline. */
export function renderEvalReport(r: EvalCliReport): string {
  const lines = [
    `${r.model} on ${r.adapter.name}: ${r.text}, ${r.tokens} tokens, ${r.positions} positions scored, context ${r.contextLength}, stride ${r.stride} (${r.windows} windows); baseline ${r.baseline}`,
    'engine  perplexity  mean KL    median KL  p99 KL     max KL     top-1   same top where confident',
  ];
  for (const e of r.engines) {
    const v = e.vsBaseline;
    lines.push(
      [e.engine.padEnd(6), f(e.perplexity, 6).padStart(10), ...(v ? [f(v.meanKl), f(v.medianKl), f(v.p99Kl), f(v.maxKl)].map((x) => x.padStart(9)) : ['(baseline)']), ...(v ? [`${(100 * v.top1Agreement).toFixed(2)}%`.padStart(7), `${(100 * v.confidentSameTop).toFixed(2)}% of ${v.confidentPositions}`] : [])].join('  '),
    );
  }
  for (const e of r.engines.filter((x) => x.vsBaseline)) {
    const edges = KL_BINS.map((b, i) => `${i === 0 ? '0' : KL_BINS[i - 1]!.toExponential(0)}..${Number.isFinite(b) ? b.toExponential(0) : 'inf'}`);
    lines.push(`${e.engine} KL histogram: ${e.vsBaseline!.klHistogram.map((c, i) => `${edges[i]} ${c}`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
