#!/usr/bin/env node
// Time to validation loss TARGET (default 1.88) of gpt-tiny in headless Chromium, two ways:
//
// --playground (issue 24, item 5; bench/toval_playground.mjs): end to end in the playground itself. Builds
// web/dist (npm run build), serves it cross-origin isolated (scripts/serve.mjs), opens #preset=gpt-tiny&eval=E,
// presses Play and times Play -> the first evaluation with val <= TARGET as the page sees it; then the native
// CLI (build/native/resnorm, same config, same thread count) as the reference. Writes
// bench/results/toval-playground.json.   npm run bench:toval   (builds wasm if missing, the CLI, the site)
//   node bench/threads_toval_web.mjs --playground [--target 1.88] [--eval 25] [--speed max|page] [--max-s 1800]
//                                                 [--out FILE] [--shot FILE.png] [--no-build] [--no-cli]
//
// Without --playground (issue 13, goal 2): the pthreads engine with N threads against the single-thread engine, trained
// in turns 25 steps at a time in one cross-origin isolated test page (tests/js/engine-threads/, ?toval=TARGET), so that
// load which comes and goes on a shared machine hits both alike. Each engine's time counts its steps and evaluations up
// to the evaluation that first reads val <= TARGET (every 250 steps, every 50 from step 1500). Both compute the same
// bits, so they cross at the same step. Writes bench/results/threads-toval-web.json.
//   node bench/threads_toval_web.mjs [target=1.88] [threads=2] [max=2000]   (~20 min on a 2-core machine)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo, runThreadsPage } from './threads_page.mjs';
import { parseArgs, runPlayground } from './toval_playground.mjs';

if (process.argv.includes('--playground')) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`threads_toval_web: ${e.message}`);
    process.exit(2);
  }
  try {
    const r = await runPlayground(repo, o);
    console.log(JSON.stringify(r));
    const b = r.browser_run, c = r.cli_run;
    console.error(`playground: ${b.wall_s === null ? `did not reach ${r.target}` : `${b.wall_s.toFixed(1)} s to val ${b.val.toFixed(4)} at step ${b.reached_at_step}`}`
      + ` (${r.threads} threads, ${b.steps_per_s.toFixed(2)} steps/s)` + (c ? `; native CLI: ${c.wall_s === null ? c.why : `${c.wall_s.toFixed(1)} s to step ${c.reached_at_step}`}` : '')
      + (r.goal_met === null ? '' : `; goal <= 180 s: ${r.goal_met ? 'met' : 'not met'}`) + `; wrote ${o.out}`);
    if (b.page_problems.length) console.error(`warning: the page reported problems: ${b.page_problems.join(' | ')}`);
    // the CLI (-march=native) may round differently from wasm: a val within rounding of the target can cross one
    // evaluation apart, so a difference is reported, not fatal
    if (r.same_crossing_step === false)
      console.error(`warning: the page crossed at step ${b.reached_at_step}, the CLI at step ${c.reached_at_step}: check the evaluations in ${o.out}`);
    if (b.wall_s === null) process.exitCode = 1;
  } catch (e) {
    console.error(`threads_toval_web --playground: ${e.message}`);
    process.exitCode = 1;
  }
  process.exit();
}

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
