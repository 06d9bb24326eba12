#!/usr/bin/env node
// Issue 13: compare mode's runs sharing the cores. R gpt-tiny engines train the same link at once in headless
// Chromium on a cross-origin isolated page (tests/js/engine-threads/, ?compare=ROUNDS&runs=R), each loaded with
// the whole count (navigator.hardwareConcurrency capped at 8, what the playground loads); lockstep rounds of
// one step on every engine alternate between every engine on the whole count (the playground before the
// split: R x whole threads for the cores) and each on its share (web/src/engine/threadSplit.ts). Medians of
// the round times, their ratio, and whether every engine's losses are the same bits (they change count
// every round). Writes bench/results/threads-compare-web-Rruns.json with the CPU and the load average.
// Usage: node bench/threads_compare_web.mjs [rounds=8] [runs=2]   (needs web/public/wasm/resnorm{,-mt}.* built)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { serveStatic } from '../tests/js/engine-server.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[2] ?? 8), runs = Number(process.argv[3] ?? 2);
if (!(rounds >= 1 && runs >= 1 && runs <= 4)) throw new Error(`usage: threads_compare_web.mjs [rounds >= 1] [runs 1..4], got ${process.argv.slice(2).join(' ')}`);
await build({ configFile: join(repo, 'tests/js/engine-threads/vite.config.ts'), logLevel: 'warn' });
const server = await serveStatic({
  '/': join(repo, 'build/wasm/threads-test'), '/wasm/': join(repo, 'web/public/wasm'), '/data/': join(repo, 'web/public/data'),
}, { isolate: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'] });
const loadBefore = os.loadavg();
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/index.html?compare=${rounds}&runs=${runs}`);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 580_000 });
  const r = await page.evaluate(() => window.__result);
  if (r.error) throw new Error(r.error);
  const same = r.losses.every((l) => JSON.stringify(l) === JSON.stringify(r.losses[0]));
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model;
  const out = { preset: 'gpt-tiny', runs, rounds, cpu, cores: os.cpus().length, hardware_concurrency: r.hardware, browser: browser.version(),
    isolated: r.isolated, loaded: r.loaded, share: r.share, whole_ms: r.wholeMs, split_ms: r.splitMs, ratio: r.splitMs / r.wholeMs,
    losses_identical: same, load_before: loadBefore, load_after: os.loadavg() };
  mkdirSync(join(repo, 'bench/results'), { recursive: true });
  writeFileSync(join(repo, `bench/results/threads-compare-web-${runs}runs.json`), `${JSON.stringify(out, null, 1)}\n`);
  console.log(JSON.stringify(out));
  if (!same) process.exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
