// What the browser tests share: the production build, headless Chromium with WebGPU on SwiftShader,
// and the few page steps every test file takes (load a model, set the token budget, compare).
import { build } from 'vite';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, type FixtureServer, type ServerOptions } from './server';

export const ROOT = path.resolve(__dirname, '../..');
/** screenshots, kept after the run */
export const SHOTS = path.join(ROOT, 'test-results');
// Chromium's WebGPU on SwiftShader (the CPU Vulkan driver its Debian package ships); headless mode
// exposes navigator.gpu only with the unsafe-webgpu switch.
export const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan', '--no-sandbox'];
/** the longest a model load may take (download, convert, cache both engines) */
export const LOAD_MS = 180_000;

/** Builds the app for production into a fresh temporary folder and returns it. */
export async function buildApp(prefix: string): Promise<string> {
  const distDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), root: path.join(ROOT, 'app'), logLevel: 'error', build: { outDir: distDir, emptyOutDir: true } });
  return distDir;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A page the size of a desktop window whose uncaught errors show in the test log. */
export async function newAppPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  return { context, page };
}

/** What a browser test file sets up once: the production build, the fixture hub serving it, Chromium and one desktop page. */
export interface AppSession {
  distDir: string;
  server: FixtureServer;
  browser: Browser;
  page: Page;
  /** closes Chromium and the server and deletes the build */
  close(): Promise<void>;
}

/** Builds the app into a fresh folder (`prefix`), serves it with `serve`'s repos and datasets, and opens Chromium on one page. */
export async function openApp(prefix: string, serve: Omit<ServerOptions, 'distDir'>): Promise<AppSession> {
  const distDir = await buildApp(prefix);
  let server: FixtureServer | null = null;
  let browser: Browser | null = null;
  const close = async () => {
    await browser?.close();
    await server?.close();
    await rm(distDir, { recursive: true, force: true });
  };
  try {
    server = await startServer({ distDir, ...serve });
    await mkdir(SHOTS, { recursive: true });
    browser = await launchChromium();
    const { page } = await newAppPage(browser);
    return { distDir, server, browser, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The app's address with the test server as its hub and `model` preselected. */
export const appUrl = (server: FixtureServer, model: string, extra = '') => `${server.url}/?hub=${encodeURIComponent(server.url)}&model=${model}${extra}`;

export const textOf = async (page: Page, testId: string) => (await page.textContent(`[data-testid=${testId}]`)) ?? '';

/** Waits for the plan, clicks Load and waits until both engines are ready. */
export async function loadModel(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
  await page.click('[data-testid=load]');
  await page.waitForSelector('[data-testid=load-status][data-status=ready]', { timeout: LOAD_MS });
}

export async function setMaxTokens(page: Page, n: number): Promise<void> {
  if (!(await page.isVisible('[data-testid=set-maxNewTokens]'))) await page.click('details.sampling summary');
  await page.fill('[data-testid=set-maxNewTokens]', String(n));
}

/** Types the prompt, sets the token budget and clicks Compare (without waiting for the result). */
export async function compare(page: Page, prompt: string, maxNewTokens: number): Promise<void> {
  await page.fill('[data-testid=prompt]', prompt);
  await setMaxTokens(page, maxNewTokens);
  await page.click('[data-testid=compare]');
}

/** On the Benchmark tab: the built-in set, 5 prompts x 4 tokens, no warm-up, 1 repetition. */
export async function setSmallBenchmark(page: Page): Promise<void> {
  await page.click('[data-testid=bench-set-builtin]');
  await page.selectOption('[data-testid=bench-sample]', '5');
  await page.fill('[data-testid=bench-maxNewTokens]', '4');
  await page.fill('[data-testid=bench-warmup]', '0');
  await page.fill('[data-testid=bench-repetitions]', '1');
}

/** setSmallBenchmark with no teacher-forced evaluation; runs it and waits for the results. */
export async function runSmallBenchmark(page: Page): Promise<void> {
  await setSmallBenchmark(page);
  await page.click('[data-testid=bench-eval-off]');
  await page.click('[data-testid=bench-run]');
  await page.waitForSelector('[data-testid=bench-results]', { timeout: 300_000 });
}
