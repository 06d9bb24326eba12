// The embed folder (web/dist-embed, issue 20) as a blog meets it: copied to an arbitrary path of a site
// that sits under a sub-path, served by a plain static server (no CSP, no COOP/COEP), the element and the
// iframe train, the cnn's digits included (fetched relative to the script, not the page). And from another
// origin: a page on one loopback origin loads the element from a second one that sends only
// Access-Control-Allow-Origin: the engine workers start through the blob: bootstrap and train.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module without types
import { launch, watch } from '../browser.mjs';
// @ts-expect-error plain ES module without types
import { plainServe } from '../plainServer.mjs';

const EMBED = 'web/dist-embed';
type Browser = { context: import('playwright-core').BrowserContext; close(): Promise<void> };
let browser: Browser;
let tmp: string;
beforeAll(async () => {
  if (!existsSync(`${EMBED}/assets/resnorm-playground.js`)) throw new Error(`${EMBED} is missing: run \`npm run build\` first`);
  tmp = mkdtempSync(join(tmpdir(), 'resnorm-embed-'));
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Plays widget i (an element) once it is built and waits for n steps. */
async function trainElement(page: Page, i: number, n: number): Promise<void> {
  const el = page.locator('resnorm-playground').nth(i);
  await el.scrollIntoViewIfNeeded();
  await page.waitForFunction((k) => {
    const app = (document.querySelectorAll('resnorm-playground')[k] as any).app;
    return app && app.session.runs.length > 0 && app.session.runs.every((r: any) => r.status !== 'building');
  }, i, { timeout: 120_000 });
  const statuses = await page.evaluate((k) => (document.querySelectorAll('resnorm-playground')[k] as any).app.session.runs.map((r: any) => r.status + (r.message ? `: ${r.message}` : '')), i);
  expect(statuses.every((s: string) => s === 'ready'), statuses.join('; ')).toBe(true);
  await el.locator('.rp-play').click();
  await page.waitForFunction(([k, m]) => (document.querySelectorAll('resnorm-playground')[k] as any).app.session.steps >= m, [i, n] as const, { timeout: 120_000 });
  await el.locator('.rp-play').click();
}

/** The CSP block of docs/embedding.md's "another origin" section, as one header value. */
function cspFromGuide(): string {
  const block = Array.from(readFileSync('docs/embedding.md', 'utf8').matchAll(/```[^\n]*\n([\s\S]*?)\n```/g), (m) => m[1]).find((b) => b.includes("worker-src") && b.includes('https://cdn.example'));
  if (!block) throw new Error('docs/embedding.md has no CSP block for a script on https://cdn.example');
  return block.replace(/\s*\n\s*/g, ' ').trim();
}

function post(script: string, iframe: string | null, widgets: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>A post</title><link rel="icon" href="data:,"><script type="module" src="${script}"></script></head>
<body style="max-width:760px;margin:0 auto;font:16px/1.5 sans-serif"><h1>A post</h1>
${widgets.map((w) => `<p>Some words before the widget.</p>\n${w}`).join('\n')}
${iframe ? `<p>An iframe:</p><iframe src="${iframe}" width="100%" height="560" style="border:0" title="ResNorm Playground"></iframe>` : ''}
</body></html>`;
}

describe('the embed folder', () => {
  it('holds no index.html and no file named like a site\'s own', () => {
    const top = readdirSync(EMBED).sort();
    expect(top).toEqual(['assets', 'data', 'embed.html', 'resnorm-resize.js', 'wasm']);
    const all = readdirSync(EMBED, { recursive: true }).map(String);
    expect(all.filter((f) => /(^|\/)(index|404)\.html$|favicon|robots\.txt|sitemap|style\.css$/.test(f))).toEqual([]);
  });

  it('trains copied under a sub-path of a site on a plain static server (element and iframe, cnn digits too)', async () => {
    const site = join(tmp, 'site');
    cpSync(EMBED, join(site, 'static/any/where/resnorm'), { recursive: true });
    mkdirSync(join(site, 'posts/hello'), { recursive: true });
    writeFileSync(join(site, 'posts/hello/index.html'), post('../../static/any/where/resnorm/assets/resnorm-playground.js',
      '../../static/any/where/resnorm/embed.html?preset=mlp-spiral&height=480&autoplay=1',
      ['<resnorm-playground preset="cnn-digits" height="480"></resnorm-playground>', '<resnorm-playground preset="gpt-tiny" height="480"></resnorm-playground>']));
    const srv = await plainServe({ files: { '/myblog/': site } });
    try {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1000, height: 800 });
      const problems: string[] = watch(page, srv.origin);
      await page.goto(`${srv.url}myblog/posts/hello/`);
      await trainElement(page, 0, 2);
      await trainElement(page, 1, 2);
      // the one-thread fallback is said in the widget (this page is not cross-origin isolated)
      expect(await page.locator('resnorm-playground').nth(1).locator('[data-stat="threads"]').textContent()).toContain('not cross-origin isolated');
      const frame = page.frameLocator('iframe');
      await page.locator('iframe').scrollIntoViewIfNeeded();
      await expect.poll(async () => Number(await frame.locator('[data-stat="step"]').textContent().catch(() => '0')), { timeout: 60_000 }).toBeGreaterThan(20);
      expect(problems).toEqual([]);
      expect(srv.log.filter((l: string) => !l.startsWith('200'))).toEqual([]);
      expect(srv.log).toContain('200 /myblog/static/any/where/resnorm/data/digits.bin');
      await page.close();
    } finally {
      await srv.close();
    }
  });

  const MODES = { plain: '', csp: ', under the CSP docs/embedding.md gives', isolated: ', on a cross-origin isolated page' } as const;
  for (const mode of ['plain', 'csp', 'isolated'] as const) it(`trains with the element script from another origin that sends Access-Control-Allow-Origin${MODES[mode]}`, async () => {
    const csp = mode === 'csp';
    const cdn = await plainServe({ files: { '/cdn/resnorm/': EMBED }, cors: true });
    const site = join(tmp, 'xsite');
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, 'index.html'), post(`${cdn.url}cdn/resnorm/assets/resnorm-playground.js`, null, [
      '<resnorm-playground preset="mlp-spiral" height="480"></resnorm-playground>',
      '<resnorm-playground preset="gpt-tiny" height="480"></resnorm-playground>',
      '<resnorm-playground preset="cnn-digits" height="480"></resnorm-playground>']));
    // the blog's policy exactly as docs/embedding.md gives it (its fenced block naming https://cdn.example)
    const policy = cspFromGuide().replaceAll('https://cdn.example', cdn.origin);
    const headers = csp ? { 'Content-Security-Policy': policy }
      : mode === 'isolated' ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
    const blog = await plainServe({ files: { '/': site }, headers });
    try {
      expect(blog.origin).not.toBe(cdn.origin);
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1000, height: 800 });
      const problems: string[] = watch(page, blog.origin).filter(() => true);
      await page.goto(blog.url);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(mode === 'isolated');
      await trainElement(page, 0, 20);
      await trainElement(page, 1, 2);
      await trainElement(page, 2, 2);
      // requests went to the two origins only, and the engine's files came from the script's origin
      expect(problems.filter((p) => !p.startsWith(`foreign request: ${cdn.origin}/`))).toEqual([]);
      expect(cdn.log).toContain('200 /cdn/resnorm/wasm/resnorm.wasm');
      expect(cdn.log).toContain('200 /cdn/resnorm/data/digits.bin');
      expect(cdn.log.filter((l: string) => !l.startsWith('200'))).toEqual([]);
      expect(blog.log.filter((l: string) => !l.startsWith('200'))).toEqual([]);
      await page.close();
    } finally {
      await blog.close();
      await cdn.close();
    }
  });
});
