// `npm run bench:step` (issue 13): the train step of small MLPs, side by side in one run, native vs wasm
// (Node and headless Chromium), and TF.js 4.22's backends on the same MLPs. Every measurement is repeated
// in `--rounds` rounds that interleave the variants, so that load on a shared machine falls on all of them
// alike; each round's figure is a median over short blocks of steps, and the result is the median over
// rounds. Writes bench/results/step.json and prints tables.
//   native:   `resnorm bench` (median of single steps, Trainer::step's own clock)
//   wasm:     one step(1) call per step with its statistics unpacked as the engine's worker does
//             (bench/wasm/measure.mjs timeTrainer), median of single steps too; Chromium's page is
//             cross-origin isolated, so its performance.now() is fine-grained (5 us) enough for that
// Options: --rounds N (5), --presets a,b (the three MLPs below), --base DIR (another build's
// resnorm.{mjs,wasm}, e.g. from a checkout before a change, timed in the same rounds), --no-browser, --no-tfjs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadWasmModule } from '../../web/src/engine/node-loader.mjs';
import { serveStatic } from '../../tests/js/engine-server.mjs';
import { median, timeTfjs, timeTrainer } from './measure.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const P = (p) => join(repo, p);
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const rounds = Number(opt('--rounds', '5'));
const base = opt('--base', null);
const log = (...a) => console.error('[bench:step]', ...a);
if (!(rounds >= 1)) throw new Error('--rounds needs a positive number');

const mlps = {
  'mlp-spiral': { tf: { width: 32, depth: 4, batch: 32, residual: true, norm: true, lr: 0.01 } },
  'mlp-residual-deep': { tf: { width: 64, depth: 32, batch: 64, residual: true, norm: true, lr: 0.003 } },
  'mlp-3x256 (plain)': { tf: { width: 256, depth: 3, batch: 64, residual: false, norm: false, lr: 0.001 },
    config: { model: { kind: 'mlp', depth: 3, width: 256, residual: 'none', norm: 'none' }, optim: { batch: 64, lr: 0.001 } } },
};
const names = opt('--presets', Object.keys(mlps).join(',')).split(',');
for (const n of names) if (!mlps[n]) throw new Error(`--presets: unknown "${n}" (known: ${Object.keys(mlps).join(', ')})`);

for (const [f, how] of [['web/public/wasm/resnorm.wasm', 'bash scripts/build-wasm.sh'],
  ['build/native/resnorm', 'cmake --preset native -G Ninja && cmake --build --preset native --target resnorm'],
  ['build/native-sse/resnorm', 'cmake --preset native-sse && cmake --build --preset native-sse --target resnorm']])
  if (!existsSync(P(f))) throw new Error(`${f} is missing: ${how}`);
if (base && !existsSync(join(base, 'resnorm.wasm'))) throw new Error(`--base ${base}: no resnorm.wasm there`);

const simd = await loadWasmModule(P('web/public/wasm/resnorm.wasm'));
const baseMod = base ? await loadWasmModule(resolve(base, 'resnorm.wasm')) : null;
// Long enough runs: no preset's schedule ends (and stops improving) inside the benchmark.
const configOf = (name) => {
  const c = mlps[name].config ?? JSON.parse(simd.presetJson(name));
  return JSON.stringify({ ...c, optim: { ...c.optim, steps: 1000000 } });
};
mkdirSync(P('build/wasm/bench-native'), { recursive: true });
const configFile = (name) => {
  const f = P(`build/wasm/bench-native/step-${name.replace(/[^a-z0-9-]/gi, '_')}.json`);
  writeFileSync(f, configOf(name));
  return f;
};
// Steps per measurement: many for the sub-millisecond mlp-spiral, fewer for the ~10 ms nets.
const stepsOf = (name) => (name === 'mlp-spiral' ? 2000 : 200);
const nativeMs = (bin, name) => JSON.parse(execFileSync(P(bin),
  ['bench', '--config', configFile(name), '--steps', String(stepsOf(name)), '--warmup', String(stepsOf(name) / 10), '--json'],
  { encoding: 'utf8' })).median_ms;
// blockMs 0: every block is one step, so wasm gets the median of single steps as native does (on a loaded
// machine a longer block is more often interrupted than a single step, which would favour native).
const wasmOpts = (name) => ({ warmup: stepsOf(name) / 5, steps: stepsOf(name), blockMs: 0 });

const samples = {};  // preset -> variant -> [per-round ms]
const put = (name, variant, ms) => ((samples[name] ??= {})[variant] ??= []).push(ms);

