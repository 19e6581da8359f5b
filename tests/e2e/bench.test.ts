// The app's synthetic models and its benchmark view in headless Chromium with real WebGPU
// (SwiftShader): the production build served next to the fixtures in hub layout. Kept apart from
// app.test.ts so each file owns one page; small settings keep it fast on two cores.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { build } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, type FixtureServer } from './server';

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-results');
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan', '--no-sandbox'];
const LOAD_MS = 180_000;

let server: FixtureServer;
let browser: Browser;
let page: Page;
let distDir: string;

const appUrl = (model: string, extra = '') => `${server.url}/?hub=${encodeURIComponent(server.url)}&model=${model}${extra}`;
const text = async (id: string) => (await page.textContent(`[data-testid=${id}]`)) ?? '';

beforeAll(async () => {
  distDir = await mkdtemp(path.join(os.tmpdir(), 'int8-llm-bench-'));
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), root: path.join(ROOT, 'app'), logLevel: 'error', build: { outDir: distDir, emptyOutDir: true } });
  server = await startServer({ distDir, repos: {} });
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (distDir) await rm(distDir, { recursive: true, force: true });
});

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

    await page.fill('[data-testid=prompt]', '1 17 300 42');
    if (!(await page.isVisible('[data-testid=set-maxNewTokens]'))) await page.click('details.sampling summary');
    await page.fill('[data-testid=set-maxNewTokens]', '8');
    await page.click('[data-testid=compare]');
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
