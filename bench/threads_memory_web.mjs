#!/usr/bin/env node
// Issue 13, goal 2: does -pthread with memory growth slow the playground? Builds the pthreads engine a second
// time linked with a fixed memory (-sALLOW_MEMORY_GROWTH=0, -sINITIAL_MEMORY=MB, default 512) into
// build/wasm-mt-fixed/publish/ (served as /wasm/fixed/), then times the shipped engine and that one in turns in headless Chromium (2 threads
// each; gpt-tiny steps, attention maps, samples: tests/js/engine-threads/ ?memory=STEPS). Writes
// bench/results/threads-memory-web.json. Usage: node bench/threads_memory_web.mjs [steps=20] [MB=512]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo, runThreadsPage } from './threads_page.mjs';

const steps = Number(process.argv[2] ?? 20), mb = Number(process.argv[3] ?? 512);
if (!Number.isInteger(steps) || steps < 1) throw new Error(`threads_memory_web: steps must be a whole number >= 1, got ${process.argv[2]}`);
if (!Number.isInteger(mb) || mb < 64 || mb > 2048 || mb % 64) throw new Error(`threads_memory_web: MB must be a multiple of 64 in 64..2048, got ${process.argv[3]}`);
const dir = join(repo, 'build/wasm-mt-fixed'), out = join(dir, 'publish');  // served as /wasm/fixed/, never shipped
execFileSync('cmake', ['--preset', 'wasm-mt', '-B', dir, `-DRESNORM_WASM_PUBLISH_DIR=${out}`,
  `-DRESNORM_WASM_EXTRA_LINK=-sALLOW_MEMORY_GROWTH=0;-sINITIAL_MEMORY=${mb}MB`], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
// the preset's environment (NODE_PATH for emcc's acorn) applies to `--build --preset` only, not to a -B folder
execFileSync('cmake', ['--build', dir, '--target', 'resnorm_wasm', '-j2'], { cwd: repo, stdio: 'inherit',
  env: { ...process.env, NODE_PATH: '/usr/share/nodejs' } });
const { result: r, cpu, cores, browser, loadBefore, loadAfter } = await runThreadsPage(`memory=${steps}`, 580_000, { '/wasm/fixed/': out });
const same = JSON.stringify(r.losses[0]) === JSON.stringify(r.losses[1]);
const res = { preset: 'gpt-tiny', steps, fixed_mb: mb, cpu, cores, browser, isolated: r.isolated, threads: r.threads,
  growth: { step_ms: r.stepMs[0], attention_ms: r.attentionMs[0], sample_ms: r.sampleMs[0] },
  fixed: { step_ms: r.stepMs[1], attention_ms: r.attentionMs[1], sample_ms: r.sampleMs[1] },
  step_ratio_fixed_over_growth: r.stepMs[1] / r.stepMs[0], losses_identical: same, load_before: loadBefore, load_after: loadAfter };
writeFileSync(join(repo, 'bench/results/threads-memory-web.json'), `${JSON.stringify(res, null, 1)}\n`);
console.log(JSON.stringify(res));
if (!same || r.threads.some((t) => t !== 2)) process.exitCode = 1;
