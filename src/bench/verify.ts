// Checks the engines on this device against Hugging Face reference outputs: a model folder with
// the oracle's reference.json and reference_logits.f32 (the layout of ../shared/fixtures, made
// by transformers). Logits through both schedules of the forward pass (a many-row prefill, and one
// row per pass: the decode step's fused kernels), and greedy continuations. The same checks as
// the golden tests, runnable on any adapter, so a fast path tuned on one GPU is proved right there.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { acquireDevice, type GpuContext } from '../gpu/device';
import { Engine } from '../model/engine';
import { folderSource } from '../model/source';
import type { WeightFormat } from '../model/quantize';
import { logitsAgreement, tokenAgreement } from './metrics';
import { deviceFeatures } from './model_bench';
import type { DeviceFeatures } from './report';
import type { AdapterSummary } from '../gpu/device';

/** nRMSE bounds of the golden tests, by engine. */
export const NRMSE_LIMITS: Record<WeightFormat, number> = { f32: 1e-4, f16: 1e-2, int8: 5e-2 };

interface GreedyCase {
  prompt_ids: number[];
  continuation_ids: number[];
}

interface Reference {
  input_ids: number[];
  logits_shape: [number, number];
  greedy?: GreedyCase | GreedyCase[];
}

export interface VerifyRow {
  model: string;
  engine: WeightFormat;
  /** 'prefill': all positions in one pass; 'decode': one row per pass (the fused decode kernels) */
  path: 'prefill' | 'decode';
  nrmse: number;
  clear: number;
  agree: number;
  /** greedy continuations (decode rows only): cases, exact matches, mean token agreement */
  greedy?: { cases: number; exact: number; tokenAgreement: number };
  pass: boolean;
}

export interface VerifyReport {
  schema: 'webgpu-int8-llm/verify@1';
  date: string;
  adapter: AdapterSummary;
  features: DeviceFeatures;
  rows: VerifyRow[];
  pass: boolean;
}

async function readReference(dir: string): Promise<{ ref: Reference; logits: Float32Array }> {
  const ref = JSON.parse(await readFile(path.join(dir, 'reference.json'), 'utf8')) as Reference;
  const buf = await readFile(path.join(dir, 'reference_logits.f32'));
  return { ref, logits: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) };
}

async function greedyIds(engine: Engine, prompt: number[], n: number): Promise<number[]> {
  const out: number[] = [];
  for await (const t of engine.generate(prompt, { maxNewTokens: n, stopIds: [] })) out.push(t.id);
  return out;
}

export async function runVerify(o: { models: string[]; engines: WeightFormat[]; log?: (line: string) => void }, gpu?: GpuContext): Promise<VerifyReport> {
  const log = o.log ?? (() => {});
  gpu ??= await acquireDevice();
  const rows: VerifyRow[] = [];
  for (const dir of o.models) {
    const { ref, logits: want } = await readReference(dir);
    const [T, V] = ref.logits_shape;
    const cases = ref.greedy === undefined ? [] : Array.isArray(ref.greedy) ? ref.greedy : [ref.greedy];
    const source = await folderSource(dir);
    for (const engine of o.engines) {
      for (const p of ['prefill', 'decode'] as const) {
        const rowsPerPass = p === 'prefill' ? T : 1;
        const e = await Engine.load(gpu, source, { format: engine, maxRows: rowsPerPass, maxLogitRows: rowsPerPass });
        try {
          const a = logitsAgreement(await e.logits(ref.input_ids), want, T, V);
          const row: VerifyRow = { model: source.name, engine, path: p, ...a, pass: a.nrmse <= NRMSE_LIMITS[engine] && a.agree === a.clear };
          if (p === 'decode' && cases.length) {
            let exact = 0;
            let agreement = 0;
            for (const c of cases) {
              const ids = await greedyIds(e, c.prompt_ids, c.continuation_ids.length);
              if (ids.join() === c.continuation_ids.join()) exact++;
              agreement += tokenAgreement(ids, c.continuation_ids);
            }
            row.greedy = { cases: cases.length, exact, tokenAgreement: agreement / cases.length };
          }
          rows.push(row);
          log(`[verify] ${row.model} ${engine} ${p}: nRMSE ${a.nrmse.toExponential(2)} (limit ${NRMSE_LIMITS[engine]}), top-1 ${a.agree}/${a.clear}` +
            (row.greedy ? `, greedy exact ${row.greedy.exact}/${row.greedy.cases}, token agreement ${(100 * row.greedy.tokenAgreement).toFixed(1)}%` : '') +
            (row.pass ? '' : '  FAIL'));
        } finally {
          e.destroy();
        }
      }
    }
  }
  return {
    schema: 'webgpu-int8-llm/verify@1',
    date: new Date().toISOString(),
    adapter: { ...gpu.adapterInfo },
    features: deviceFeatures(gpu),
    rows,
    pass: rows.every((r) => r.pass),
  };
}
