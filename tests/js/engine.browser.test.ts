// Headless Chromium: the engine test page (tests/js/engine-browser/), built with vite and served on 127.0.0.1
// by a tiny static server under `script-src 'self' 'wasm-unsafe-eval'`, trains mlp-spiral in a worker.
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { repo } from './engine-helpers';
import { CSP, type StaticServer, serveStatic } from './engine-server.mjs';

let server: StaticServer;
let browser: Browser;

beforeAll(async () => {
  await build({ configFile: join(repo, 'tests/js/engine-browser/vite.config.ts') });
  server = await serveStatic({
    '/': join(repo, 'build/wasm/browser-test'),
    '/wasm/': join(repo, 'web/public/wasm'),
    '/data/': join(repo, 'web/public/data'),
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],  // playwright gives each launch a fresh temporary profile
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('engine in headless Chromium under a strict CSP', () => {
  it('trains 100 steps of mlp-spiral in a worker and the loss falls', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
    const requests: string[] = [];
    page.context().on('request', (q) => requests.push(q.url()));  // includes the workers' requests
    page.on('response', (q) => { if (q.status() >= 400 && !q.url().endsWith('/favicon.ico')) problems.push(`HTTP ${q.status()} ${q.url()}`); });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { __csp: string[] }).__csp ??= [];
        (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const response = await page.goto(`${server.url}/index.html`);
    expect(response?.headers()['content-security-policy']).toBe(CSP);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 90_000 });
    const r = await page.evaluate(() => (window as unknown as { __result: Record<string, unknown> }).__result);
    const csp = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
    await page.close();

    expect(r.error).toBeUndefined();
    expect(csp).toEqual([]);
    const losses = r.losses as number[];
    expect(losses).toHaveLength(100);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(losses.slice(-10))).toBeLessThan(0.95 * mean(losses.slice(0, 10)));
    expect(r.after as number).toBeLessThan(0.9 * (r.before as number));  // loss over the whole training set
    expect(r.stopped).toBe('done: reached optim.steps = 100');
    expect(r.evals).toBe(2);  // at steps 50 and 100
    expect(r.messages as number).toBeGreaterThanOrEqual(1);
    expect(r.crashed).toMatch(/unreachable/);
    expect(r.afterRestart).toBe(1);
    expect(r.twoAtOnce).toEqual([21, 20]);
    expect(problems.filter((p) => !/unreachable|crash|Failed to load resource/i.test(p))).toEqual([]);
    // Nothing but our own origin: the page, its scripts, the glue, the .wasm (no CDN, no other hosts).
    expect(requests.filter((u) => !u.startsWith(`${server.url}/`))).toEqual([]);
    expect(requests.some((u) => u.endsWith('/wasm/resnorm.wasm'))).toBe(true);
  });
});
