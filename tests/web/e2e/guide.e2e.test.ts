// docs/embedding.md tested literally (issue 20): the blocks marked `<!-- guide-test: FILE -->` become the
// files of a Hugo site (Debian's hugo, scripts/setup.sh), with the embed folder at static/resnorm/ as the
// guide says and a bare single-page layout standing in for a theme. The site is built for, and served
// under, the sub-path /myblog/ by a plain static server (no CSP, no COOP/COEP headers; the plain page
// brings its own CSP meta tag). At 375 and 1280 px every widget, element or iframe, trains and shows a
// chart whole without scrolling inside itself.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module without types
import { launch, watch } from '../browser.mjs';
// @ts-expect-error plain ES module without types
import { plainServe } from '../plainServer.mjs';

const GUIDE = readFileSync('docs/embedding.md', 'utf8');
/** The guide's test blocks: file path -> the fenced block that follows its marker. */
const BLOCKS = new Map(Array.from(GUIDE.matchAll(/<!-- guide-test: (\S+) -->\n```[^\n]*\n([\s\S]*?)\n```/g), (m) => [m[1], m[2] + '\n']));

type Browser = { context: import('playwright-core').BrowserContext; close(): Promise<void> };
let browser: Browser;
let tmp: string;
let srv: { url: string; origin: string; log: string[]; close(): Promise<void> };

