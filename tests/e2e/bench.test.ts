// The app's synthetic models and its benchmark view in headless Chromium with real WebGPU
// (SwiftShader): the production build served next to the fixtures in hub layout. Kept apart from
// app.test.ts so each file owns one page; small settings keep it fast on two cores.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FixtureServer } from './server';
import * as ui from './browser';
import { SHOTS, LOAD_MS } from './browser';
import { modelDir, FIXTURES, reference, type GreedyCase } from '../unit/fixtures';
import { csvCells } from '../unit/csv';
import { TextTokenizer } from '../../src/model/tokenizer';
import type { SuiteReport } from '../../src/bench/suite_report';
import { BUILTIN_EVAL_TEXT } from '../../src/bench/eval/builtin_text';
import { KL_BINS } from '../../src/bench/eval';

const MODEL = modelDir('stories260K');
const ALPACA = path.join(FIXTURES, 'prompts', 'alpaca_eval_instructions.json');
const ALPACA_PATH = '/datasets/tatsu-lab/alpaca_eval/resolve/main/alpaca_eval.json';

let server: FixtureServer;
let page: Page;
let app: ui.AppSession;

const appUrl = (model: string, extra = '') => ui.appUrl(server, model, extra);
const text = (id: string) => ui.textOf(page, id);

beforeAll(async () => {
  app = await ui.openApp('int8-llm-bench-', {
    repos: { 'fixtures/stories260K': { dir: MODEL } },
    // The AlpacaEval instructions, served where the hub keeps the dataset's file.
    datasets: { 'tatsu-lab/alpaca_eval': { 'alpaca_eval.json': ALPACA } },
  });
  ({ server, page } = app);
});

afterAll(() => app?.close());

describe('synthetic models (headless Chromium, WebGPU on SwiftShader)', () => {
  it('the tiny preset is planned, built on the GPU without any download, and compared as token ids', async () => {
    await page.goto(appUrl('HuggingFaceTB/SmolLM2-135M-Instruct'));
    await page.click('[data-testid=synthetic-tiny]');
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]')?.textContent?.includes('synthetic:tiny'), undefined, { timeout: 60_000 });
    const plan = await text('plan');
    expect(plan).toContain('speed only');
    expect(plan).toMatch(/FP16.*INT8/s);
    expect(await text('load')).toBe('Generate weights & load');
    expect(page.url()).toContain('model=synthetic%3Atiny');
    const before = server.log.length;
    await page.click('[data-testid=load]');
    await page.waitForSelector('[data-testid=load-status][data-status=ready]', { timeout: LOAD_MS });
    expect(await text('synthetic-note')).toContain('the text is meaningless');

    await ui.compare(page, '1 17 300 42', 8);
    await page.waitForSelector('[data-testid=comparison]', { timeout: 120_000 });
    for (const f of ['f16', 'int8']) {
      const ids = (await text(`output-${f}`)).split(' ').map(Number);
      expect(ids).toHaveLength(8);
      // The tiny preset's vocabulary is 512.
      expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 512)).toBe(true);
    }
    expect(await text('metric-rouge')).toMatch(/[01]\.\d{3}/);
    // Nothing was fetched for the model: no hub file, no weights.
    expect(server.log.slice(before).filter((r) => r.path.includes('/resolve/'))).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'app-synthetic.png'), fullPage: true });
  });
});

