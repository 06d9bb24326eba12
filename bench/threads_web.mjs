#!/usr/bin/env node
// Issue 13, goal 2 (browser half): a gpt-tiny train step in headless Chromium on the pthreads engine with
// N threads against the single-thread engine, the same link, stepped in turns in one cross-origin isolated
// page (tests/js/engine-threads/, ?bench=STEPS), medians of single steps as the page sees them (one worker
// round trip each). Writes bench/results/threads-web.json with the CPU, the load average and the ratio.
// Usage: node bench/threads_web.mjs [steps=20] [threads=2]   (needs web/public/wasm/resnorm{,-mt}.* built)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { serveStatic } from '../tests/js/engine-server.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const steps = Number(process.argv[2] ?? 20), threads = Number(process.argv[3] ?? 2);
await build({ configFile: join(repo, 'tests/js/engine-threads/vite.config.ts') });
const server = await serveStatic({
  '/': join(repo, 'build/wasm/threads-test'), '/wasm/': join(repo, 'web/public/wasm'), '/data/': join(repo, 'web/public/data'),
}, { isolate: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'] });
const loadBefore = os.loadavg();
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/index.html?bench=${steps}&threads=${threads}`);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 580_000 });
  const r = await page.evaluate(() => window.__result);
  if (r.error) throw new Error(r.error);
  const same = JSON.stringify(r.losses) === JSON.stringify(r.singleLosses);
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model;
  const out = { preset: 'gpt-tiny', steps, cpu, cores: os.cpus().length, browser: browser.version(), isolated: r.isolated,
    threads: r.threads, single_ms: r.singleMs, threaded_ms: r.ms, ratio: r.ms / r.singleMs, losses_identical: same,
    load_before: loadBefore, load_after: os.loadavg() };
  mkdirSync(join(repo, 'bench/results'), { recursive: true });
  writeFileSync(join(repo, 'bench/results/threads-web.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log(JSON.stringify(out));
  if (!same) process.exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
