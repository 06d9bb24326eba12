// Widget sizes (issue 20): at widths 320-1280 and heights from 360, a widget with a height is exactly that
// tall, does not scroll inside itself, and shows its first chart whole and live; chosen controls that
// leave no room fold into a drawer above the charts that still opens. embed.html posts its content height
// to the host page, and the optional resnorm-resize.js sizes the iframe from it. Served from the embed
// folder (web/dist-embed) by a plain static server, as a blog would.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module without types
import { launch, watch } from '../browser.mjs';
// @ts-expect-error plain ES module without types
import { plainServe } from '../plainServer.mjs';

type Browser = { context: import('playwright-core').BrowserContext; close(): Promise<void> };
let browser: Browser;
let tmp: string;
let srv: { url: string; origin: string; close(): Promise<void> };
const WIDGETS = [
  { preset: 'mlp-spiral', controls: 'lr,warmup', height: 360, steps: 20 },
  { preset: 'gpt-tiny', controls: 'lr', height: 420, steps: 2 },
  { preset: 'cnn-digits', controls: 'lr,norm', height: 600, steps: 2 },
  { preset: 'plain-vs-residual', controls: 'lr,warmup', height: 360, steps: 2 },  // two runs: their chips take a row too
];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'resnorm-size-'));
  mkdirSync(join(tmp, 'post'));
  writeFileSync(join(tmp, 'post/index.html'), `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>sizes</title><script type="module" src="../resnorm/assets/resnorm-playground.js"></script></head>
<body style="margin:0">${WIDGETS.map((w) => `<p style="height:40px">text</p><resnorm-playground preset="${w.preset}" controls="${w.controls}" height="${w.height}"></resnorm-playground>`).join('\n')}
<p style="height:900px">the end</p></body></html>`);
  writeFileSync(join(tmp, 'frame.html'), `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>frame</title>
<script src="resnorm/resnorm-resize.js"></script></head><body style="margin:0">
<iframe id="auto" src="resnorm/embed.html?preset=mlp-spiral&controls=lr" width="100%" height="300" style="border:0" title="auto"></iframe>
</body></html>`);
  srv = await plainServe({ files: { '/resnorm/': 'web/dist-embed', '/': tmp } });
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Widget i's box, inner scrolling and its first chart's canvas (relative to the widget's top). */
function measure(page: Page, i: number) {
  return page.evaluate((k) => {
    const el = document.querySelectorAll('resnorm-playground')[k] as any;
    const root = el.shadowRoot.querySelector('.rp-app') as HTMLElement;
    const box = root.getBoundingClientRect();
    const panel = root.querySelector('.rp-panel') as HTMLElement;
    const canvas = panel.querySelector('canvas') as HTMLCanvasElement;
    const c = canvas.getBoundingClientRect();
    const points = el.app.parts.loss ? el.app.session.runs[0].metrics.loss.length : 0;
    return { height: box.height, scroll: root.scrollHeight - root.clientHeight, top: c.top - box.top, bottom: c.bottom - box.top, chart: c.height,
      panel: panel.dataset.panel, points, folded: root.classList.contains('rp-folded') };
  }, i);
}

describe('widget sizes', () => {
  for (const width of [320, 375, 768, 1280]) {
    it(`${width} px: each widget is its height, shows its first chart whole and live, no inner scrolling`, async () => {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width, height: 800 });
      const problems: string[] = watch(page, srv.origin);
      await page.goto(`${srv.url}post/`);
      for (let i = 0; i < WIDGETS.length; i++) {
        const w = WIDGETS[i];
        const el = page.locator('resnorm-playground').nth(i);
        await el.scrollIntoViewIfNeeded();
        await page.waitForFunction((k) => (document.querySelectorAll('resnorm-playground')[k] as any).app?.session.live.length > 0, i, { timeout: 120_000 });
        await el.locator('.rp-play').click();
        await page.waitForFunction(([k, n]) => (document.querySelectorAll('resnorm-playground')[k] as any).app.session.steps >= n, [i, w.steps] as const, { timeout: 120_000 });
        await page.waitForTimeout(700);  // the fitting passes (a frame each)
        const m = await measure(page, i);
        const what = `${w.preset} at ${width}x${w.height}: ${JSON.stringify(m)}`;
        expect(Math.round(m.height), what).toBe(w.height);
        expect(m.scroll, what).toBeLessThanOrEqual(1);
        expect(m.panel, what).toBe('loss');
        expect(m.top, what).toBeGreaterThan(0);
        expect(m.bottom, what).toBeLessThanOrEqual(w.height);
        expect(m.chart, what).toBeGreaterThanOrEqual(100);
        expect(m.points, what).toBeGreaterThan(0);
        await el.locator('.rp-play').click();
        if (width === 375 || width === 1280) await el.screenshot({ path: `test-results/e2e/embed-size-${w.preset}-${width}.png` });
      }
      expect(problems).toEqual([]);
      await page.close();
    });
  }

  it('folded controls open as a drawer over the charts and still set the run', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 375, height: 800 });
    const problems: string[] = watch(page, srv.origin);
    await page.goto(`${srv.url}post/`);
    const el = page.locator('resnorm-playground').first();
    await page.waitForFunction(() => (document.querySelector('resnorm-playground') as any).app?.session.live.length > 0, null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    expect((await measure(page, 0)).folded).toBe(true);
    expect(await el.locator('.rp-controls').isVisible()).toBe(false);
    await el.locator('.rp-drawer-toggle').click();
    expect(await el.locator('.rp-controls').isVisible()).toBe(true);
    const box = el.locator('[data-key="lr"][type="number"]');
    await box.fill('0.02');
    await box.press('Enter');
    await page.waitForFunction(() => Number((document.querySelector('resnorm-playground') as any).app.state.config.lr) === 0.02);
    await page.waitForTimeout(400);
    expect((await measure(page, 0)).scroll).toBeLessThanOrEqual(1);
    await el.screenshot({ path: 'test-results/e2e/embed-size-drawer-375.png' });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a widget refits when its width changes (a phone turned): still its height, its chart whole', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    const problems: string[] = watch(page, srv.origin);
    await page.goto(`${srv.url}post/`);
    for (const i of [0, 2]) {  // mlp-spiral 360 px, cnn-digits 600 px
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.locator('resnorm-playground').nth(i).scrollIntoViewIfNeeded();
      await page.waitForFunction((k) => (document.querySelectorAll('resnorm-playground')[k] as any).app?.session.live.length > 0, i, { timeout: 60_000 });
      await page.waitForTimeout(500);
      const wide = await measure(page, i);
      await page.setViewportSize({ width: 375, height: 800 });
      await page.locator('resnorm-playground').nth(i).scrollIntoViewIfNeeded();
      await page.waitForTimeout(800);
      const narrow = await measure(page, i);
      const what = `${WIDGETS[i].preset}: ${JSON.stringify({ wide, narrow })}`;
      for (const m of [wide, narrow]) {
        expect(m.scroll, what).toBeLessThanOrEqual(1);
        expect(m.bottom, what).toBeLessThanOrEqual(WIDGETS[i].height);
        expect(m.chart, what).toBeGreaterThanOrEqual(100);
      }
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('embed.html posts its content height and resnorm-resize.js sizes the iframe to it', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 900, height: 800 });
    const problems: string[] = watch(page, srv.origin);
    await page.goto(`${srv.url}frame.html`);
    const frame = page.frames().find((f) => f.url().includes('embed.html'))!;
    await frame.waitForFunction(() => (window as any).__resnorm?.apps[0]?.session.live.length > 0, null, { timeout: 60_000 });
    // the content's own height (header to the last panel), measured in the frame; the frame's width changes
    // once its scroll bar goes, and the content's height with it, so both are read together until they agree
    const content = () => frame.evaluate(() => {
      const r = document.querySelector('.rp-app') as HTMLElement;
      return Math.ceil(Math.max(...Array.from(r.children, (c) => c.getBoundingClientRect().bottom)) - r.getBoundingClientRect().top);
    });
    const frameHeight = () => page.evaluate(() => document.getElementById('auto')!.getBoundingClientRect().height);
    await expect.poll(async () => Math.abs((await frameHeight()) - (await content())), { timeout: 15_000 }).toBeLessThanOrEqual(2);
    // a natural-height widget with six panels: far taller than the 300 px the iframe started with
    expect(await frameHeight()).toBeGreaterThan(600);
    expect(problems).toEqual([]);
    await page.close();
  });
});
