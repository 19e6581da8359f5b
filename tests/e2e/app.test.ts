// The demo app in headless Chromium with real WebGPU (SwiftShader): the production build served
// next to the fixture models in hub layout. Checks the user-visible promises: the FP16 pane shows
// exactly HF's greedy text, a reload loads from the cache without downloading weights, Stop stops,
// a lost device can be recovered, a cut weight file fails cleanly without leaving a cache entry.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { build } from 'vite';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdtemp, mkdir, rm, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, type FixtureServer } from './server';
import { TextTokenizer } from '../../src/model/tokenizer';
import { modelDir, reference, type GreedyCase } from '../unit/fixtures';

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'test-results');
const MODEL = modelDir('stories260K');
const CASE = (reference('stories260K').ref.greedy as GreedyCase[]).find((c) => c.prompt === 'Once upon a time')!;
/** SwiftShader decodes stories260K at ~15 tokens/s in Chromium on 2 cores: the whole 200 fit. */
const N = CASE.continuation_ids.length;
// Chromium's WebGPU on SwiftShader (the CPU Vulkan driver its Debian package ships); headless mode
// exposes navigator.gpu only with the unsafe-webgpu switch.
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan', '--no-sandbox'];
const LOAD_MS = 180_000;

let server: FixtureServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let distDir: string;
let hugeConfigDir: string;
let tokenizer: TextTokenizer;
/** HF's greedy continuation, decoded, cut after n tokens */
const greedyPrefix = (n: number) => tokenizer.decode(CASE.continuation_ids.slice(0, n));
let expectedText: string;

const weightRequests = (from = 0) => server.log.slice(from).filter((r) => r.path.endsWith('.safetensors'));
const appUrl = (repo: string, extra = '') => `${server.url}/?hub=${encodeURIComponent(server.url)}&model=${repo}${extra}`;
const text = async (id: string) => (await page.textContent(`[data-testid=${id}]`)) ?? '';

async function loadModel(): Promise<void> {
  await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
  await page.click('[data-testid=load]');
  await page.waitForSelector('[data-testid=load-status][data-status=ready]', { timeout: LOAD_MS });
}

async function setMaxTokens(n: number): Promise<void> {
  if (!(await page.isVisible('[data-testid=set-maxNewTokens]'))) await page.click('details.sampling summary');
  await page.fill('[data-testid=set-maxNewTokens]', String(n));
}

async function compare(prompt: string, maxNewTokens: number): Promise<void> {
  await page.fill('[data-testid=prompt]', prompt);
  await setMaxTokens(maxNewTokens);
  await page.click('[data-testid=compare]');
}

beforeAll(async () => {
  distDir = await mkdtemp(path.join(os.tmpdir(), 'int8-llm-app-'));
  // A 70B-class config: its embedding table alone is larger than any buffer SwiftShader allows.
  const hugeDir = path.join(distDir, '..', `${path.basename(distDir)}-huge`);
  await mkdir(hugeDir, { recursive: true });
  const base = JSON.parse(await readFile(path.join(MODEL, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(hugeDir, 'config.json'), JSON.stringify({ ...base, hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8, head_dim: 128, vocab_size: 128256, max_position_embeddings: 8192 }));
  hugeConfigDir = hugeDir;
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), root: path.join(ROOT, 'app'), logLevel: 'error', build: { outDir: distDir, emptyOutDir: true } });
  server = await startServer({
    distDir,
    repos: {
      'fixtures/stories260K': { dir: MODEL },
      // The header survives, the data section is cut: looks like a complete download, is not.
      'fixtures/truncated': { dir: MODEL, truncateWeights: 0.6 },
      'fixtures/huge': { dir: hugeConfigDir },
    },
  });
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  tokenizer = new TextTokenizer(await readFile(path.join(MODEL, 'tokenizer.json'), 'utf8'), await readFile(path.join(MODEL, 'tokenizer_config.json'), 'utf8'));
  expectedText = greedyPrefix(N);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (distDir) await rm(distDir, { recursive: true, force: true });
  if (hugeConfigDir) await rm(hugeConfigDir, { recursive: true, force: true });
});

