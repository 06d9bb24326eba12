// Shared by bench/threads_web.mjs and bench/threads_compare_web.mjs: builds the engine threads page
// (tests/js/engine-threads/), serves it cross-origin isolated, opens it in headless Chromium with `query`,
// and returns what the page reports (window.__result) with the machine's CPU, Chromium's version and the
// load average before and after. Throws the page's error, if it reports one.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { serveStatic } from '../tests/js/engine-server.mjs';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function runThreadsPage(query, timeoutMs = 580_000, mounts = {}) {
  await build({ configFile: join(repo, 'tests/js/engine-threads/vite.config.ts'), logLevel: 'warn' });
  const server = await serveStatic({
    '/': join(repo, 'build/wasm/threads-test'), '/wasm/': join(repo, 'web/public/wasm'), '/data/': join(repo, 'web/public/data'), ...mounts,
  }, { isolate: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'] });
  const loadBefore = os.loadavg();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/index.html?${query}`);
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: timeoutMs, polling: 1000 });
    const result = await page.evaluate(() => window.__result);
    if (result.error) throw new Error(result.error);
    const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model;
    return { result, cpu, cores: os.cpus().length, browser: browser.version(), loadBefore, loadAfter: os.loadavg() };
  } finally {
    await browser.close();
    await server.close();
  }
}
