#!/usr/bin/env node
// Issue 13: compare mode's runs sharing the cores. R gpt-tiny engines train the same link at once in headless
// Chromium on a cross-origin isolated page (tests/js/engine-threads/, ?compare=ROUNDS&runs=R), each loaded with
// the whole count (navigator.hardwareConcurrency capped at 8, what the playground loads); lockstep rounds of
// one step on every engine alternate between every engine on the whole count (the playground before the
// split: R x whole threads for the cores) and each on its share (web/src/engine/threadSplit.ts). Medians of
// the round times, their ratio, and whether every engine's losses are the same bits (they change count
// every round). Writes bench/results/threads-compare-web-<R>runs.json with the CPU and the load average.
// Usage: node bench/threads_compare_web.mjs [rounds=8] [runs=2]   (needs web/public/wasm/resnorm{,-mt}.* built)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo, runThreadsPage } from './threads_page.mjs';

const rounds = Number(process.argv[2] ?? 8), runs = Number(process.argv[3] ?? 2);
if (!(Number.isInteger(rounds) && rounds >= 1 && Number.isInteger(runs) && runs >= 1 && runs <= 4)) {
  console.error(`threads_compare_web.mjs: rounds must be a whole number >= 1 and runs 1..4, got ${process.argv.slice(2).join(' ')}`);
  process.exit(2);
}
const { result: r, cpu, cores, browser, loadBefore, loadAfter } = await runThreadsPage(`compare=${rounds}&runs=${runs}`);
const same = r.losses.every((l) => JSON.stringify(l) === JSON.stringify(r.losses[0]));
const out = { preset: 'gpt-tiny', runs, rounds, cpu, cores, hardware_concurrency: r.hardware, browser,
  isolated: r.isolated, loaded: r.loaded, share: r.share, whole_ms: r.wholeMs, split_ms: r.splitMs, ratio: r.splitMs / r.wholeMs,
  losses_identical: same, load_before: loadBefore, load_after: loadAfter };
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, `bench/results/threads-compare-web-${runs}runs.json`), `${JSON.stringify(out, null, 1)}\n`);
console.log(JSON.stringify(out));
if (!same) process.exitCode = 1;
