// One engine (baseline None) in headless Chromium with real WebGPU (SwiftShader), on stories260K:
// the plan says what Load builds, Q4 alone is the only engine downloaded, built and streamed, there
// is no comparison to claim, the benchmark reports one engine without quality figures (on screen,
// in JSON and CSV), and `engines=q4` survives a reload and loads from the cache. A file of its own:
// its page, server and weight cache are apart from the other files'.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FixtureServer } from './server';
import * as ui from './browser';
import { SHOTS } from './browser';
import { parseConfig } from '../../src/model/config';
import { engineBytes } from '../../app/engine_plan';
import type { SuiteReport } from '../../src/bench/suite_report';
import { modelDir } from '../unit/fixtures';

const MODEL = modelDir('stories260K');

let server: FixtureServer;
let page: Page;
let app: ui.AppSession;

const text = (id: string) => ui.textOf(page, id);
const count = (selector: string) => page.locator(selector).count();
const weightRequests = (from = 0) => server.log.slice(from).filter((r) => r.path.endsWith('.safetensors') && r.method === 'GET');

/** Clicks an export button and returns the downloaded file's text. */
async function exported(id: string): Promise<string> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${id}]`)]);
  return readFile((await dl.path())!, 'utf8');
}

beforeAll(async () => {
  app = await ui.openApp('int8-llm-single-', { repos: { 'fixtures/stories260K': { dir: MODEL } } });
  ({ server, page } = app);
});

afterAll(() => app?.close());

describe('the candidate alone (headless Chromium, WebGPU on SwiftShader)', () => {
  it('a large preset starts with Q4 alone, its badge the plan\'s total; another model the default pair; a pick wins over both', async () => {
    await page.goto(ui.appUrl(server, 'synthetic:mistral-7b'));
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]')?.textContent?.includes('synthetic:mistral-7b'), undefined, { timeout: 60_000 });
    expect(await page.inputValue('[data-testid=pick-baseline]')).toBe('none');
    expect(await page.inputValue('[data-testid=pick-candidate]')).toBe('q4');
    expect(page.url()).not.toContain('engines=');
    const badge = '[data-testid=synthetic-mistral-7b] [data-testid=large-badge]';
    expect(await page.textContent(badge)).toMatch(/^≈[\d.]+ GB: Q4 alone$/);
    const planned = await page.getAttribute('[data-testid=plan-total]', 'data-bytes');
    expect(Number(planned)).toBeGreaterThan(4e9);
    expect(await page.getAttribute(badge, 'data-bytes')).toBe(planned);
    await page.fill('[data-testid=repo-input]', 'fixtures/stories260K');
    await page.click('[data-testid=repo-use]');
    expect(await page.inputValue('[data-testid=pick-baseline]')).toBe('f16');
    expect(await page.inputValue('[data-testid=pick-candidate]')).toBe('int8');
    await page.selectOption('[data-testid=pick-candidate]', 'q4');
    await page.click('[data-testid=synthetic-mistral-7b]');
    expect(await page.inputValue('[data-testid=pick-baseline]')).toBe('f16');
    expect(page.url()).toContain('engines=f16%2Cq4');
  });

  it('baseline None + Q4: the plan totals one engine; one download, only Q4 built; one pane streams; no comparison claimed', async () => {
    await page.goto(ui.appUrl(server, 'fixtures/stories260K'));
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    const config = parseConfig(await readFile(path.join(MODEL, 'config.json'), 'utf8'));
    const need = (f: 'f16' | 'q4') => engineBytes(config, f, 2048);
    const total = async () => Number(await page.getAttribute('[data-testid=plan-total]', 'data-bytes'));

    await page.selectOption('[data-testid=pick-candidate]', 'q4');
    expect(await text('plan-total')).toContain('FP16 + Q4');
    expect(await total()).toBe(need('f16') + need('q4'));
    await page.selectOption('[data-testid=pick-baseline]', 'none');
    expect(page.url()).toMatch(/engines=q4(&|$)/);
    expect(await text('plan-total')).toContain('Q4 alone');
    expect(await total()).toBe(need('q4'));
    // With no baseline, the candidate's own format is no baseline for it.
    expect(await page.locator('[data-testid=pick-baseline] option[value=q4]').isDisabled()).toBe(true);
    expect(await count('[data-testid=pane-q4]')).toBe(1);
    expect(await count('[data-testid=pane-f16]')).toBe(0);

    await ui.loadModel(page);
    expect(weightRequests()).toHaveLength(1);
    expect(await text('load-q4')).toMatch(/ready/);
    for (const f of ['f32', 'f16', 'int8']) expect(await count(`[data-testid=load-${f}]`)).toBe(0);
    expect(await text('pane-q4')).toContain('alone');

    await ui.compare(page, 'Once upon a time', 40);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=pane-q4]')?.getAttribute('data-status') === 'running' && Number(document.querySelector('[data-testid=tokens-q4]')?.textContent) >= 2,
      undefined,
      // The first token waits on the prefill's pipelines, compiled by SwiftShader on a CI machine
      // whose 2 cores other test files keep busy: 120 s ran out once (2026-12-06).
      { timeout: 300_000, polling: 20 },
    );
    await page.waitForSelector('[data-testid=pane-q4][data-status=done]', { timeout: 300_000 });
    expect(Number(await text('tokens-q4'))).toBeGreaterThan(2);
    expect((await text('output-q4')).length).toBeGreaterThan(10);
    expect(await count('[data-testid=comparison]')).toBe(0);
    expect(await count('[data-testid^=metric-]')).toBe(0);
    expect(await text('comparison-alone')).toContain('no baseline to compare');
    await page.screenshot({ path: path.join(SHOTS, 'app-q4-alone.png'), fullPage: true });
  });

  it('the benchmark runs the one engine: speed, latency, memory and cost; quality "—" on screen, empty in CSV, null in JSON', async () => {
    await page.click('[data-testid=tab-bench]');
    expect(await text('bench-panel')).toContain('Q4 alone');
    await ui.runSmallBenchmark(page);
    expect(await count('[data-testid^=bench-row-]')).toBe(1);
    // engine, prefill, decode, TTFT, E2E, weights, KV, peak, ROUGE-L, exact, agreement, $/1M
    const cells = await page.locator('[data-testid=bench-row-q4] td').allTextContents();
    expect(cells[0]).toContain('alone');
    expect(cells[2]).toMatch(/^\d+(\.\d)? ± \d/);
    expect(cells[4]).toMatch(/^[\d,]+ \/ [\d,]+ \/ [\d,]+$/);
    expect(cells.slice(8, 11)).toEqual(['—', '—', '—']);
    expect(cells[11]).toMatch(/\$/);
    expect(await count('[data-testid=chart-quality]')).toBe(0);
    expect(await count('[data-testid=chart-throughput] .recharts-bar-rectangle')).toBe(2);

    const r = JSON.parse(await exported('bench-export-json')) as SuiteReport;
    expect(r.settings.engines).toEqual(['q4']);
    expect(r.engines).toHaveLength(1);
    expect(r.engines[0]!.decodeTokensPerSecond.mean).toBeGreaterThan(0);
    expect(r.engines[0]!.quality).toEqual({ against: 'q4', runsCompared: 0, rougeL: null, exactMatch: null, tokenAgreement: null });
    const [head, row, ...rest] = (await exported('bench-export-csv')).trimEnd().split('\n');
    expect(rest).toEqual([]);
    // Quoted cells (the user agent, the cost assumption) hold commas: each counts as one cell here.
    const cell = (name: string) => row!.replace(/"(?:[^"]|"")*"/g, 'quoted').split(',')[head!.split(',').indexOf(name)];
    expect(cell('engine')).toBe('q4');
    expect(Number(cell('decode_tok_s_mean'))).toBeGreaterThan(0);
    for (const c of ['rouge_l_f1', 'exact_match', 'token_agreement']) expect(cell(c)).toBe('');
    await page.waitForSelector('[data-testid=history-row]', { timeout: 30_000 });
    expect(await text('history-engines')).toBe('Q4');
    await page.click('[data-testid=tab-compare]');
  });

  it('after a reload `engines=q4` comes back and Q4 alone loads from the cache; picking a baseline asks for a new load', async () => {
    const before = server.log.length;
    await page.reload();
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    expect(await page.inputValue('[data-testid=pick-baseline]')).toBe('none');
    expect(await page.inputValue('[data-testid=pick-candidate]')).toBe('q4');
    expect(await text('plan-row-q4')).toContain('cached');
    expect(await text('plan-row-f16')).not.toContain('cached');
    expect(await text('load')).toBe('Load from cache');
    await ui.loadModel(page);
    expect(weightRequests(before)).toEqual([]);
    expect(await text('load-q4')).toContain('from cache');
    await page.selectOption('[data-testid=pick-baseline]', 'f16');
    expect(await text('pair-changed')).toContain('Loaded: Q4 alone');
    expect(await text('load')).toBe('Load FP16 + Q4');
    await page.selectOption('[data-testid=pick-baseline]', 'none');
    expect(await count('[data-testid=pair-changed]')).toBe(0);
    expect(await text('load')).toBe('Reload');
  });
});
