// What a new user met on first use (issue 16's defects), each checked in headless Chromium with
// real WebGPU (SwiftShader) on stories260K served in hub layout: a pasted hub address, a context
// selector that offers only what the model takes, Compare that needs a prompt, Esc that stops a
// run, a stopped engine compared only on what it produced, panes that say what never ran and which
// model they hold, advice that does not suggest the impossible, keyboard-only use (a skip link, tabs with arrow
// keys), and a one-run benchmark that claims no quality.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import path from 'node:path';
import type { FixtureServer } from './server';
import * as ui from './browser';
import { modelDir } from '../unit/fixtures';

const REPO = 'fixtures/stories260K';

let server: FixtureServer;
let page: Page;
let app: ui.AppSession;

const text = (id: string) => ui.textOf(page, id);

beforeAll(async () => {
  app = await ui.openApp('int8-llm-ux-', { repos: { [REPO]: { dir: modelDir('stories260K') } } });
  ({ server, page } = app);
});

afterAll(() => app?.close());

describe('first use (headless Chromium, WebGPU on SwiftShader)', () => {
  it('a pasted hub address names the model; invalid characters are named; the context offers only what the model takes', async () => {
    await page.goto(`${server.url}/?hub=${encodeURIComponent(server.url)}&model=synthetic:tiny`);
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    await page.fill('[data-testid=repo-input]', 'smollm 135');
    await page.click('[data-testid=repo-use]');
    expect(await page.textContent('.field-error')).toMatch(/not spaces/);
    // The address of the model's page on the hub, as copied from the browser's address bar.
    await page.fill('[data-testid=repo-input]', `https://huggingface.co/${REPO}/tree/main`);
    await page.click('[data-testid=repo-use]');
    await page.waitForFunction((repo) => document.querySelector('[data-testid=plan]')?.textContent?.includes(repo), REPO, { timeout: 60_000 });
    expect(await page.locator('.field-error').count()).toBe(0);
    // stories260K takes 512 positions: 512 is the one choice, shown as what will be built.
    const options = await page.locator('[data-testid=context] option').allTextContents();
    expect(options).toEqual(['512 tokens (the model’s maximum)']);
    expect(await page.inputValue('[data-testid=context]')).toBe('512');
  });

  it('Compare needs a prompt (not spaces); Esc stops a run; a too-long prompt is not told to use a longer context than the model takes', async () => {
    await ui.loadModel(page);
    // Loading names its phases, and ends with a warm-up of each engine; on SwiftShader the page says its speeds are not a GPU's.
    expect((await page.textContent('[data-testid=load-status]'))!.match(/warmed up/g)).toHaveLength(2);
    expect(await text('compare-model')).toMatch(/warmed up after loading, so the first run is not timed cold/);
    expect(await text('software-note')).toMatch(/swiftshader.* is a software adapter: WebGPU runs on the CPU here/i);
    await page.fill('[data-testid=prompt]', '   ');
    expect(await page.isDisabled('[data-testid=compare]')).toBe(true);
    expect(await text('compare-hint')).toMatch(/Type a prompt/);
    // Ctrl+Enter in the box does nothing either.
    await page.press('[data-testid=prompt]', 'Control+Enter');
    expect(await page.locator('[data-testid=stop]').count()).toBe(0);

    await ui.compare(page, 'Once upon a time', 500);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid^=tokens-]')?.textContent ?? 0) >= 1, undefined, { timeout: 60_000 });
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=compare]', { timeout: 30_000 });
    // Stopped during the baseline (FP16 runs first): INT8 never started, and says so.
    expect(await text('status-f16')).toBe('Stopped');
    expect(await text('status-int8')).toBe('Skipped');
    expect(await text('output-int8')).toMatch(/^Skipped: the run was stopped before this engine started/);
    // ... and nothing is compared (no "diverges", no agreement over tokens one engine never made).
    expect(await page.getAttribute('[data-testid=comparison]', 'data-incomplete')).toBe('true');
    expect(await text('comparison')).toMatch(/nothing to compare/);

    // 600 words is well over 512 tokens of stories260K's 512-token vocabulary.
    await ui.compare(page, 'Lily and Tom went to the park. '.repeat(100), 8);
    await page.waitForSelector('[data-testid=run-error]', { timeout: 30_000 });
    const error = await text('run-error');
    expect(error).toMatch(/context holds 512/);
    expect(error).toMatch(/512 is the longest this model takes/);
    expect(error).not.toMatch(/longer context/);
    // Neither engine ran: no pane waits for anything.
    for (const f of ['f16', 'int8']) {
      expect(await text(`status-${f}`)).toBe('Not run');
      expect(await text(`output-${f}`)).toMatch(/^Not run: the run failed before this engine started/);
    }
  });

  it('an engine stopped midway is compared on the tokens both produced; another model picked: the prompt card says which model Compare runs', async () => {
    await ui.compare(page, 'Once upon a time', 400);
    // Let FP16 finish (400 tokens or end of text), then stop INT8 after a few tokens.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=tokens-int8]')?.textContent ?? 0) >= 3, undefined, { timeout: 120_000 });
    await page.click('[data-testid=stop]');
    await page.waitForSelector('[data-testid=comparison]', { timeout: 30_000 });
    const [f16, int8] = [Number(await text('tokens-f16')), Number(await text('tokens-int8'))];
    expect(await text('status-int8')).toBe('Stopped');
    expect(int8).toBeLessThan(f16);
    expect(await page.getAttribute('[data-testid=comparison]', 'data-incomplete')).toBe('true');
    expect(await text('comparison-incomplete')).toBe(`stopped: first ${int8} tokens compared`);
    expect(await text('metric-agreement')).toContain(`over ${int8} tokens (both produced)`);
    // Not "diverges at token <int8 + 1>": stopping is not diverging.
    expect(await text('comparison')).not.toContain(`diverges at token ${int8 + 1}`);

    expect(await text('compare-model')).toMatch(/^Compare runs fixtures\/stories260K \(FP16 vs INT8\)\. Both engines were/);
    await page.click('[data-testid=synthetic-tiny]');
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]')?.textContent?.includes('synthetic:tiny'), undefined, { timeout: 60_000 });
    expect(await text('compare-model')).toMatch(/synthetic:tiny is selected but not loaded/);
  });

  it('Cancel during a load answers within a second (saying "Cancelling…" until then), even while kernels compile; the next load works', async () => {
    // A fresh page: a new worker with no compiled kernels.
    await page.goto(ui.appUrl(server, REPO));
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    await page.click('[data-testid=load]');
    await page.waitForFunction(() => /compiling GPU kernels/.test(document.querySelector('[data-testid=load-f16]')?.textContent ?? ''), undefined, { timeout: 60_000, polling: 20 });
    // Timed in the page, from the click to the status changing on screen (not Playwright's round
    // trips, which a busy CI machine stretches).
    await page.evaluate(() => {
      const w = window as unknown as { __cancel: { clicked?: number; ended?: number } };
      w.__cancel = {};
      document.addEventListener('click', (e) => {
        if ((e.target as Element | null)?.closest?.('[data-testid=load-cancel]')) w.__cancel.clicked ??= performance.now();
      }, true);
      const status = document.querySelector('[data-testid=load-status]')!;
      new MutationObserver(() => {
        if (status.getAttribute('data-status') === 'error') w.__cancel.ended ??= performance.now();
      }).observe(status, { attributes: true, attributeFilter: ['data-status'] });
    });
    await page.click('[data-testid=load-cancel]');
    // The button says so at once, unless the load has already ended.
    expect(await page.evaluate(() => document.querySelector('[data-testid=load-cancel]')?.textContent ?? 'gone')).toMatch(/^(Cancelling…|gone)$/);
    await page.waitForSelector('[data-testid=load-status][data-status=error]', { timeout: 30_000 });
    expect(await text('load-error')).toMatch(/^Loading cancelled/);
    const { clicked, ended } = await page.evaluate(() => (window as unknown as { __cancel: { clicked: number; ended: number } }).__cancel);
    console.log(`[ux] Cancel answered in ${(ended - clicked).toFixed(0)} ms`);
    expect(ended - clicked).toBeLessThan(1000);
    await ui.loadModel(page);
    await ui.compare(page, 'Once upon a time', 4);
    await page.waitForSelector('[data-testid=comparison]', { timeout: 60_000 });
  });

  it('keyboard only: the skip link reaches the prompt, Ctrl+Enter runs Compare, Esc stops it; arrow keys move between the tabs', async () => {
    // A fresh page: the first Tab stop is the skip link.
    await page.goto(ui.appUrl(server, REPO));
    await page.waitForSelector('[data-testid=plan]', { timeout: 60_000 });
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('skip-link');
    // Loaded (from the weight cache), with a budget that leaves time to stop.
    await ui.loadModel(page);
    // Another model picked but not loaded: the idle panes name the model they hold.
    await page.click('[data-testid=synthetic-tiny]');
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]')?.textContent?.includes('synthetic:tiny'), undefined, { timeout: 60_000 });
    expect(await text('status-f16')).toBe(`Holds ${REPO}`);
    expect(await text('output-int8')).toBe(`This engine holds ${REPO}; Compare runs it until synthetic:tiny is loaded.`);
    await ui.setMaxTokens(page, 500);
    await page.focus('[data-testid=skip-link]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'prompt', undefined, { timeout: 5_000 });
    await page.keyboard.type('Once upon a time');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('[data-testid=stop]', { timeout: 30_000 });
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=compare]', { timeout: 30_000 });
    expect((await page.locator('[data-testid^=status-]').allTextContents()).join(' ')).toMatch(/Stopped/);
    // The tabs: one stop in the Tab order, the arrow keys move the selection and the focus.
    expect(await page.getAttribute('[data-testid=tab-bench]', 'tabindex')).toBe('-1');
    await page.focus('[data-testid=tab-compare]');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('[data-testid=bench-panel]');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('tab-bench');
    await page.keyboard.press('ArrowLeft');
    await page.waitForSelector('[data-testid=prompt]');
  });

  it('the benchmark offers samples smaller than the 12 built-in prompts, and one run per prompt claims no baseline quality', async () => {
    await page.click('[data-testid=tab-bench]');
    await page.click('[data-testid=bench-set-builtin]');
    expect(await page.locator('[data-testid=bench-sample] option').allTextContents()).toEqual(['5 prompts', 'All (12)']);
    await ui.runSmallBenchmark(page);
    // The baseline ran once per prompt: nothing was compared, so its quality cells read "—".
    const baseline = (await page.locator('[data-testid^=bench-row-]').first().locator('td').allTextContents()).slice(8, 11);
    expect(baseline).toEqual(['—', '—', '—']);
    expect(await text('bench-results')).toMatch(/nothing to compare/);
    expect(await text('bench-panel')).toMatch(/5 prompts × 1 run \+ 0 warm-up/);
  });

  it('at 390x844 (a phone): no horizontal scroll on either tab, and the prompt within the first screen once a model is loaded', async () => {
    const context = await app.browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    try {
      await phone.goto(ui.appUrl(server, REPO));
      await ui.loadModel(phone);
      // What sticks out past the viewport's right edge, named for the failure message.
      const overflow = () =>
        phone.evaluate(() => {
          const W = document.documentElement.clientWidth;
          const out = [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().right > W + 1 && !e.closest('.table-scroll'))
            .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}${e.getAttribute('data-testid') ? `[${e.getAttribute('data-testid')}]` : ''}`);
          return { scroll: document.documentElement.scrollWidth - W, out: out.slice(0, 8) };
        });
      expect(await overflow()).toEqual({ scroll: 0, out: [] });
      // In view where the page stands after Load (no scrolling needed), and near the top of the page.
      const [top, pageTop] = await phone.evaluate(() => {
        const r = document.querySelector('[data-testid=prompt]')!.getBoundingClientRect();
        return [r.top, r.top + window.scrollY];
      });
      expect(top).toBeGreaterThanOrEqual(0);
      expect(top).toBeLessThan(844 - 80);
      expect(pageTop).toBeLessThan(844 - 80);
      await phone.screenshot({ path: path.join(ui.SHOTS, 'app-phone.png') });
      await phone.click('[data-testid=tab-bench]');
      await ui.runSmallBenchmark(phone);
      expect(await overflow()).toEqual({ scroll: 0, out: [] });
      // The pane stats and the GPU's name are whole, not cut off.
      await phone.click('[data-testid=tab-compare]');
      for (const el of [...(await phone.locator('.stats dt').all()), ...(await phone.locator('.stats dd').all()), phone.locator('[data-testid=gpu-status]')]) {
        expect(await el.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
      }
      expect(await phone.textContent('[data-testid=gpu-status]')).toMatch(/swiftshader/i);
    } finally {
      await context.close();
    }
  });
});
