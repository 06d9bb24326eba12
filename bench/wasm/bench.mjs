// `npm run bench`: the wasm engine's speed, in Node and headless Chromium, beside native C++ and TF.js 4.22.
// GEMM GFLOP/s at the presets' shapes, train-step ms per preset, TF.js on the same MLP. Medians after warm-up,
// one run, sequential (never two measurements at once). Writes bench/results/wasm.json and prints tables.
// Options: --quick (fewer repetitions), --no-browser, --no-tfjs, --gpt-time (also train gpt-tiny in Chromium
// until validation loss 1.88, ~10 minutes).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { loadWasmModule } from '../../web/src/engine/node-loader.mjs';
import { serveStatic } from '../../tests/js/engine-server.mjs';
import { median, runGemm, timeTfjs, timeTrainer } from './measure.mjs';
import { nativeGemmBinary } from './native.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const argv = new Set(process.argv.slice(2));
const quick = argv.has('--quick');
const log = (...a) => console.error('[bench]', ...a);

const P = (p) => join(repo, p);
const need = (p, how) => { if (!existsSync(P(p))) throw new Error(`${p} is missing: ${how}`); return P(p); };
need('web/public/wasm/resnorm.wasm', 'bash scripts/build-wasm.sh');
need('build/wasm/gemm_bench.wasm', 'bash scripts/build-wasm.sh');
need('build/wasm-nosimd/resnorm.wasm', 'bash scripts/build-wasm.sh --nosimd');
need('build/wasm-nosimd/gemm_bench.wasm', 'bash scripts/build-wasm.sh --nosimd');

// ---- builds of the native comparison points ----------------------------------------------------------
function ensureNative(preset) {
  const bin = `build/${preset}/resnorm`;
  if (!existsSync(P(bin))) {
    log(`building the ${preset} preset`);
    execFileSync('cmake', ['--preset', preset, '-G', 'Ninja'], { cwd: repo, stdio: 'ignore' });
    execFileSync('cmake', ['--build', '--preset', preset, '--target', 'resnorm'], { cwd: repo, stdio: 'inherit' });
  }
  return P(bin);
}

// ---- what to measure -----------------------------------------------------------------------------------
const presets = [
  { name: 'mlp-spiral', warmup: quick ? 50 : 200, steps: quick ? 100 : 400 },
  { name: 'mlp-residual-deep', warmup: quick ? 10 : 30, steps: quick ? 20 : 60 },
  { name: 'gpt-tiny', warmup: quick ? 2 : 4, steps: quick ? 4 : 12 },
];
// The MLPs TF.js trains: two presets, and the issue's reference 3 x Dense(256) at batch 64 (no residual, no norm).
const mlps = [
  { name: 'mlp-spiral', tf: { width: 32, depth: 4, batch: 32, residual: true, norm: true, lr: 0.01 } },
  { name: 'mlp-residual-deep', tf: { width: 64, depth: 32, batch: 64, residual: true, norm: true, lr: 0.003 } },
  { name: 'mlp-3x256 (plain)', tf: { width: 256, depth: 3, batch: 64, residual: false, norm: false, lr: 0.001 },
    config: { model: { kind: 'mlp', depth: 3, width: 256, residual: 'none', norm: 'none' }, optim: { batch: 64, lr: 0.001 } } },
];
const tfSteps = (m) => (m.tf.depth > 8 ? { warmup: quick ? 5 : 15, steps: quick ? 10 : 30 } : { warmup: quick ? 20 : 50, steps: quick ? 40 : 100 });
const gemmMs = quick ? 40 : 150, gemmReps = quick ? 3 : 7;

const text = readFileSync(P('web/public/data/tinyshakespeare.txt'), 'utf8');
const simd = await loadWasmModule(P('web/public/wasm/resnorm.wasm'));
const nosimd = await loadWasmModule(P('build/wasm-nosimd/resnorm.wasm'));
const configOf = (name, mod = simd) => mod.presetJson(name);

const results = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, load_1min_at_start: loadavg()[0] },
  note: 'Medians after warm-up, one run, single thread everywhere. GFLOP/s = 2*N*IC*OC / time for y = x W^T.',
  size: {},
  gemm: {},    // shape -> { variant: GFLOP/s }
  train: {},   // preset -> { variant: ms }
  tfjs: {},    // mlp -> { variant: ms }
};
const wasmBytes = readFileSync(P('web/public/wasm/resnorm.wasm')), glueBytes = readFileSync(P('web/public/wasm/resnorm.mjs'));
results.size = {
  wasm_bytes: wasmBytes.length, glue_bytes: glueBytes.length,
  gzip_bytes: gzipSync(wasmBytes, { level: 9 }).length + gzipSync(glueBytes, { level: 9 }).length, budget_bytes: 150 * 1024,
};