beforeAll(async () => {
  if (!existsSync('web/dist-embed/assets/resnorm-playground.js')) throw new Error('web/dist-embed is missing: run `npm run build` first');
  tmp = mkdtempSync(join(tmpdir(), 'resnorm-hugo-'));
  const site = join(tmp, 'site');
  for (const [file, text] of BLOCKS) {
    mkdirSync(dirname(join(site, file)), { recursive: true });
    writeFileSync(join(site, file), text);
  }
  // a theme's page layout, reduced to what a theme always has
  mkdirSync(join(site, 'layouts/_default'), { recursive: true });
  writeFileSync(join(site, 'layouts/_default/single.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>{{ .Title }}</title></head><body style="max-width:760px;margin:0 auto;padding:0 8px">{{ .Content }}</body></html>\n');
  writeFileSync(join(site, 'layouts/_default/list.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>{{ .Title }}</title></head><body>{{ range .Pages }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</body></html>\n');
  cpSync('web/dist-embed', join(site, 'static/resnorm'), { recursive: true });  // "copy that folder ... as static/resnorm/"
  srv = await plainServe({ files: { '/myblog/': join(site, 'public') } });
  execFileSync('hugo', ['--quiet', '--source', site, '--destination', 'public', '--baseURL', `${srv.url}myblog/`], { stdio: 'pipe' });
  browser = await launch();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Element i trains `steps` steps from Play, then: no inner scrolling, its first chart whole inside it. */
async function checkElement(page: Page, i: number, steps: number, what: string): Promise<void> {
  const el = page.locator('resnorm-playground').nth(i);
  await el.scrollIntoViewIfNeeded();
  await page.waitForFunction((k) => (document.querySelectorAll('resnorm-playground')[k] as any).app?.session.live.length > 0, i, { timeout: 120_000 });
  await el.locator('.rp-play').click();
  await page.waitForFunction(([k, n]) => (document.querySelectorAll('resnorm-playground')[k] as any).app.session.steps >= n, [i, steps] as const, { timeout: 180_000 });
  await el.locator('.rp-play').click();
  await page.waitForTimeout(500);
  const r = await page.evaluate((k) => {
    const root = (document.querySelectorAll('resnorm-playground')[k] as any).shadowRoot.querySelector('.rp-app') as HTMLElement;
    const box = root.getBoundingClientRect();
    const c = (root.querySelector('.rp-panel canvas') as HTMLCanvasElement).getBoundingClientRect();
    return { scroll: root.scrollHeight - root.clientHeight, top: c.top - box.top, bottom: c.bottom - box.top, height: box.height, chart: c.height };
  }, i);
  expect(r.scroll, `${what}: ${JSON.stringify(r)}`).toBeLessThanOrEqual(1);
  expect(r.top, what).toBeGreaterThan(0);
  expect(r.bottom, what).toBeLessThanOrEqual(r.height);
  expect(r.chart, what).toBeGreaterThanOrEqual(90);
}

/** The same for iframe i: inside the frame's own page too (neither the widget nor the document scrolls). */
async function checkFrame(page: Page, i: number, steps: number, what: string): Promise<void> {
  const iframe = page.locator('iframe').nth(i);
  await iframe.scrollIntoViewIfNeeded();
  const frame = (await (await iframe.elementHandle())!.contentFrame()) as Frame;
  await frame.waitForFunction(() => (window as any).__resnorm?.apps[0]?.session.live.length > 0, null, { timeout: 120_000 });
  await frame.locator('.rp-play').click();
  await frame.waitForFunction((n) => (window as any).__resnorm.apps[0].session.steps >= n, steps, { timeout: 180_000 });
  await frame.locator('.rp-play').click();
  await page.waitForTimeout(500);
  const r = await frame.evaluate(() => {
    const root = document.querySelector('.rp-app') as HTMLElement;
    const doc = document.scrollingElement!;
    const c = (root.querySelector('.rp-panel canvas') as HTMLCanvasElement).getBoundingClientRect();
    return { scroll: root.scrollHeight - root.clientHeight, docScroll: doc.scrollHeight - doc.clientHeight, top: c.top, bottom: c.bottom, view: innerHeight, chart: c.height };
  });
  expect(r.scroll, `${what}: ${JSON.stringify(r)}`).toBeLessThanOrEqual(1);
  expect(r.docScroll, `${what}: ${JSON.stringify(r)}`).toBeLessThanOrEqual(1);
  expect(r.top, what).toBeGreaterThan(0);
  expect(r.bottom, what).toBeLessThanOrEqual(r.view);
  expect(r.chart, what).toBeGreaterThanOrEqual(90);
}

describe('docs/embedding.md, built with Hugo under /myblog/', () => {
  it('has the blocks the test builds from, and the shortcode is the one the repository ships', () => {
    expect([...BLOCKS.keys()].sort()).toEqual(['content/posts/widgets.md', 'hugo.toml', 'layouts/shortcodes/resnorm.html', 'static/notes/plain.html']);
    expect(BLOCKS.get('layouts/shortcodes/resnorm.html')).toBe(readFileSync('web/embed/hugo/resnorm.html', 'utf8'));
    // Hugo built the post with its widgets and no "raw HTML omitted"
    const html = readFileSync(join(tmp, 'site/public/posts/widgets/index.html'), 'utf8');
    expect(html).not.toContain('raw HTML omitted');
    expect(html.match(/<resnorm-playground/g)?.length).toBe(2);
    expect(html.match(/resnorm-playground\.js/g)?.length).toBe(1);  // the script once per page
  });

  for (const width of [375, 1280]) {
    it(`${width} px: the Hugo post's widgets (two shortcodes, one iframe) train and show a chart without inner scrolling`, async () => {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width, height: 800 });
      const problems: string[] = watch(page, srv.origin);
      await page.goto(`${srv.url}myblog/posts/widgets/`);
      await checkElement(page, 0, 2, `plain-vs-residual at ${width}`);
      await checkElement(page, 1, 2, `gpt-tiny at ${width}`);
      await checkFrame(page, 0, 2, `cnn-digits iframe at ${width}`);
      await page.screenshot({ path: `test-results/e2e/guide-hugo-${width}.png`, fullPage: true });
      expect(problems).toEqual([]);
      expect(srv.log.filter((l) => !l.startsWith('200'))).toEqual([]);
      await page.close();
    });

    it(`${width} px: the plain HTML page (its own strict CSP) trains, element and iframe`, async () => {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width, height: 800 });
      const problems: string[] = watch(page, srv.origin);
      await page.goto(`${srv.url}myblog/notes/plain.html`);
      await checkElement(page, 0, 20, `mlp-spiral at ${width}`);
      await checkFrame(page, 0, 2, `mlp-residual-deep iframe at ${width}`);
      expect(problems).toEqual([]);
      expect(srv.log.filter((l) => !l.startsWith('200'))).toEqual([]);
      await page.close();
    });
  }
});
