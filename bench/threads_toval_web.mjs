#!/usr/bin/env node
// Issue 13, goal 2: time to validation loss TARGET (default 1.88) of gpt-tiny in headless Chromium on the
// pthreads engine with N threads against the single-thread engine, trained in turns 25 steps at a time in
// one cross-origin isolated page (tests/js/engine-threads/, ?toval=TARGET), so that load which comes and
// goes on a shared machine hits both alike. Each engine's time counts its steps and evaluations up to the
// evaluation that first reads val <= TARGET (every 250 steps, every 50 from step 1500). Both compute the
// same bits, so they cross at the same step. Writes bench/results/threads-toval-web.json.
// Usage: node bench/threads_toval_web.mjs [target=1.88] [threads=2] [max=2000]   (~20 min on a 2-core machine)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo, runThreadsPage } from './threads_page.mjs';

const target = Number(process.argv[2] ?? 1.88), threads = Number(process.argv[3] ?? 2), max = Number(process.argv[4] ?? 2000);
for (const [i, name, v] of [[2, 'target', target], [3, 'threads', threads], [4, 'max', max]])
  if (!Number.isFinite(v) || v <= 0) throw new Error(`threads_toval_web: ${name} must be a positive number, got ${process.argv[i]}`);
const { result: r, cpu, cores, browser, loadBefore, loadAfter } =
  await runThreadsPage(`toval=${target}&threads=${threads}&max=${max}`, 3_600_000);
const out = { preset: 'gpt-tiny', target, cpu, cores, browser, isolated: r.isolated, threads: r.threads, reached_at_step: r.reached,
  final_val: r.finalVal, threaded_s: r.ms / 1000, single_s: r.singleMs / 1000, ratio: r.ms / r.singleMs, evals: r.evals,
  load_before: loadBefore, load_after: loadAfter };
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/threads-toval-web.json'), `${JSON.stringify(out, null, 1)}\n`);
console.log(JSON.stringify(out));
if (r.reached === null) { console.error(`val ${r.finalVal} never reached ${target} in ${max} steps`); process.exitCode = 1; }