/** Clicks an export button and returns the downloaded file's text. */
async function exported(id: string): Promise<{ name: string; body: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${id}]`)]);
  return { name: dl.suggestedFilename(), body: await readFile((await dl.path())!, 'utf8') };
}

async function setBench(id: string, value: string): Promise<void> {
  await page.fill(`[data-testid=bench-${id}]`, value);
}

describe('benchmark view (headless Chromium, WebGPU on SwiftShader)', () => {
  it('runs 5 AlpacaEval prompts from the hub on stories260K: progress, charts, summary, JSON and CSV exports', async () => {
    await page.goto(appUrl('fixtures/stories260K'));
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    await page.click('[data-testid=load]');
    await page.waitForSelector('[data-testid=load-status][data-status=ready]', { timeout: LOAD_MS });
    await page.click('[data-testid=tab-bench]');
    await page.click('[data-testid=bench-set-alpaca]');
    await page.selectOption('[data-testid=bench-sample]', '5');
    await setBench('maxNewTokens', '8');
    await setBench('warmup', '1');
    await setBench('repetitions', '2');
    await setBench('pricePerHour', '2.5');
    await page.click('[data-testid=bench-eval-off]');
    const before = server.log.length;
    await page.click('[data-testid=bench-run]');
    await page.waitForSelector('[data-testid=bench-progress]', { timeout: 30_000 });
    await page.waitForFunction(() => /prompt \d of 5/.test(document.querySelector('[data-testid=bench-progress-line]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    await page.waitForSelector('[data-testid=bench-results]', { timeout: 300_000 });
    // The set came from the hub's dataset URL, through the app's loading code.
    expect(server.log.slice(before).map((r) => r.path)).toContain(ALPACA_PATH);

    // Every plot is drawn by recharts with its marks.
    for (const id of ['throughput', 'memory', 'latency', 'quality', 'cost']) expect(await page.locator(`[data-testid=chart-${id}] svg.recharts-surface`).count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=chart-throughput] .recharts-bar-rectangle').count()).toBe(4);
    expect(await page.locator('[data-testid=chart-memory] .recharts-bar-rectangle').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('[data-testid=chart-latency] .recharts-line-curve').count()).toBe(4);
    expect(await page.locator('[data-testid=chart-quality] .recharts-scatter-symbol').count()).toBe(5);
    expect(await page.locator('[data-testid=chart-cost] .recharts-bar-rectangle').count()).toBe(2);
    expect(await text('bench-row-f16')).toContain('1.000');
    await page.screenshot({ path: path.join(SHOTS, 'app-bench.png'), fullPage: true });

    const json = await exported('bench-export-json');
    expect(json.name).toMatch(/^bench-fixtures_stories260K-\d{4}-\d\d-\d\dT[\d-]+\.json$/);
    const r = JSON.parse(json.body) as SuiteReport;
    expect(r.schema).toBe('webgpu-int8-llm/bench-suite@1');
    expect(r.tags.adapter.name).toMatch(/swiftshader/i);
    expect(r.tags.browser).toMatch(/Chrome\/\d+/);
    expect(r.tags.runtime).toBe('browser');
    expect(r.model).toMatchObject({ name: 'fixtures/stories260K', modelType: 'llama', parameters: 260032, synthetic: false, contextLength: 512 }); // 2048 capped by max_position_embeddings
    expect(r.settings).toMatchObject({ promptSet: 'alpaca', sampleSize: 5, maxNewTokens: 8, warmup: 1, repetitions: 2, pricePerHour: 2.5, engines: ['f16', 'int8'], baseline: 'f16', setSize: 805 });
    expect(r.settings.sampling.temperature).toBe(0);
    expect(r.eval).toBeUndefined();
    expect(await page.locator('[data-testid=eval-results]').count()).toBe(0);
    expect(r.settings.promptSource).toBe(`${server.url}${ALPACA_PATH}`);
    expect(Date.now() - Date.parse(r.date)).toBeLessThan(30 * 60_000);

    // The prompts are the fixture's instructions at the sampled indices, tokenized as the model does.
    const fixture = JSON.parse(await readFile(ALPACA, 'utf8')) as Array<{ instruction: string }>;
    const tok = new TextTokenizer(await readFile(path.join(MODEL, 'tokenizer.json'), 'utf8'), await readFile(path.join(MODEL, 'tokenizer_config.json'), 'utf8'));
    expect(r.prompts.length + r.skipped.length).toBe(5);
    for (const p of r.prompts) {
      expect(p.text).toBe(fixture[Number(p.id.split('/')[1])]!.instruction);
      expect(p.promptTokens).toBe(tok.encode(p.text).length);
      for (const e of ['f16', 'int8']) {
        const res = p.results[e]!;
        expect(res.runs).toHaveLength(2);
        expect(res.ids.length).toBeGreaterThan(0);
        expect(res.ids.length).toBeLessThanOrEqual(8);
        expect(res.text).toBe(tok.decode(res.ids));
      }
    }

    const [f16, int8] = r.engines;
    for (const e of [f16!, int8!]) {
      expect(e.generations).toBe(2 * r.prompts.length);
      expect(e.prefillTokensPerSecond.mean).toBeGreaterThan(0);
      expect(e.decodeTokensPerSecond.mean).toBeGreaterThan(0);
      expect(e.decodeTokensPerSecond.std).toBeGreaterThanOrEqual(0);
      // Finite, ordered percentiles; the first token comes before the last.
      const t = e.timeToFirstTokenMs;
      const l = e.endToEndLatencyMs;
      expect(0 < t.p50 && t.p50 <= t.p95 && t.p95 <= t.p99).toBe(true);
      expect(0 < l.p50 && l.p50 <= l.p95 && l.p95 <= l.p99).toBe(true);
      expect(l.p99).toBeGreaterThanOrEqual(t.p99);
      expect(e.kvCacheBytes).toBe(2 * 5 * 512 * 4 * 8 * 2); // 2 (K, V) x layers x context x KV heads x head_dim x 2 bytes (the f16 cache, these engines' default)
      expect(e.peakBytes!).toBeGreaterThan(e.weightBytes + e.kvCacheBytes);
      expect(e.quality.rougeL).toBeGreaterThanOrEqual(0);
      expect(e.quality.rougeL).toBeLessThanOrEqual(1);
      expect(e.cost.usdPerMillionTokens).toBeCloseTo((2.5 / (e.decodeTokensPerSecond.mean * 3600)) * 1e6, 6);
      expect(e.cost.assumption).toMatch(/^\$2\.5\/hour GPU, at the measured decode throughput/);
    }
    // The baseline's repeated greedy runs agree with its first run exactly.
    expect(f16!.quality).toEqual({ against: 'f16', runsCompared: 5, rougeL: 1, exactMatch: 1, tokenAgreement: 1 });
    expect(int8!.weightBytes / f16!.weightBytes).toBeGreaterThan(0.5);
    expect(int8!.weightBytes / f16!.weightBytes).toBeLessThan(0.6);
    // Exact match implies full token agreement, prompt by prompt.
    for (const p of r.prompts) if (p.results.int8!.exactMatch === 1) expect(p.results.int8!.tokenAgreement).toBe(1);

    const csv = await exported('bench-export-csv');
    const lines = csv.body.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^date,model,synthetic,adapter,browser,/);
    expect(lines[1]).toContain(',f16,true,');
    expect(lines[2]).toContain(',int8,false,');

    // Saved in IndexedDB: still listed after a reload, and viewable again.
    expect(await page.locator('[data-testid=history-row]').count()).toBe(1);
    await page.reload();
    await page.click('[data-testid=tab-bench]');
    await page.waitForSelector('[data-testid=history-row]', { timeout: 30_000 });
    await page.click('[data-testid=history-row] button:has-text("View")');
    await page.waitForSelector('[data-testid=chart-latency] svg.recharts-surface', { timeout: 30_000 });
  });

  it('Cancel stops a run within a generation and saves nothing; a saved run can be deleted', async () => {
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    await page.click('[data-testid=load]');
    await page.waitForSelector('[data-testid=load-status][data-status=ready]', { timeout: LOAD_MS });
    await page.click('[data-testid=tab-bench]');
    await page.click('[data-testid=bench-set-builtin]');
    await page.selectOption('[data-testid=bench-sample]', 'all');
    await setBench('maxNewTokens', '64');
    await page.click('[data-testid=bench-run]');
    await page.waitForFunction(() => /prompt \d+ of 12/.test(document.querySelector('[data-testid=bench-progress-line]')?.textContent ?? ''), undefined, { timeout: 120_000 });
    await page.click('[data-testid=bench-cancel]');
    await page.waitForSelector('[data-testid=bench-cancelled]', { timeout: 60_000 });
    expect(await page.locator('[data-testid=history-row]').count()).toBe(1);
    // The engines are free again: Compare works.
    await page.click('[data-testid=tab-compare]');
    await page.fill('[data-testid=prompt]', 'Once upon a time');
    expect(await page.isDisabled('[data-testid=compare]')).toBe(false);
    // A saved run can be deleted, from IndexedDB too.
    await page.click('[data-testid=tab-bench]');
    await page.click('[data-testid=history-row] button:has-text("Delete")');
    await page.waitForSelector('[data-testid=bench-history] .empty', { timeout: 30_000 });
    await page.reload();
    await page.click('[data-testid=tab-bench]');
    await page.waitForSelector('[data-testid=bench-history][data-loaded=true]', { timeout: 30_000 });
    expect(await page.locator('[data-testid=history-row]').count()).toBe(0);
  });

  it('teacher-forced evaluation on stories260K: the built-in text scored by f32 as HF does, int8 against it, the KL plot and both exports; then a text file of the user\'s', async () => {
    // HF transformers' perplexity of stories260K over the built-in text at the app's context for it
    // (512 tokens, stride 256): scripts/hf/eval_reference.py, tests/data/README.md.
    const ref = JSON.parse(await readFile(path.join(__dirname, '../data/eval/stories260K-builtin-v1.json'), 'utf8')) as { context: number; stride: number; input_ids: number[]; positions: number; perplexity: number; windows: unknown[] };
    await page.goto(appUrl('fixtures/stories260K', '&engines=f32,int8'));
    await ui.loadModel(page);
    await page.click('[data-testid=tab-bench]');
    await ui.setSmallBenchmark(page);
    // Your text, still empty: a clear error, nothing runs.
    await page.click('[data-testid=bench-eval-custom]');
    await page.click('[data-testid=bench-run]');
    expect(await text('bench-error')).toMatch(/the evaluation text is empty/);
    await page.click('[data-testid=bench-eval-builtin]');
    await page.click('[data-testid=bench-run]');
    await page.waitForFunction(() => /Teacher-forced evaluation: window \d+ of \d+/.test(document.querySelector('[data-testid=bench-progress-line]')?.textContent ?? ''), undefined, { timeout: 120_000 });
    await page.waitForSelector('[data-testid=eval-results]', { timeout: 300_000 });
    await page.waitForSelector('[data-testid=chart-kl] svg.recharts-surface');
    expect(await page.locator('[data-testid=chart-kl] .recharts-bar-rectangle').count()).toBeGreaterThan(0);
    await page.locator('[data-testid=eval-results]').screenshot({ path: path.join(SHOTS, 'app-eval.png') });

    const r = JSON.parse((await exported('bench-export-json')).body) as SuiteReport;
    const ev = r.eval!;
    expect(ev).toMatchObject({ source: 'builtin', text: 'builtin-v1', sequences: 1, tokens: ref.input_ids.length, positions: ref.positions, contextLength: ref.context, stride: ref.stride, windows: ref.windows.length, baseline: 'f32' });
    const [f32, int8] = ev.engines;
    console.log(`[e2e eval] stories260K in Chromium: f32 perplexity ${f32!.perplexity.toFixed(4)} (HF ${ref.perplexity.toFixed(4)}), int8 ${int8!.perplexity.toFixed(4)}, KL mean ${int8!.vsBaseline!.meanKl.toExponential(2)} p99 ${int8!.vsBaseline!.p99Kl.toExponential(2)}`);
    expect(Math.abs(f32!.perplexity / ref.perplexity - 1)).toBeLessThanOrEqual(1e-4);
    expect(f32!.vsBaseline).toBeUndefined();
    const v = int8!.vsBaseline!;
    expect(v.meanKl).toBeGreaterThan(0);
    expect(v.meanKl).toBeLessThan(0.01);
    expect(v.medianKl <= v.p99Kl && v.p99Kl <= v.maxKl).toBe(true);
    expect(v.top1Agreement).toBeGreaterThan(0.9);
    expect(v.klHistogram).toHaveLength(KL_BINS.length);
    expect(v.klHistogram.reduce((a, b) => a + b, 0)).toBe(ref.positions);
    // What the page shows is what it exported.
    expect(await text('eval-ppl-f32')).toBe(f32!.perplexity.toFixed(3));
    expect(await text('eval-kl-int8')).toBe(v.meanKl.toExponential(2));
    const csv = (await exported('bench-export-csv')).body.trimEnd().split('\n');
    const head = csvCells(csv[0]!);
    const cells = csvCells(csv.find((l) => l.includes(',int8,false,'))!);
    const at = (name: string) => cells[head.indexOf(name)];
    expect(at('eval_text')).toBe('builtin-v1');
    expect(Number(at('perplexity'))).toBe(int8!.perplexity);
    expect(Number(at('kl_mean'))).toBe(v.meanKl);
    expect(Number(at('kl_p99'))).toBe(v.p99Kl);

    // A text file of the user's: read in the page, tokenized by the model's tokenizer, scored.
    const tok = new TextTokenizer(await readFile(path.join(MODEL, 'tokenizer.json'), 'utf8'), await readFile(path.join(MODEL, 'tokenizer_config.json'), 'utf8'));
    const mine = BUILTIN_EVAL_TEXT.slice(0, 1500);
    await page.click('[data-testid=bench-eval-custom]');
    await page.setInputFiles('[data-testid=bench-eval-file]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(mine) });
    await page.waitForFunction(() => /^notes\.txt: 1,500 characters$/.test(document.querySelector('[data-testid=bench-eval-custom-info]')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.click('[data-testid=bench-run]');
    await page.waitForFunction(() => /notes\.txt/.test(document.querySelector('[data-testid=eval-about]')?.textContent ?? ''), undefined, { timeout: 300_000 });
    const r2 = JSON.parse((await exported('bench-export-json')).body) as SuiteReport;
    expect(r2.settings.eval).toEqual({ text: 'custom', name: 'notes.txt' });
    expect(r2.eval).toMatchObject({ source: 'custom', text: 'notes.txt', sequences: 1, tokens: tok.encode(mine).length, positions: tok.encode(mine).length - 1 });
    expect(r2.eval!.engines[1]!.vsBaseline!.meanKl).toBeLessThan(0.01);
  });

  it('the batch sweep: throughput against batch size, one line per engine, and the table; the suite two prompts at a time; the engines are as before afterwards', async () => {
    // (the page of the evaluation test: stories260K, FP32 and INT8 loaded, the Benchmark tab)
    await page.fill('[data-testid=sweep-batches]', '4, 1,2');
    await page.fill('[data-testid=sweep-promptTokens]', '16');
    await page.fill('[data-testid=sweep-newTokens]', '8');
    await page.fill('[data-testid=sweep-runs]', '1');
    await page.click('[data-testid=sweep-run]');
    await page.waitForSelector('[data-testid=sweep-results]', { timeout: 300_000 });
    await page.waitForSelector('[data-testid=sweep-chart] svg.recharts-surface');
    expect(await page.locator('[data-testid=sweep-chart] .recharts-line').count()).toBe(2);
    for (const f of ['f32', 'int8']) {
      for (const b of [1, 2, 4]) {
        const cells = await page.locator(`[data-testid=sweep-row-${f}-${b}] td`).allTextContents();
        expect(Number(cells[1])).toBe(b);
        const [all, one] = [Number(cells[2]), Number(cells[3])];
        expect(all).toBeGreaterThan(0);
        // All sequences together make B times one sequence's rate (the same steps).
        expect(Math.abs(all / one - b)).toBeLessThan(0.02 * b);
      }
    }
    expect(await text('sweep-ratios')).toMatch(/INT8 \/ FP32 at B=4: \d+\.\d\d×/);
    await page.locator('[data-testid=sweep]').screenshot({ path: path.join(SHOTS, 'app-batch-sweep.png') });
    // The suite with two prompts at a time: every prompt answered by both engines, the setting recorded.
    await ui.setSmallBenchmark(page);
    await page.click('[data-testid=bench-eval-off]');
    await setBench('batch', '2');
    expect(await text('bench-panel')).toMatch(/2 prompts at a time/);
    await page.click('[data-testid=bench-run]');
    // (the evaluation's results are on screen until this run ends: wait for the Run button to come back)
    await page.waitForSelector('[data-testid=bench-run]', { state: 'detached', timeout: 10_000 });
    await page.waitForSelector('[data-testid=bench-run]', { timeout: 300_000 });
    const r = JSON.parse((await exported('bench-export-json')).body) as SuiteReport;
    expect(r.settings.batch).toBe(2);
    expect(r.prompts).toHaveLength(5);
    for (const p of r.prompts) for (const f of ['f32', 'int8']) expect(p.results[f]!.runs[0]!.tokens).toBeGreaterThan(0);
    // The engines were rebuilt as they were: one sequence, the whole context, HF's greedy ids.
    const c = (reference('stories260K').ref.greedy as GreedyCase[]).find((g) => g.prompt === 'Once upon a time')!;
    const tok = new TextTokenizer(await readFile(path.join(MODEL, 'tokenizer.json'), 'utf8'), await readFile(path.join(MODEL, 'tokenizer_config.json'), 'utf8'));
    await page.click('[data-testid=tab-compare]');
    await ui.compare(page, c.prompt!, 12);
    await page.waitForSelector('[data-testid=comparison]', { timeout: 120_000 });
    expect(await text('output-f32')).toBe(tok.decode(c.continuation_ids.slice(0, 12)));
  });
});
