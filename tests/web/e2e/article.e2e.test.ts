// The article, alive (issue 20, item 6): examples/article-zh.html and its English twin under the strict
// CSP. Each of the six widgets builds when it is scrolled to, trains when played and pauses when
// scrolled away; the cnn-eps widget shows the article's eps-less LayerNorm stopping at step 1 while the
// corrected run trains, with the digits panel on the corrected run; no console error, no request to
// another origin. Both posts are screenshotted at 375 and 1280 px (test-results/e2e/article-*.png).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { start, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

const PRESETS = ['plain-vs-residual', 'rezero', 'mlp-residual-deep', 'postln-vs-preln', 'cnn-doubled', 'cnn-eps'];
const RUNS = [2, 3, 2, 2, 3, 3];

const session = (page: Page, i: number) => page.evaluate((k) => {
  const s = (document.querySelectorAll('resnorm-playground')[k] as any).app?.session;
  return s ? { steps: s.steps as number, playing: !!s.playing, runs: s.runs.map((r: any) => [r.status, r.message ?? '']) as [string, string][], lang: (document.querySelectorAll('resnorm-playground')[k] as any).app.state.lang } : null;
}, i);

async function builtAt(page: Page, i: number): Promise<void> {
  await page.locator('resnorm-playground').nth(i).scrollIntoViewIfNeeded();
  await page.waitForFunction((k) => {
    const s = (document.querySelectorAll('resnorm-playground')[k] as any).app?.session;
    return s && s.runs.length > 0 && s.runs.every((r: any) => r.status !== 'building');
  }, i, { timeout: 180_000 });
}

describe('the article in Chinese (examples/article-zh.html)', () => {
  it('six widgets in Chinese, each builds when seen, trains when played, and stops when played again', async () => {
    const { page, problems } = await H.open('examples/article-zh.html', { width: 1280, height: 900 });
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    const els = page.locator('resnorm-playground');
    expect(await els.count()).toBe(6);
    // lazy: nothing below the first screen is built before it is seen
    expect(await session(page, 5)).toMatchObject({ runs: [] });
    for (let i = 0; i < 6; i++) {
      await builtAt(page, i);
      const s = (await session(page, i))!;
      expect(s.lang, `widget ${i + 1}`).toBe('zh');
      expect(s.runs.map((r) => r[0]), `widget ${i + 1} (${PRESETS[i]})`).toEqual(Array(RUNS[i]).fill('ready'));
      await els.nth(i).locator('.rp-play').click();
      // a step or a few: the transformers and the conv nets take up to seconds a step on a loaded machine
      const want = i >= 3 ? 1 : 20;
      await page.waitForFunction(([k, n]) => (document.querySelectorAll('resnorm-playground')[k] as any).app.session.steps >= n, [i, want] as const, { timeout: 180_000 });
      if (i === 5) {
        // the article's LayerNorm: A (raw pixels, eps = 0) stops at step 1 naming the norm; B and C train
        await page.waitForFunction(() => (document.querySelectorAll('resnorm-playground')[5] as any).app.session.steps >= 3, null, { timeout: 180_000 });
        const r = (await session(page, 5))!.runs;
        expect(r[0][0]).toBe('diverged');
        expect(r[0][1]).toMatch(/division by zero variance in blocks\.0\.norm_1 \(block 0\)/);
        expect(r[1][0]).not.toBe('diverged');
        expect(r[2][0]).not.toBe('diverged');
        // the digits panel opens on B, the corrected run
        expect(await els.nth(5).locator('.rp-digit-head select').inputValue()).toBe('1');
        await expect.poll(() => els.nth(5).locator('.rp-msg.error').first().textContent()).toMatch(/A/);
      }
      await els.nth(i).locator('.rp-play').click();
      await expect.poll(async () => (await session(page, i))!.playing).toBe(false);
    }
    for (const w of [1280, 375]) {
      await page.setViewportSize({ width: w, height: w === 375 ? 812 : 900 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(300);
      await H.shot(page, `article-zh-${w}`);
      await page.locator('resnorm-playground').nth(5).scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
      await H.shot(page, `article-zh-${w}-eps`);
    }
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('the article in English (examples/article-en.html)', () => {
  it('pauses a training widget that scrolls off-screen and resumes it; the others stay paused', async () => {
    const { page, problems } = await H.open('examples/article-en.html', { width: 1280, height: 900 });
    const els = page.locator('resnorm-playground');
    expect(await els.count()).toBe(6);
    await builtAt(page, 0);
    expect((await session(page, 0))!.lang).toBe('en');
    await els.nth(0).locator('.rp-play').click();
    await page.waitForFunction(() => (document.querySelector('resnorm-playground') as any).app.session.steps > 10, null, { timeout: 60_000 });
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await expect.poll(async () => (await session(page, 0))!.playing).toBe(false);
    const s1 = (await session(page, 0))!.steps;
    await page.waitForTimeout(800);
    expect((await session(page, 0))!.steps).toBeLessThanOrEqual(s1 + 50);  // at most the round in flight
    // the widgets passed on the way down were not started by anything
    for (let i = 1; i < 6; i++) expect((await session(page, i))?.playing ?? false, `widget ${i + 1}`).toBe(false);
    await els.nth(0).scrollIntoViewIfNeeded();
    await expect.poll(async () => (await session(page, 0))!.playing).toBe(true);
    await page.waitForFunction((n) => (document.querySelector('resnorm-playground') as any).app.session.steps > n + 5, s1, { timeout: 60_000 });
    await els.nth(0).locator('.rp-play').click();
    for (const w of [1280, 375]) {
      await page.setViewportSize({ width: w, height: w === 375 ? 812 : 900 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(300);
      await H.shot(page, `article-en-${w}`);
    }
    expect(problems).toEqual([]);
    await page.close();
  });
});