describe('demo app (headless Chromium, WebGPU on SwiftShader)', () => {
  it('without WebGPU: says what to enable in Chrome', async () => {
    const ctx = await browser.newContext();
    try {
      // The page's navigator.gpu removed before any script runs: what a browser without WebGPU shows.
      await ctx.addInitScript(() => delete (Navigator.prototype as { gpu?: unknown }).gpu);
      const p = await ctx.newPage();
      await p.goto(appUrl('fixtures/stories260K'));
      const notice = await p.waitForSelector('[data-testid=no-webgpu]', { timeout: 30_000 });
      const t = (await notice.textContent()) ?? '';
      expect(t).toContain('WebGPU is not available');
      expect(t).toContain('#enable-unsafe-webgpu');
      expect(await p.textContent('[data-testid=gpu-status]')).toContain('WebGPU unavailable');
    } finally {
      await ctx.close();
    }
  });

  it(`downloads once, builds both engines; FP16 shows HF's greedy text for "${CASE.prompt}" (${N} tokens)`, async () => {
    await page.goto(appUrl('fixtures/stories260K'));
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    expect(await text('plan')).not.toContain('cached');
    expect(await text('gpu-status')).toMatch(/swiftshader/i);
    await loadModel();
    // One checkpoint download feeds both engines.
    expect(weightRequests().filter((r) => r.method === 'GET')).toHaveLength(1);
    expect(await text('load-f16')).toMatch(/ready/);
    expect(await text('load-int8')).toMatch(/ready/);

    await compare(CASE.prompt!, N);
    await page.waitForSelector('[data-testid=comparison]', { timeout: 300_000 });
    expect(await text('output-f16')).toBe(expectedText);
    if (N === CASE.continuation_ids.length) expect(await text('output-f16')).toBe(CASE.text);
    expect(Number(await text('tokens-f16'))).toBe(N);
    const int8 = await text('output-int8');
    expect(int8.length).toBeGreaterThan(20);
    // The metrics card and the divergence marks agree with each other.
    const agreement = await text('metric-agreement');
    expect(agreement).toMatch(/%/);
    expect(await text('metric-rouge')).toMatch(/[01]\.\d{3}/);
    expect(await text('metric-memory')).toMatch(/0\.5\d×/);
    const diverged = int8 !== expectedText;
    expect(await page.locator('[data-testid=divergence]').count()).toBe(diverged ? 2 : 0);
    await page.screenshot({ path: path.join(SHOTS, 'app-compare.png'), fullPage: true });
  });

  it('after a reload, both engines load from the cache with zero weight requests', async () => {
    const before = server.log.length;
    await page.reload();
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    expect((await text('plan')).match(/cached/g)).toHaveLength(2);
    expect(await text('load')).toBe('Load from cache');
    await loadModel();
    expect(weightRequests(before)).toEqual([]);
    expect(await text('load-f16')).toContain('from cache');
    expect(await text('load-int8')).toContain('from cache');
    expect(await page.locator('[data-testid=cache-entry]').count()).toBe(2);
    await page.locator('[data-testid=cache-panel]').screenshot({ path: path.join(SHOTS, 'app-cache-panel.png') });
  });

  it('Stop ends the generation within a token or two and skips the second engine', async () => {
    await compare(CASE.prompt!, 400);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=tokens-f16]')?.textContent) >= 5, undefined, { timeout: 60_000 });
    const atClick = Number(await text('tokens-f16'));
    await page.click('[data-testid=stop]');
    await page.waitForSelector('[data-testid=pane-f16][data-status=stopped]', { timeout: 30_000 });
    await page.waitForSelector('[data-testid=compare]', { timeout: 30_000 });
    const final = Number(await text('tokens-f16'));
    // Tokens already posted by the worker when Stop was clicked still land, and on a loaded 2-core
    // machine the page's count lags the worker by a few tokens. The engine itself stops within one
    // token of the abort (tests/gpu/generate.test.ts checks that exactly).
    expect(final - atClick).toBeLessThanOrEqual(8);
    expect(final).toBeLessThan(400);
    expect(expectedText.startsWith(await text('output-f16'))).toBe(true);
    expect(await page.getAttribute('[data-testid=pane-int8]', 'data-status')).toBe('waiting');
    expect(await page.locator('[data-testid=comparison]').count()).toBe(0);
  });

  it('a lost GPU device is reported and the engines can be rebuilt from the cache', async () => {
    await page.goto(appUrl('fixtures/stories260K', '&debug=1'));
    await loadModel();
    const before = server.log.length;
    await page.evaluate(() => (globalThis as unknown as { __int8llm: { loseDevice(): void } }).__int8llm.loseDevice());
    await page.waitForSelector('[data-testid=device-lost]', { timeout: 30_000 });
    expect(await text('gpu-status')).toContain('lost');
    await page.click('[data-testid=device-lost] button');
    await page.waitForSelector('[data-testid=load-status][data-status=ready]', { timeout: LOAD_MS });
    expect(await page.locator('[data-testid=device-lost]').count()).toBe(0);
    expect(weightRequests(before)).toEqual([]);
    await compare(CASE.prompt!, 12);
    await page.waitForSelector('[data-testid=comparison]', { timeout: 120_000 });
    expect(await text('output-f16')).toBe(greedyPrefix(12));
  });

  it('a truncated weight file fails with a clear error and leaves nothing in the cache', async () => {
    // A malformed id never becomes a request.
    await page.fill('[data-testid=repo-input]', 'not a/valid/id');
    await page.click('[data-testid=repo-use]');
    expect(await page.textContent('.field-error')).toContain('invalid model id');
    await page.fill('[data-testid=repo-input]', 'fixtures/truncated');
    await page.click('[data-testid=repo-use]');
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]')?.textContent?.includes('fixtures/truncated'), undefined, { timeout: 60_000 });
    await page.click('[data-testid=load]');
    await page.waitForSelector('[data-testid=load-status][data-status=error]', { timeout: LOAD_MS });
    expect(await text('load-error')).toMatch(/model\.safetensors.*truncated/);
    const repos = await page.locator('[data-testid=cache-entry]').evaluateAll((els) => els.map((e) => e.getAttribute('data-repo') ?? ''));
    expect(repos.some((r) => r.includes('truncated'))).toBe(false);
    expect(repos).toHaveLength(2);
    // Not even orphaned chunks or files: every record in the store belongs to stories260K.
    const keys = await page.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const open = indexedDB.open('webgpu-int8-llm');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const req = open.result.transaction('weights').objectStore('weights').getAllKeys();
            req.onsuccess = () => resolve(req.result.map(String));
            req.onerror = () => reject(req.error);
          };
        }),
    );
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.includes('truncated'))).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'app-load-error.png'), fullPage: true });
  });

  it('a model too large for the adapter is refused before any download', async () => {
    const before = server.log.length;
    await page.fill('[data-testid=repo-input]', 'fixtures/huge');
    await page.click('[data-testid=repo-use]');
    const refusal = await page.waitForSelector('[data-testid=plan-refusal]', { timeout: 60_000 });
    expect(await refusal.textContent()).toMatch(/needs a .* GB buffer \(embedding table\); this adapter allows 1\.00 GB per buffer/);
    expect(await page.isDisabled('[data-testid=load]')).toBe(true);
    // Hub requests only: the page's own assets (the favicon, fetched lazily) may come in between.
    expect(server.log.slice(before).filter((r) => r.path.includes('/resolve/')).map((r) => r.path)).toEqual(['/fixtures/huge/resolve/main/config.json']);
  });

  it('a model folder picked from disk loads (uncached) and generates the same greedy text', async () => {
    const before = server.log.length;
    await page.setInputFiles('input[type=file]', MODEL);
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]')?.textContent?.includes('stories260K'), undefined, { timeout: 60_000 });
    expect(await text('plan')).not.toContain('cached');
    await page.click('[data-testid=load]');
    await page.waitForSelector('[data-testid=load-status][data-status=ready]', { timeout: LOAD_MS });
    await compare(CASE.prompt!, 12);
    await page.waitForSelector('[data-testid=comparison]', { timeout: 120_000 });
    expect(await text('output-f16')).toBe(greedyPrefix(12));
    expect(server.log.slice(before).filter((r) => r.path.includes('/resolve/'))).toEqual([]);
    expect(await page.locator('[data-testid=cache-entry]').count()).toBe(2);
  });
});