function putGemm(variant, rows) {
  for (const r of rows) (results.gemm[r.shape] ??= {})[variant] = r.gflops;
}
const putTrain = (preset, variant, ms) => { (results.train[preset] ??= {})[variant] = ms; };

// ---- native ----------------------------------------------------------------------------------------------
const nativeBin = ensureNative('native'), sseBin = ensureNative('native-sse');
for (const [variant, preset] of [['native -march=native', 'native'], ['native SSE4.1', 'native-sse']]) {
  log(`GEMM ${variant}`);
  putGemm(variant, JSON.parse(execFileSync(nativeGemmBinary(repo, preset), [String(gemmMs), String(gemmReps)], { encoding: 'utf8' })));
}
for (const p of presets)
  for (const [variant, bin] of [['native -march=native', nativeBin], ['native SSE4.1', sseBin]]) {
    log(`train ${p.name} ${variant}`);
    const out = execFileSync(bin, ['bench', '--preset', p.name, '--steps', String(p.steps), '--warmup', String(p.warmup), '--json'],
      { encoding: 'utf8', env: { ...process.env, RESNORM_DATA: P('web/public/data/tinyshakespeare.txt') } });
    putTrain(p.name, variant, JSON.parse(out).median_ms);
  }
for (const m of mlps.filter((x) => x.config)) {
  const file = P('build/wasm/bench-native/mlp-3x256.json');
  writeFileSync(file, JSON.stringify(m.config));
  for (const [variant, bin] of [['native -march=native', nativeBin], ['native SSE4.1', sseBin]])
    putTrain(m.name, variant, JSON.parse(execFileSync(bin, ['bench', '--config', file, '--steps', '100', '--warmup', '30', '--json'], { encoding: 'utf8' })).median_ms);
}

// ---- wasm in Node ----------------------------------------------------------------------------------------
for (const [variant, dir] of [['wasm SIMD (Node)', 'build/wasm'], ['wasm scalar (Node)', 'build/wasm-nosimd']]) {
  log(`GEMM ${variant}`);
  putGemm(variant, runGemm(await loadWasmModule(P(`${dir}/gemm_bench.wasm`)), gemmMs, gemmReps));
}
for (const p of presets)
  for (const [variant, mod] of [['wasm SIMD (Node)', simd], ['wasm scalar (Node)', nosimd]]) {
    log(`train ${p.name} ${variant}`);
    putTrain(p.name, variant, timeTrainer(mod, configOf(p.name), text, p).median_ms);
  }
for (const m of mlps.filter((x) => x.config))
  putTrain(m.name, 'wasm SIMD (Node)', timeTrainer(simd, JSON.stringify(m.config), '', { warmup: 30, steps: 100 }).median_ms);

// ---- TF.js in Node ---------------------------------------------------------------------------------------
if (!argv.has('--no-tfjs')) {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    const label = `TF.js ${backend} (Node)`;
    if (backend === 'wasm') results.machine.tfjs_wasm = { simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') };
    for (const m of mlps) {
      log(`${label} ${m.name}`);
      (results.tfjs[m.name] ??= {})[label] = (await timeTfjs(tf, m.tf, tfSteps(m))).median_ms;
    }
  }
}
for (const m of mlps) (results.tfjs[m.name] ??= {})['resnorm wasm SIMD (Node)'] = results.train[m.name]['wasm SIMD (Node)'];