let browser = null, server = null, page = null;
if (!args.includes('--no-browser')) {
  const { chromium } = await import('playwright-core');
  server = await serveStatic({
    '/': P('bench/wasm/page'), '/bench/': P('bench/wasm'), '/web/src/engine/': P('web/src/engine'), '/wasm/': P('web/public/wasm'),
    ...(base ? { '/base/': resolve(base) } : {}),
    '/tfjs/': P('node_modules/@tensorflow/tfjs/dist'), '/tfjs-wasm/': P('node_modules/@tensorflow/tfjs-backend-wasm/dist'),
  }, { csp: null, isolate: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(600_000);
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => window.benchReady === true);
  if (!(await page.evaluate(() => window.crossOriginIsolated))) throw new Error('the benchmark page is not cross-origin isolated');
}

const results = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, chromium: browser?.version(), load_1min_at_start: loadavg()[0] },
  note: 'ms per train step; median over rounds of per-round medians, one thread everywhere (TF.js wasm in Chromium held to 1 thread since 2026-11-29; before, the isolated page let it use 2). Shared machine: other work ran at the same time.',
  rounds, median_ms: {}, ratios: {}, tfjs: {},
};
try {
  for (let r = 0; r < rounds; ++r) {
    log(`round ${r + 1}/${rounds}`);
    for (const name of names) {
      put(name, 'native -march=native', nativeMs('build/native/resnorm', name));
      put(name, 'native SSE4.1', nativeMs('build/native-sse/resnorm', name));
      put(name, 'wasm (Node)', timeTrainer(simd, configOf(name), '', wasmOpts(name)).median_ms);
      if (baseMod) put(name, 'wasm before (Node)', timeTrainer(baseMod, configOf(name), '', wasmOpts(name)).median_ms);
      if (page) {
        put(name, 'wasm (Chromium)', (await page.evaluate(([c, o]) => window.benchTrain('wasm', c, o), [configOf(name), wasmOpts(name)])).median_ms);
        if (base) put(name, 'wasm before (Chromium)', (await page.evaluate(([c, o]) => window.benchTrain('base', c, o), [configOf(name), wasmOpts(name)])).median_ms);
      }
    }
  }
  if (!args.includes('--no-tfjs')) {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    for (const name of names) {
      const spec = mlps[name].tf;
      const o = spec.depth > 8 ? { warmup: 15, steps: 30 } : { warmup: 50, steps: 100 };
      const row = (results.tfjs[name] = {});
      for (const backend of ['wasm', 'cpu']) {
        log(`TF.js ${backend} ${name}`);
        await tf.setBackend(backend);
        await tf.ready();
        row[`TF.js ${backend} (Node)`] = (await timeTfjs(tf, spec, o)).median_ms;
        if (page) {
          try {
            const r = await page.evaluate(([b, s, x]) => window.benchTfjs(b, s, x), [backend, spec, o]);
            if (r.threads !== 1) throw new Error(`TF.js ${backend} in Chromium ran on ${r.threads} threads, not 1`);
            row[`TF.js ${backend} (Chromium)`] = r.median_ms;
          } catch (e) {
            log(`TF.js ${backend} (Chromium) failed: ${e.message.split('\n')[0]}`);
          }
        }
      }
    }
  }
} finally {
  await browser?.close();
  await server?.close();
}

for (const [name, v] of Object.entries(samples)) {
  const m = (results.median_ms[name] = Object.fromEntries(Object.entries(v).map(([k, xs]) => [k, median(xs)])));
  const nat = m['native -march=native'];
  results.ratios[name] = Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith('wasm')).map(([k, ms]) => [`${k} / native -march=native`, ms / nat]));
  results.ratios[name]['wasm (Node) / native SSE4.1'] = m['wasm (Node)'] / m['native SSE4.1'];
  const t = results.tfjs[name];
  if (t && Object.keys(t).length) {
    const tfBest = Math.min(...Object.values(t));
    const ours = Math.min(...['wasm (Node)', 'wasm (Chromium)'].map((k) => m[k]).filter(Number.isFinite));
    results.ratios[name]['TF.js best / resnorm wasm best'] = tfBest / ours;
    results.ratios[name]['TF.js best, same runtime'] = Math.min(
      ...['Node', 'Chromium'].filter((rt) => Number.isFinite(m[`wasm (${rt})`]))
        .map((rt) => Math.min(t[`TF.js wasm (${rt})`] ?? Infinity, t[`TF.js cpu (${rt})`] ?? Infinity) / m[`wasm (${rt})`]));
  }
}
results.samples_ms = samples;
results.machine.load_1min_at_end = loadavg()[0];
mkdirSync(P('bench/results'), { recursive: true });
writeFileSync(P('bench/results/step.json'), `${JSON.stringify(results, null, 1)}\n`);

const fmt = (x) => (Number.isFinite(x) ? (x >= 10 ? x.toFixed(1) : x.toFixed(3)) : '–');
const cols = [...new Set(Object.values(results.median_ms).flatMap((r) => Object.keys(r)))];
console.log(`\n### Train step, ms (median of ${rounds} rounds)\n\n| | ${cols.join(' | ')} |\n|---|${cols.map(() => '---:').join('|')}|`);
for (const [n, r] of Object.entries(results.median_ms)) console.log(`| ${n} | ${cols.map((c) => fmt(r[c])).join(' | ')} |`);
if (Object.keys(results.tfjs).length) {
  const tc = [...new Set(Object.values(results.tfjs).flatMap((r) => Object.keys(r)))];
  console.log(`\n### TF.js 4.22, same MLP and Adam, ms per step\n\n| | ${tc.join(' | ')} |\n|---|${tc.map(() => '---:').join('|')}|`);
  for (const [n, r] of Object.entries(results.tfjs)) console.log(`| ${n} | ${tc.map((c) => fmt(r[c])).join(' | ')} |`);
}
console.log('\n### Ratios\n');
for (const [n, r] of Object.entries(results.ratios)) console.log(`- ${n}: ${Object.entries(r).map(([k, v]) => `${k} ${fmt(v)}`).join('; ')}`);
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}, Chromium ${results.machine.chromium ?? '–'}; ` +
  `load ${results.machine.load_1min_at_start.toFixed(1)} -> ${results.machine.load_1min_at_end.toFixed(1)}; wrote bench/results/step.json)`);
