// The example blog post under the strict CSP: three independent <resnorm-playground> widgets that
// each train when played, pause when scrolled off-screen and resume, no console errors, no request
// to another origin; and embed.html for iframes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { start, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

/** Steps and playing state of widget i, read from its shadow root. */
async function widget(page: Page, i: number): Promise<{ steps: number; playing: boolean; runs: number }> {
  return page.evaluate((k) => {
    const el = document.querySelectorAll('resnorm-playground')[k] as any;
    const app = el.app;
    return { steps: app?.session.steps ?? -1, playing: !!app?.session.playing, runs: app?.session.runs.length ?? 0 };
  }, i);
}

describe('example blog post', () => {
  it('shows three working widgets and logs no errors', async () => {
    const { page, problems } = await H.open('examples/blog-post.html', { width: 1300, height: 950 });
    const els = page.locator('resnorm-playground');
    expect(await els.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      const el = els.nth(i);
      await el.scrollIntoViewIfNeeded();
      await page.waitForFunction((k) => {
        const app = (document.querySelectorAll('resnorm-playground')[k] as any).app;
        return app && app.session.runs.length > 0 && app.session.runs.every((r: any) => r.status === 'ready');
      }, i, { timeout: 90_000 });
      await el.locator('.rp-play').click();
      // the transformer widget takes a few hundred ms a step: ask for a few steps, not hundreds
      const want = i === 1 ? 3 : 100;
      await page.waitForFunction(([k, n]) => (document.querySelectorAll('resnorm-playground')[k] as any).app.session.steps >= n, [i, want] as const, { timeout: 120_000 });
      await page.waitForTimeout(500);
      await el.screenshot({ path: `test-results/e2e/blog-widget-${i + 1}.png` });
      await el.locator('.rp-play').click();
      expect((await widget(page, i)).playing).toBe(false);
    }
    expect((await widget(page, 0)).runs).toBe(2);
    expect((await widget(page, 1)).runs).toBe(2);
    expect((await widget(page, 2)).runs).toBe(3);
    await page.evaluate(() => window.scrollTo(0, 0));
    await H.shot(page, 'blog-top');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('pauses a widget that scrolls off-screen and resumes it', async () => {
    const { page, problems } = await H.open('examples/blog-post.html', { width: 1300, height: 950 });
    const first = page.locator('resnorm-playground').first();
    await first.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => (document.querySelector('resnorm-playground') as any).app?.session.live.length === 2, null, { timeout: 60_000 });
    await first.locator('.rp-play').click();
    await page.waitForFunction(() => (document.querySelector('resnorm-playground') as any).app.session.steps > 10);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForFunction(() => !(document.querySelector('resnorm-playground') as any).app.session.playing);
    const s1 = (await widget(page, 0)).steps;
    await page.waitForTimeout(600);
    expect((await widget(page, 0)).steps).toBeLessThanOrEqual(s1 + 50);  // at most the round in flight
    await first.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => (document.querySelector('resnorm-playground') as any).app.session.playing);
    await first.locator('.rp-play').click();
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('embed.html', () => {
  it('shows only the chosen controls and autoplays', async () => {
    const { page, problems } = await H.open('embed.html?preset=mlp-spiral&controls=lr,warmup&panels=loss,boundary&height=460&autoplay=1', { width: 760, height: 520 });
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps > 50, null, { timeout: 60_000 });
    expect(await page.locator('.rp-field').count()).toBe(2);
    expect(await page.locator('.rp-panel').count()).toBe(2);
    await page.waitForTimeout(800);
    await H.shot(page, 'embed');
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('an iframe embed (examples/iframe-post.html)', () => {
  it('trains while seen, pauses when the host page scrolls it away or the tab is hidden, and resumes', async () => {
    const { page } = await H.open('examples/iframe-post.html', { width: 1000, height: 800 });
    const frameEl = page.locator('iframe.rp-frame');
    await frameEl.scrollIntoViewIfNeeded();
    const frame = (await frameEl.elementHandle())!;
    const f = (await frame.contentFrame())!;
    const st = () => f.evaluate(() => { const s = (window as any).__resnorm?.apps?.[0]?.session; return s ? { playing: s.playing as boolean, steps: s.steps as number } : null; });
    await expect.poll(async () => (await st())?.steps ?? 0, { timeout: 60_000 }).toBeGreaterThan(5);  // autoplay
    expect((await st())!.playing).toBe(true);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await expect.poll(async () => (await st())!.playing).toBe(false);
    await page.evaluate(() => window.scrollTo(0, 0));
    await frameEl.scrollIntoViewIfNeeded();
    await expect.poll(async () => (await st())!.playing).toBe(true);
    // a hidden tab (Page Visibility inside the frame)
    await f.evaluate(() => { Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' }); document.dispatchEvent(new Event('visibilitychange')); });
    await expect.poll(async () => (await st())!.playing).toBe(false);
    await f.evaluate(() => { Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' }); document.dispatchEvent(new Event('visibilitychange')); });
    await expect.poll(async () => (await st())!.playing).toBe(true);
    await H.shot(page, 'iframe-post');
    await f.evaluate(() => (window as any).__resnorm.apps[0].session.pause());
    await page.close();
  });
});
