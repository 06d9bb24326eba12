// Headless Chromium (issue 13): the engine picks its pthreads build only on a cross-origin isolated page,
// and that build gives the same losses, bit for bit, as the single-thread build for the same link,
// also when its thread count changes mid-run (EngineClient.setThreads). On a page without COOP/COEP (a blog
// that embeds the playground) it runs on one thread, without an error.
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { repo } from './engine-helpers';
import { type StaticServer, serveStatic } from './engine-server.mjs';

type Result = { isolated: boolean; hardware: number; threads: number; single: number; losses: number[]; singleLosses: number[]; switched: number[]; error?: string };

let isolated: StaticServer;
let plain: StaticServer;
let browser: Browser;

beforeAll(async () => {
  await build({ configFile: join(repo, 'tests/js/engine-threads/vite.config.ts') });
  const mounts = {
    '/': join(repo, 'build/wasm/threads-test'),
    '/wasm/': join(repo, 'web/public/wasm'),
    '/data/': join(repo, 'web/public/data'),
  };
  isolated = await serveStatic(mounts, { isolate: true });
  plain = await serveStatic(mounts);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

async function run(url: string): Promise<{ r: Result; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
  page.on('response', (q) => { if (q.status() >= 400 && !q.url().endsWith('/favicon.ico')) problems.push(`HTTP ${q.status()} ${q.url()}`); });
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 180_000 });
  const r = await page.evaluate(() => (window as unknown as { __result: Result }).__result);
  await page.close();
  return { r, problems };
}

describe('engine threads in headless Chromium', () => {
  it('an isolated page runs the pthreads build, with the same losses bit for bit as one thread', async () => {
    const { r, problems } = await run(`${isolated.url}/index.html`);
    expect(r.error).toBeUndefined();
    expect(problems).toEqual([]);
    expect(r.isolated).toBe(true);
    expect(r.single).toBe(1);
    expect(r.threads).toBe(2);  // the page asks for 2 (tests/js/engine-threads/main.ts)
    // set to 1, back to 2, then 8: lowered to the 2 it loaded with (its pool is fixed at load)
    expect(r.switched).toEqual([1, 2, 2]);
    expect(r.losses).toHaveLength(8);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    // toEqual on numbers is exact (Object.is): the same bits before, during and after the changes of count
    expect(r.losses).toEqual(r.singleLosses);
  });

  it('a page without COOP/COEP runs one thread and reports no error', async () => {
    const { r, problems } = await run(`${plain.url}/index.html`);
    expect(r.error).toBeUndefined();
    expect(problems).toEqual([]);
    expect(r.isolated).toBe(false);
    expect(r.threads).toBe(1);
    expect(r.switched).toEqual([1, 1, 1]);
    expect(r.losses).toEqual(r.singleLosses);
  });
});
