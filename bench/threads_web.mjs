#!/usr/bin/env node
// Issue 13, goal 2 (browser half): a gpt-tiny train step in headless Chromium on the pthreads engine with
// N threads against the single-thread engine, the same link, stepped in turns in one cross-origin isolated
// page (tests/js/engine-threads/, ?bench=STEPS), medians of single steps as the page sees them (one worker
// round trip each). Writes bench/results/threads-web.json with the CPU, the load average and the ratio.
// Usage: node bench/threads_web.mjs [steps=20] [threads=2]   (needs web/public/wasm/resnorm{,-mt}.* built)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo, runThreadsPage } from './threads_page.mjs';

const steps = Number(process.argv[2] ?? 20), threads = Number(process.argv[3] ?? 2);
const { result: r, cpu, cores, browser, loadBefore, loadAfter } = await runThreadsPage(`bench=${steps}&threads=${threads}`);
const same = JSON.stringify(r.losses) === JSON.stringify(r.singleLosses);
const out = { preset: 'gpt-tiny', steps, cpu, cores, browser, isolated: r.isolated,
  threads: r.threads, single_ms: r.singleMs, threaded_ms: r.ms, ratio: r.ms / r.singleMs, losses_identical: same,
  load_before: loadBefore, load_after: loadAfter };
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/threads-web.json'), `${JSON.stringify(out, null, 1)}\n`);
console.log(JSON.stringify(out));
if (!same) process.exitCode = 1;
