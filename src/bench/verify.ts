// Checks the engines on this device against Hugging Face reference outputs: a model folder with
// the oracle's reference.json and reference_logits.f32 (the layout of ../shared/fixtures, made
// by transformers). Logits through both schedules of the forward pass (a many-row prefill, and one
// row per pass: the decode step's fused kernels), and greedy continuations. The same checks as
// the golden tests, runnable on any adapter, so a fast path tuned on one GPU is proved right there.
import { readFile } from 'node:fs/promises';
import type { KvFormat } from '../kernels/kv_cache';
import path from 'node:path';
import { acquireDevice, type GpuContext } from '../gpu/device';
import { Engine } from '../model/engine';
import { folderSource } from '../model/source';
import { formatSpec, isQuantized, type WeightFormat } from '../kernels/formats';
import { logitsAgreement } from './metrics';
import { checkGreedy, describeGreedy, greedyPasses, type GreedyCaseResult, type OracleGreedyCase } from './greedy_check';
import { deviceFeatures } from './model_bench';
import type { DeviceFeatures } from './report';
import type { AdapterSummary } from '../gpu/device';
import type { W8a8Setting } from '../gpu/pipelines';

/** nRMSE bounds of the golden tests, by engine. */
export function nrmseLimit(format: WeightFormat): number {
  return formatSpec(format).tolerance.logitsNrmse;
}

interface Reference {
  input_ids: number[];
  logits_shape: [number, number];
  greedy?: OracleGreedyCase | OracleGreedyCase[];
}

export interface VerifyRow {
  model: string;
  engine: WeightFormat;
  /** 'prefill': all positions in one pass; 'decode': one row per pass (the fused decode kernels) */
  path: 'prefill' | 'decode';
  nrmse: number;
  clear: number;
  agree: number;
  /**
   * greedy continuations (decode rows only): cases, exact matches and mean token agreement against
   * the f32 oracle, the same against the oracle's simulation of a quantized format where the
   * reference has one, and every case with its fork (see greedy_check.ts). f32 and f16 must equal
   * the oracle, a quantized engine the simulation (when there is one), except at near-ties.
   */
  greedy?: {
    cases: number;
    exact: number;
    tokenAgreement: number;
    sim?: { exact: number; tokenAgreement: number };
    results: GreedyCaseResult[];
  };
  pass: boolean;
}

export interface VerifyReport {
  schema: 'webgpu-int8-llm/verify@1';
  date: string;
  adapter: AdapterSummary;
  features: DeviceFeatures;
  /** the KV cache every engine ran with, when the run forced one (absent: each engine's default) */
  kvCache?: KvFormat;
  rows: VerifyRow[];
  pass: boolean;
}

async function readReference(dir: string): Promise<{ ref: Reference; logits: Float32Array }> {
  const ref = JSON.parse(await readFile(path.join(dir, 'reference.json'), 'utf8')) as Reference;
  const buf = await readFile(path.join(dir, 'reference_logits.f32'));
  return { ref, logits: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) };
}

export async function runVerify(o: { models: string[]; engines: WeightFormat[]; kvCache?: KvFormat; w8a8?: W8a8Setting; log?: (line: string) => void }, gpu?: GpuContext): Promise<VerifyReport> {
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
        const e = await Engine.load(gpu, source, { format: engine, maxRows: rowsPerPass, maxLogitRows: rowsPerPass, kvCache: o.kvCache, w8a8: o.w8a8 });
        try {
          const a = logitsAgreement(await e.logits(ref.input_ids), want, T, V);
          const row: VerifyRow = { model: source.name, engine, path: p, ...a, pass: a.nrmse <= nrmseLimit(engine) && a.agree === a.clear };
          if (p === 'decode' && cases.length) {
            const results = await checkGreedy(e, cases);
            const sum = (f: (r: GreedyCaseResult) => number) => results.reduce((a, r) => a + f(r), 0);
            const simmed = results.filter((r) => r.vsSim);
            row.greedy = {
              cases: cases.length,
              exact: sum((r) => Number(r.vsOracle.firstDivergence === null)),
              tokenAgreement: sum((r) => r.vsOracle.agreement) / cases.length,
              ...(simmed.length ? { sim: { exact: simmed.filter((r) => r.vsSim!.firstDivergence === null).length, tokenAgreement: simmed.reduce((a, r) => a + r.vsSim!.agreement, 0) / simmed.length } } : {}),
              results,
            };
            // A quantized engine has no expectation without a simulation of its exact scheme to hold it to.
            if (!isQuantized(engine) || results.some((r) => r.expected === 'sim')) row.pass &&= greedyPasses(results);
            for (const line of describeGreedy(source.name, engine, results)) log(line);
          }
          rows.push(row);
          log(`[verify] ${row.model} ${engine} (KV ${e.kvCache}) ${p}: nRMSE ${a.nrmse.toExponential(2)} (limit ${nrmseLimit(engine)}), top-1 ${a.agree}/${a.clear}` +
            (row.greedy ? `, greedy exact ${row.greedy.exact}/${row.greedy.cases}, token agreement ${(100 * row.greedy.tokenAgreement).toFixed(1)}%` : '') +
            (row.greedy?.sim ? `; against the ${engine} simulation exact ${row.greedy.sim.exact}/${row.greedy.cases}, agreement ${(100 * row.greedy.sim.tokenAgreement).toFixed(1)}%` : '') +
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
    ...(o.kvCache ? { kvCache: o.kvCache } : {}),
    rows,
    pass: rows.every((r) => r.pass),
  };
}
