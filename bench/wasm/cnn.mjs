// `npm run bench:cnn` (issue 11, speed): cnn-digits's ResNet trained by
//   - our wasm engine in headless Chromium (and in Node),
//   - TF.js 4.22 in the same Chromium on each backend that can train it (webgl, cpu; wasm is tried and its
//     error recorded: TF.js's wasm backend has no Conv2DBackpropFilter kernel),
//   - our native core (`resnorm bench`, one thread) and PyTorch on the CPU with one thread
//     (bench/torch_cnn_bench.py, tests/torch_ref/cnn_ref.py's ResNet).
// Side by side in one run: `--rounds` rounds (default 3), each timing every contender once in turn, so a busy
// neighbour on a shared machine slows all of them alike; a contender's figure is the median of its rounds'
// medians. Writes bench/results/cnn.json and prints a table. Options: --rounds N, --quick (fewer steps),
// --no-torch, --preset NAME (default cnn-digits).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadWasmModule } from '../../web/src/engine/node-loader.mjs';
import { serveStatic } from '../../tests/js/engine-server.mjs';
import { median, timeTrainer } from './measure.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const P = (p) => join(repo, p);
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const quick = args.includes('--quick');
const rounds = Number(opt('--rounds', quick ? 2 : 3));
const preset = opt('--preset', 'cnn-digits');
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, not ${opt('--rounds')}`);
const log = (...a) => console.error('[bench:cnn]', ...a);

for (const [p, how] of [['web/public/wasm/resnorm.wasm', 'bash scripts/build-wasm.sh'], ['build/native/resnorm', 'npm run build:native'],
  ['web/public/data/digits.bin', 'node scripts/make-digits.mjs']])
  if (!existsSync(P(p))) throw new Error(`${p} is missing: ${how}`);

const nativeBin = P('build/native/resnorm');
const configJson = execFileSync(nativeBin, ['show', '--preset', preset], { encoding: 'utf8' });
const cfg = JSON.parse(configJson);
if (cfg.model.kind !== 'cnn' || cfg.model.placement !== 'post' || cfg.model.norm !== 'batchnorm' || cfg.model.activation !== 'relu')
  throw new Error(`${preset}: the TF.js twin is written for a post-norm BatchNorm ReLU cnn`);
const spec = { width: cfg.model.width, depth: cfg.model.depth, batch: cfg.optim.batch, side: cfg.data.resolution,
  residual: cfg.model.residual === 'identity', lr: cfg.optim.lr, beta2: cfg.optim.beta2, eps: cfg.optim.eps };
const cfgFile = join(tmpdir(), `resnorm-bench-cnn-${process.pid}.json`);
writeFileSync(cfgFile, configJson);
const digits = new Uint8Array(readFileSync(P('web/public/data/digits.bin')));

// steps per round: [warmup, timed]; slow: TF.js's webgl (SwiftShader here) and cpu backends, 10-100x slower
const S = quick ? { fast: [2, 6], slow: [1, 1] } : { fast: [3, 15], slow: [1, 2] };

const results = {
  date: new Date().toISOString(), preset, config: cfg,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, load_1min_at_start: loadavg()[0] },
  note: 'ms per train step (forward, backward, optimiser update), medians of per-round medians; one thread everywhere ' +
    '(TF.js webgl runs on whatever GPU Chromium reports: see renderer).',
  rounds: [], median_ms: {}, errors: {},
};

const contenders = [];
contenders.push({ name: 'resnorm native (1 thread)', run: () => {
  const [w, n] = S.fast;
  return JSON.parse(execFileSync(nativeBin, ['bench', '--preset', preset, '--steps', String(n), '--warmup', String(w), '--json'], { encoding: 'utf8' })).median_ms;
} });
if (!args.includes('--no-torch'))
  contenders.push({ name: 'PyTorch CPU (1 thread)', run: () => {
    const [w, n] = S.fast;
    const out = execFileSync('/usr/bin/python3', [P('bench/torch_cnn_bench.py'), cfgFile, String(n), String(w)],
      { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } });
    const r = JSON.parse(out);
    results.machine.torch = r.torch;
    return r.median_ms;
  } });
const mod = await loadWasmModule(P('web/public/wasm/resnorm.wasm'));
contenders.push({ name: 'resnorm wasm SIMD (Node)', run: () => {
  const [warmup, steps] = S.fast;
  return timeTrainer(mod, configJson, digits, { warmup, steps, blockMs: 0 }).median_ms;
} });

const { chromium } = await import('playwright-core');
const server = await serveStatic({
  '/': P('bench/wasm/page'), '/bench/': P('bench/wasm'), '/web/src/engine/': P('web/src/engine'), '/wasm/': P('web/public/wasm'),
  '/data/': P('web/public/data'), '/tfjs/': P('node_modules/@tensorflow/tfjs/dist'), '/tfjs-wasm/': P('node_modules/@tensorflow/tfjs-backend-wasm/dist'),
}, { csp: null, isolate: true });  // cross-origin isolated: a fine-grained performance.now()
// No --disable-gpu: TF.js's webgl backend needs a WebGL2 context. This VM has no GPU, so Chromium's is SwiftShader
// (a software renderer on the CPU), which it offers headless only when asked (--enable-unsafe-swiftshader).
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
results.machine.chromium = browser.version();
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(600_000);
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => window.benchReady === true);
  contenders.push({ name: 'resnorm wasm SIMD (Chromium)', run: async () => {
    const [warmup, steps] = S.fast;
    return (await page.evaluate(([c, o]) => window.benchTrain('wasm', c, o), [configJson, { warmup, steps, blockMs: 0 }])).median_ms;
  } });
  for (const backend of ['webgl', 'cpu', 'wasm'])
    contenders.push({ name: `TF.js ${backend} (Chromium)`, backend, run: async () => {
      const [warmup, steps] = backend === 'webgl' ? S.fast : S.slow;
      const r = await page.evaluate(([b, s, o]) => window.benchTfjsCnn(b, s, o), [backend, spec, { warmup, steps }]);
      if (r.params !== undefined) results.tfjs_params = r.params;
      (results.tfjs_last_loss ??= {})[backend] = r.last_loss;  // finite: it trained
      if (r.renderer) results.machine.webgl_renderer = r.renderer;
      if (r.backend !== backend) throw new Error(`TF.js ran on ${r.backend}, not ${backend}`);
      return r.median_ms;
    } });

  for (let round = 0; round < rounds; ++round) {
    const row = {};
    for (const c of contenders) {
      if (results.errors[c.name]) continue;  // a backend that cannot train fails the same way every round
      try {
        row[c.name] = await c.run();
        log(`round ${round + 1}/${rounds} ${c.name}: ${row[c.name].toFixed(1)} ms`);
      } catch (e) {
        results.errors[c.name] = String(e.message ?? e).split('\n').find((l) => l.trim()) ?? String(e);
        log(`${c.name} failed: ${results.errors[c.name]}`);
      }
    }
    row.load_1min = loadavg()[0];
    results.rounds.push(row);
  }
} finally {
  await browser.close();
  await server.close();
}

for (const c of contenders) {
  const xs = results.rounds.map((r) => r[c.name]).filter((x) => x !== undefined);
  if (xs.length) results.median_ms[c.name] = median(xs);
}
const m = results.median_ms;
const tfjsBest = Object.entries(m).filter(([k]) => k.startsWith('TF.js') && k.endsWith('(Chromium)')).sort((a, b) => a[1] - b[1])[0];
const ours = m['resnorm wasm SIMD (Chromium)'];
results.ratios = {
  tfjs_best_backend: tfjsBest?.[0] ?? null,
  tfjs_best_over_resnorm_wasm_chromium: tfjsBest && ours ? tfjsBest[1] / ours : null,
  goal_tfjs_over_ours: 3,
  pytorch_over_resnorm_native: m['PyTorch CPU (1 thread)'] / m['resnorm native (1 thread)'],
  resnorm_wasm_chromium_over_native: ours / m['resnorm native (1 thread)'],
  resnorm_wasm_node_over_native: m['resnorm wasm SIMD (Node)'] / m['resnorm native (1 thread)'],
};
// The same ratios within each round (both sides timed minutes apart, not a whole run apart), and their median:
// on a shared machine a round's load moves all contenders of that round alike.
const perRound = (a, b) => median(results.rounds.filter((r) => r[a] !== undefined && r[b] !== undefined).map((r) => r[a] / r[b]));
results.ratios_within_rounds_median = {
  pytorch_over_resnorm_native: perRound('PyTorch CPU (1 thread)', 'resnorm native (1 thread)'),
  resnorm_wasm_chromium_over_native: perRound('resnorm wasm SIMD (Chromium)', 'resnorm native (1 thread)'),
  resnorm_wasm_node_over_native: perRound('resnorm wasm SIMD (Node)', 'resnorm native (1 thread)'),
  ...(tfjsBest ? { tfjs_best_over_resnorm_wasm_chromium: perRound(tfjsBest[0], 'resnorm wasm SIMD (Chromium)') } : {}),
};
results.machine.load_1min_at_end = loadavg()[0];
results.machine.load_1min_per_round = results.rounds.map((r) => r.load_1min);
mkdirSync(P('bench/results'), { recursive: true });
writeFileSync(P('bench/results/cnn.json'), `${JSON.stringify(results, null, 1)}\n`);

const f = (x, d = 1) => (x == null || !Number.isFinite(x) ? '–' : x.toFixed(d));
console.log(`\n### ${preset} train step, ms (median of ${rounds} rounds)\n`);
console.log('| contender | ms / step |\n|---|---:|');
for (const c of contenders) console.log(`| ${c.name} | ${c.name in m ? f(m[c.name]) : `fails: ${results.errors[c.name]}`} |`);
const r = results.ratios;
console.log(`\n- best TF.js (${r.tfjs_best_backend}) / resnorm wasm in Chromium: ${f(r.tfjs_best_over_resnorm_wasm_chromium, 2)}× (goal ≥ 3×)`);
console.log(`- PyTorch CPU / resnorm native: ${f(r.pytorch_over_resnorm_native, 2)}×`);
console.log(`- resnorm wasm / native: Chromium ${f(r.resnorm_wasm_chromium_over_native, 2)}×, Node ${f(r.resnorm_wasm_node_over_native, 2)}×`);
console.log(`- within rounds (median of per-round ratios): ${Object.entries(results.ratios_within_rounds_median).map(([k, v]) => `${k} ${f(v, 2)}×`).join('; ')}`);
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores; WebGL renderer: ${results.machine.webgl_renderer ?? '–'}; ` +
  `load average ${results.machine.load_1min_at_start.toFixed(1)} at start, ${results.machine.load_1min_at_end.toFixed(1)} at end; wrote bench/results/cnn.json)`);