// ---- Chromium --------------------------------------------------------------------------------------------
if (!argv.has('--no-browser')) {
  const { chromium } = await import('playwright-core');
  const server = await serveStatic({
    '/': P('bench/wasm/page'), '/bench/': P('bench/wasm'), '/web/src/engine/': P('web/src/engine'), '/wasm/': P('web/public/wasm'), '/data/': P('web/public/data'),
    '/build-wasm/': P('build/wasm'), '/build-wasm-nosimd/': P('build/wasm-nosimd'),
    '/tfjs/': P('node_modules/@tensorflow/tfjs/dist'), '/tfjs-wasm/': P('node_modules/@tensorflow/tfjs-backend-wasm/dist'),
  }, { csp: null });  // TF.js's own bundles are not ours to hold to the engine's CSP
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  results.machine.chromium = browser.version();
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(600_000);
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => window.benchReady === true);
    for (const [variant, dir] of [['wasm SIMD (Chromium)', 'build-wasm'], ['wasm scalar (Chromium)', 'build-wasm-nosimd']]) {
      log(`GEMM ${variant}`);
      putGemm(variant, await page.evaluate(([d, ms, reps]) => window.benchGemm(d, ms, reps), [dir, gemmMs, gemmReps]));
    }
    for (const p of presets)
      for (const [variant, dir] of [['wasm SIMD (Chromium)', 'wasm'], ['wasm scalar (Chromium)', 'build-wasm-nosimd']]) {
        log(`train ${p.name} ${variant}`);
        const r = await page.evaluate(([d, cfg, o]) => window.benchTrain(d, cfg, o), [dir, configOf(p.name), { warmup: p.warmup, steps: p.steps }]);
        putTrain(p.name, variant, r.median_ms);
      }
    for (const m of mlps.filter((x) => x.config)) {
      const r = await page.evaluate(([cfg]) => window.benchTrain('wasm', cfg, { warmup: 30, steps: 100 }), [JSON.stringify(m.config)]);
      putTrain(m.name, 'wasm SIMD (Chromium)', r.median_ms);
    }
    for (const m of mlps) (results.tfjs[m.name] ??= {})['resnorm wasm SIMD (Chromium)'] = results.train[m.name]['wasm SIMD (Chromium)'];
    if (!argv.has('--no-tfjs'))
      for (const backend of ['wasm', 'cpu'])
        for (const m of mlps) {
          const label = `TF.js ${backend} (Chromium)`;
          log(`${label} ${m.name}`);
          try {
            const r = await page.evaluate(([b, spec, o]) => window.benchTfjs(b, spec, o), [backend, m.tf, tfSteps(m)]);
            (results.tfjs[m.name] ??= {})[label] = r.median_ms;
            if (backend === 'wasm') results.machine.tfjs_wasm_chromium = { simd: r.simd, threads: r.threads };
          } catch (e) {
            log(`${label} failed: ${e.message.split('\n')[0]}`);
          }
        }
    if (argv.has('--gpt-time')) {
      log('gpt-tiny to validation loss 1.88 in Chromium (minutes)');
      const cfg = JSON.parse(configOf('gpt-tiny'));
      results.gpt_tiny_to_1_88 = await page.evaluate(([c, target, every]) => window.benchGptToLoss(c, target, every),
        [JSON.stringify(cfg), 1.88, cfg.eval.every]);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

// ---- ratios, JSON, tables --------------------------------------------------------------------------------
const best = (o, re) => Math.max(...Object.entries(o).filter(([k]) => re.test(k)).map(([, v]) => v));
const fastest = (o, re) => Math.min(...Object.entries(o).filter(([k]) => re.test(k)).map(([, v]) => v));
results.ratios = {
  gemm_wasm_simd_over_native_sse: Object.fromEntries(Object.entries(results.gemm).map(([k, v]) =>
    [k, best(v, /^wasm SIMD/) / v['native SSE4.1']])),
  train_wasm_simd_over_native: Object.fromEntries(Object.entries(results.train).map(([k, v]) =>
    [k, fastest(v, /^wasm SIMD/) / v['native -march=native']])),
  train_wasm_simd_over_native_sse: Object.fromEntries(Object.entries(results.train).map(([k, v]) =>
    [k, fastest(v, /^wasm SIMD/) / v['native SSE4.1']])),
  tfjs_best_over_resnorm_wasm: Object.fromEntries(Object.entries(results.tfjs).map(([k, v]) =>
    [k, fastest(v, /^TF\.js/) / fastest(v, /^resnorm wasm/)])),
};
results.machine.load_1min_at_end = loadavg()[0];
mkdirSync(P('bench/results'), { recursive: true });
writeFileSync(P('bench/results/wasm.json'), `${JSON.stringify(results, null, 1)}\n`);

const fmt = (x, d = 2) => (x === undefined || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
function table(title, rows, unit) {
  const cols = [...new Set(Object.values(rows).flatMap((r) => Object.keys(r)))];
  console.log(`\n### ${title} (${unit})\n`);
  console.log(`| | ${cols.join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const [name, r] of Object.entries(rows)) console.log(`| ${name} | ${cols.map((c) => fmt(r[c], unit === 'GFLOP/s' ? 1 : 3)).join(' | ')} |`);
}
console.log(`\nwasm engine size: ${results.size.gzip_bytes} B gzipped (.wasm + glue; budget ${results.size.budget_bytes} B)`);
table('GEMM y = x W^T', results.gemm, 'GFLOP/s');
table('Train step, median', results.train, 'ms');
table('The same MLP in TF.js 4.22 vs resnorm wasm, train step median', results.tfjs, 'ms');
console.log('\n### Ratios\n');
for (const [k, v] of Object.entries(results.ratios)) console.log(`- ${k}: ${Object.entries(v).map(([a, b]) => `${a} ${fmt(b)}`).join('; ')}`);
if (results.gpt_tiny_to_1_88) {
  const g = results.gpt_tiny_to_1_88;
  console.log(`\ngpt-tiny in Chromium (wasm SIMD, one thread): validation loss ${g.valLoss.toFixed(3)} after ${g.steps} steps in ` +
    `${g.seconds.toFixed(0)} s (${g.reached ? 'reached' : 'did not reach'} 1.88)`);
}
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}, Chromium ${results.machine.chromium ?? '–'}; wrote bench/results/wasm.json)`);
void median;
