// GPT-2 in the app (headless Chromium, WebGPU on SwiftShader), as a Llama model is used: the plan
// names the architecture, both engines of a pair load from one download, stream side by side and
// are compared; the benchmark runs them; a reload loads both from the cache. The fixture is the
// random-weight gpt2-f32 (its logits and greedy ids against HF are tests/gpu/golden.test.ts's).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import type { FixtureServer } from './server';
import * as ui from './browser';
import { modelDir } from '../unit/fixtures';

const REPO = 'fixtures/gpt2-f32';
let server: FixtureServer;
let page: Page;
let app: ui.AppSession;

const text = (id: string) => ui.textOf(page, id);
const weightRequests = (from = 0) => server.log.slice(from).filter((r) => r.path.endsWith('.safetensors') && r.method === 'GET');

beforeAll(async () => {
  app = await ui.openApp('int8-llm-gpt2-', { repos: { [REPO]: { dir: modelDir('gpt2-f32') } } });
  ({ server, page } = app);
});

afterAll(() => app?.close());

describe('GPT-2 in the app', () => {
  it('the plan names gpt2; F32 and INT8 load from one download, stream and are compared', async () => {
    await page.goto(ui.appUrl(server, REPO, '&engines=f32,int8'));
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    expect(await text('plan')).toMatch(/gpt2 · [\d.]+K params · 2 layers · context 256/);
    await ui.loadModel(page);
    expect(weightRequests()).toHaveLength(1);
    expect(await text('load-f32')).toMatch(/ready/);
    expect(await text('load-int8')).toMatch(/ready/);
    const n = 16;
    await ui.compare(page, 'Once upon a time', n);
    await page.waitForSelector('[data-testid=comparison]', { timeout: 300_000 });
    // No stop token in this fixture's random generations: both run the whole budget.
    expect(Number(await text('tokens-f32'))).toBe(n);
    expect(Number(await text('tokens-int8'))).toBe(n);
    expect((await text('output-f32')).length).toBeGreaterThan(0);
    expect(await text('comparison')).toContain('INT8 against the FP32 baseline');
    expect(await text('metric-rouge')).toMatch(/[01]\.\d{3}/);
  });

  it('the benchmark runs the pair on GPT-2', async () => {
    await page.click('[data-testid=tab-bench]');
    await ui.runSmallBenchmark(page);
    expect(await text('bench-row-f32')).toContain('baseline');
    expect(await text('bench-row-int8')).toContain('INT8');
    await page.click('[data-testid=tab-compare]');
  });

  it('after a reload both engines load from the cache, with no download', async () => {
    const before = server.log.length;
    await page.reload();
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    expect(await text('plan-row-f32')).toContain('cached');
    expect(await text('plan-row-int8')).toContain('cached');
    await ui.loadModel(page);
    expect(weightRequests(before)).toEqual([]);
    expect(await text('load-int8')).toContain('from cache');
  });
});
