// Browser side of tests/js/engine.threads.browser.test.ts (and bench/threads_web.mjs with ?bench=STEPS): one
// engine asking for ?threads=N (default 2; the pthreads build, used only when the page is cross-origin
// isolated) and one asking for 1 thread, the same gpt link on both, stepped in turns. Reports
// each engine's thread count, the losses of both, and (bench) the median ms of a step on each. Outside bench,
// the threaded engine's count is changed mid-run (EngineClient.setThreads, as compare mode's session does when
// runs start or stop): 1 after step 3, back to 2 after step 5, 8 (more than it loaded with) after step 6;
// `switched` is what each change reported.
// bench/threads_compare_web.mjs uses ?compare=ROUNDS&runs=R: R engines training the same link at once, as
// compare mode does, each loaded with the whole count (navigator.hardwareConcurrency, capped); rounds of one
// step on every engine alternate between every engine on the whole count (before issue 13's split) and
// each on its share (threadsPerRun); reports the median ms of a round under each and every engine's losses.
import { EngineClient } from '../../../web/src/engine/client';
import type { ResnormConfig } from '../../../web/src/engine/types';
import { threadsPerRun } from '../../../web/src/engine/threadSplit';
import { MAX_THREADS } from '../../../web/src/engine/wasm';

type Result = { isolated: boolean; hardware: number; threads: number; single: number; losses: number[]; singleLosses: number[];
  switched: number[]; ms?: number; singleMs?: number; error?: string };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** cpp/presets/gpt-tiny.json with this batch. */
const gptTiny = (batch: number): ResnormConfig => ({
  model: { kind: 'gpt', depth: 4, width: 128, heads: 4, context: 64, residual: 'identity', norm: 'layernorm', placement: 'pre' },
  data: { name: 'tinyshakespeare' },
  optim: { name: 'adamw', lr: 0.001, warmup: 100, batch, steps: 2000 }, eval: { every: 0 }, seed: 1337,
});
const opts = { wasmUrl: 'wasm/resnorm.wasm', dataUrl: 'data/tinyshakespeare.txt' };

async function main(): Promise<Result> {
  const q = new URLSearchParams(location.search);
  const bench = Number(q.get('bench') ?? 0);
  // 2 by default, not navigator.hardwareConcurrency, so that a one-core runner still takes the pthreads path
  const threads = Number(q.get('threads') ?? 2);
  // the test cuts the batch to 4 so that 8 steps stay short
  const config = gptTiny(bench ? 12 : 4);
  const many = await EngineClient.create(config, { ...opts, threads });
  const one = await EngineClient.create(config, { ...opts, threads: 1 });
  const losses: number[] = [], singleLosses: number[] = [], ms: number[] = [], singleMs: number[] = [];
  const steps = bench || 8;
  const switches: Record<number, number> = bench ? {} : { 3: 1, 5: 2, 6: 8 };
  const switched: number[] = [];
  for (let i = 0; i < steps + (bench ? 3 : 0); i++) {
    if (switches[i] !== undefined) switched.push(await many.setThreads(switches[i]));
    // in turns, so that a load that comes and goes on a shared machine hits both alike
    let t = performance.now();
    const a = (await many.step(1))[0];
    const ta = performance.now() - t;
    t = performance.now();
    const b = (await one.step(1))[0];
    const tb = performance.now() - t;
    losses.push(a.loss);
    singleLosses.push(b.loss);
    if (i >= 3 || !bench) { ms.push(ta); singleMs.push(tb); }
  }
  const r: Result = { isolated: globalThis.crossOriginIsolated === true, hardware: navigator.hardwareConcurrency,
    threads: many.info.threads, single: one.info.threads, losses, singleLosses, switched };
  if (bench) { r.ms = median(ms); r.singleMs = median(singleMs); }
  many.terminate();
  one.terminate();
  return r;
}

type CompareResult = { isolated: boolean; hardware: number; runs: number; loaded: number[]; share: number[]; rounds: number;
  wholeMs: number; splitMs: number; losses: number[][]; error?: string };

async function compare(rounds: number, runs: number): Promise<CompareResult> {
  const whole = Math.min(MAX_THREADS, navigator.hardwareConcurrency);
  const engines = await Promise.all(Array.from({ length: runs }, () => EngineClient.create(gptTiny(12), { ...opts, threads: whole })));
  const loaded = engines.map((e) => e.info.threads);
  const share = threadsPerRun(navigator.hardwareConcurrency, engines.map(() => 'gpt')).map((n, i) => Math.min(n, loaded[i]));
  const losses: number[][] = engines.map(() => []);
  const wholeMs: number[] = [], splitMs: number[] = [];
  // two warm-up rounds, then whole / split in turns, so that load that comes and goes hits both alike
  for (let i = 0; i < 2 + 2 * rounds; i++) {
    const split = i % 2 === 1;
    await Promise.all(engines.map((e, k) => e.setThreads(split ? share[k] : loaded[k])));
    const t = performance.now();
    const stats = await Promise.all(engines.map((e) => e.step(1)));
    const ms = performance.now() - t;
    stats.forEach((st, k) => losses[k].push(st[0].loss));
    if (i >= 2) (split ? splitMs : wholeMs).push(ms);
  }
  engines.forEach((e) => e.terminate());
  return { isolated: globalThis.crossOriginIsolated === true, hardware: navigator.hardwareConcurrency, runs, loaded, share, rounds,
    wholeMs: median(wholeMs), splitMs: median(splitMs), losses };
}

