// Shared setup of the browser tests: the built site on a local server with the strict CSP, a fresh
// headless Chromium, pages that record console errors and foreign requests, and screenshots
// saved to test-results/e2e/ (look at them). Every page opened in a test is checked when the test
// ends: a page error, console error or warning, failed or foreign request fails that test, whatever
// the test itself asserted (`allow` names the messages a test provokes on purpose).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expect, onTestFinished } from 'vitest';
// @ts-expect-error plain ES module without types
import { serve } from '../../../scripts/serve.mjs';
// @ts-expect-error plain ES module without types
import { launch, watch } from '../browser.mjs';

export const SHOTS = 'test-results/e2e';

export interface Harness {
  url: string;
  context: BrowserContext;
  /**
   * Opens a page; its problems (page errors, console errors and warnings, failed and foreign
   * requests) fail the current test when it finishes, except those matching `allow`.
   */
  open(path: string, opts?: { width?: number; height?: number; allow?: RegExp[]; init?: () => void }): Promise<{ page: Page; problems: string[] }>;
  shot(page: Page, name: string, opts?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function start(): Promise<Harness> {
  if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run `npm run build` first (npm run test:e2e does)');
  mkdirSync(SHOTS, { recursive: true });
  const { server, url } = await serve({ dir: 'web/dist', csp: 'strict' });
  const browser = await launch();
  const origin = url.replace(/\/$/, '');
  return {
    url,
    context: browser.context,
    async open(path, opts = {}) {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: opts.width ?? 1400, height: opts.height ?? 1000 });
      const problems: string[] = watch(page, origin);
      const allow = opts.allow ?? [];
      onTestFinished(() => {
        expect(problems.filter((p) => !allow.some((re) => re.test(p))), `problems on ${path}`).toEqual([]);
      });
      if (opts.init) await page.addInitScript(opts.init);  // runs before the page's own scripts
      await page.goto(url + path);
      return { page, problems };
    },
    async shot(page, name, opts = {}) {
      const path = join(SHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: opts.fullPage ?? false });
      return path;
    },
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Reads the main app's run metrics (the page exposes its App as window.__resnorm.apps[0]). */
export async function runLosses(page: Page, run = 0, n = Infinity): Promise<number[]> {
  return page.evaluate(([r, k]) => {
    const app = (window as any).__resnorm.apps[0];
    const m = app.session.runs[r]?.metrics;
    if (!m) return [];
    return Array.from(m.loss.view() as Float64Array).slice(0, k as number);
  }, [run, n] as const);
}

export async function steps(page: Page, run = 0): Promise<number> {
  return page.evaluate((r) => (window as any).__resnorm.apps[0].session.runs[r]?.metrics?.steps ?? 0, run);
}

/** Waits until every run of the main app is built (ready) or failed. */
export async function waitBuilt(page: Page, timeout = 60_000): Promise<string[]> {
  await page.waitForFunction(() => {
    const s = (window as any).__resnorm?.apps?.[0]?.session;
    return s && s.runs.length > 0 && s.runs.every((r: any) => r.status !== 'building');
  }, null, { timeout });
  return page.evaluate(() => (window as any).__resnorm.apps[0].session.runs.map((r: any) => `${r.status}${r.message ? ': ' + r.message : ''}`));
}

/** Evaluates `js` in the page with `app` bound to its main App (window.__resnorm.apps[0]). */
export function app(page: Page, js: string): Promise<unknown> {
  return page.evaluate(`(() => { const app = window.__resnorm.apps[0]; return ${js}; })()`);
}

/** Takes n single steps while paused (the step button) and waits for them. */
export async function stepN(page: Page, n: number): Promise<void> {
  const before = await steps(page);
  for (let i = 0; i < n; i++) await page.locator('.rp-stepbtn').click();
  await page.waitForFunction((k) => (window as any).__resnorm.apps[0].session.steps >= k, before + n, { timeout: 60_000 });
}

/** Sets a number field through its box (as typing and pressing Enter does). */
export async function typeNumber(page: Page, key: string, value: string): Promise<void> {
  const box = page.locator(`[data-key="${key}"][type="number"]`);
  await box.fill(value);
  await box.press('Enter');
}