type ToValResult = { isolated: boolean; threads: number; single: number; target: number; reached: number | null;
  finalVal: number; ms: number; singleMs: number; evals: { step: number; val: number; singleVal: number }[]; error?: string };

/**
 * bench/threads_toval_web.mjs (?toval=TARGET&chunk=C&max=STEPS): gpt-tiny (the preset, batch 12, 2000
 * steps, its schedule) on the threaded and the single-thread engine in turns, C steps at a time, until
 * the validation loss is at most TARGET (evaluated every 250 steps, every 50 from step 1500 on, as the
 * preset's own evaluation measures it) or STEPS. ms: each engine's time in its steps and evaluations
 * up to that point. Both engines compute the same bits, so they cross at the same step.
 */
async function toVal(target: number, chunk: number, max: number): Promise<ToValResult> {
  const threads = Number(new URLSearchParams(location.search).get('threads') ?? 2);
  const config = { ...gptTiny(12), eval: { every: 250, batches: 20 } };
  const many = await EngineClient.create(config, { ...opts, threads });
  const one = await EngineClient.create(config, { ...opts, threads: 1 });
  let ms = 0, singleMs = 0, step = 0, reached: number | null = null, finalVal = NaN;
  const evals: ToValResult['evals'] = [];
  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const v = await f();
    return [v, performance.now() - t];
  };
  while (step < max && reached === null) {
    const n = Math.min(chunk, max - step);
    const [a, ta] = await timed(() => many.step(n));
    const [b, tb] = await timed(() => one.step(n));
    ms += ta;
    singleMs += tb;
    if (a[a.length - 1].loss !== b[b.length - 1].loss) throw new Error(`losses differ at step ${step + n}`);
    step += n;
    if (step % 250 === 0 || (step >= 1500 && step % 50 === 0)) {
      const [ea, tea] = await timed(() => many.evaluate());
      const [eb, teb] = await timed(() => one.evaluate());
      ms += tea;
      singleMs += teb;
      evals.push({ step, val: ea.valLoss, singleVal: eb.valLoss });
      finalVal = ea.valLoss;
      if (ea.valLoss <= target) reached = step;
    }
  }
  const r = { isolated: globalThis.crossOriginIsolated === true, threads: many.info.threads, single: one.info.threads, target,
    reached, finalVal, ms, singleMs, evals };
  many.terminate();
  one.terminate();
  return r;
}

type MemoryResult = { isolated: boolean; threads: number[]; steps: number; stepMs: number[]; attentionMs: number[];
  sampleMs: number[]; losses: number[][]; error?: string };

/**
 * bench/threads_memory_web.mjs (?memory=STEPS): Emscripten warns that -pthread with ALLOW_MEMORY_GROWTH
 * makes JavaScript's heap access slow (every access re-checks the buffer). Two pthreads engines, the
 * shipped one (memory growth) and wasm/fixed/ (the same core linked with a fixed memory), train the same
 * gpt-tiny link in turns; per call medians of a step, of an attention map (a Float32Array copied out of
 * the heap by the glue) and of a 200-character sample (strings through embind). [0] growth, [1] fixed.
 */
async function memory(steps: number): Promise<MemoryResult> {
  const urls = ['wasm/resnorm.wasm', 'wasm/fixed/resnorm.wasm'];
  const engines = [];
  for (const wasmUrl of urls) engines.push(await EngineClient.create(gptTiny(12), { ...opts, wasmUrl, threads: 2 }));
  const stepMs: number[][] = [[], []], attentionMs: number[][] = [[], []], sampleMs: number[][] = [[], []];
  const losses: number[][] = [[], []];
  const time = async (f: () => Promise<unknown>) => { const t = performance.now(); await f(); return performance.now() - t; };
  for (let i = 0; i < steps + 3; i++)
    for (let k = 0; k < 2; k++) {
      const e = engines[k];
      const ts = await time(async () => { losses[k].push((await e.step(1))[0].loss); });
      const ta = await time(() => e.attention('To be, or not to be, that is the question: whether tis nobler in', 1));
      const tt = await time(() => e.sample('ROMEO:', 200, 1, 0, i));
      if (i >= 3) { stepMs[k].push(ts); attentionMs[k].push(ta); sampleMs[k].push(tt); }
    }
  const r = { isolated: globalThis.crossOriginIsolated === true, threads: engines.map((e) => e.info.threads), steps,
    stepMs: stepMs.map(median), attentionMs: attentionMs.map(median), sampleMs: sampleMs.map(median), losses };
  engines.forEach((e) => e.terminate());
  return r;
}

const w = window as unknown as { __result?: Result | CompareResult | ToValResult | MemoryResult };
const cq = new URLSearchParams(location.search);
const run = cq.has('memory') ? memory(Number(cq.get('memory')))
  : cq.has('toval') ? toVal(Number(cq.get('toval')), Number(cq.get('chunk') ?? 25), Number(cq.get('max') ?? 2000))
  : cq.has('compare') ? compare(Number(cq.get('compare')), Number(cq.get('runs') ?? 2)) : main();
run.then(
  (r) => { w.__result = r; document.getElementById('out')!.textContent = JSON.stringify(r); },
  (e: unknown) => { w.__result = { error: String(e) } as Result; },
);
