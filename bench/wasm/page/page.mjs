// Browser entry points of the benchmark, called by bench/wasm/bench.mjs with page.evaluate: the same
// measurements as in Node (bench/wasm/measure.mjs), on Chromium's V8 and its wasm tiers.
import { runGemm, timeTfjs, timeTrainer } from '/bench/measure.mjs';

const modules = new Map();
async function load(dir, glue, factory) {
  const key = `${dir}/${glue}`;
  if (!modules.has(key)) {
    const m = await import(`/${dir}/${glue}.mjs`);
    modules.set(key, await m.default({ locateFile: (p) => `/${dir}/${p}` }));
  }
  return modules.get(key);
}

let text;
window.benchTrain = async (dir, configJson, opts) => {
  const mod = await load(dir, 'resnorm');
  if (JSON.parse(configJson).model?.kind === 'gpt') text ??= await (await fetch('/data/tinyshakespeare.txt')).text();
  return timeTrainer(mod, configJson, text, opts);
};
window.benchGemm = async (dir, minMs, reps) => runGemm(await load(dir, 'gemm_bench'), minMs, reps);
window.benchTfjs = async (backend, spec, opts) => {
  const tf = window.tf;
  if (backend === 'wasm') window.tf.wasm.setWasmPaths('/tfjs-wasm/');
  await tf.setBackend(backend);
  await tf.ready();
  const r = await timeTfjs(tf, spec, opts);
  return { ...r, backend: tf.getBackend(), simd: backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : undefined,
    threads: backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') : undefined };
};
// Issue item 4: wall time for gpt-tiny (its preset, 2000-step cosine schedule) to reach a validation loss,
// evaluating every `every` steps as the playground does. Single thread, this page's main thread.
window.benchGptToLoss = async (configJson, target, every) => {
  const mod = await load('wasm', 'resnorm');
  text ??= await (await fetch('/data/tinyshakespeare.txt')).text();
  const cfg = JSON.parse(configJson);
  const t = new mod.Trainer(configJson, text, '');
  const t0 = performance.now();
  let val = Infinity, steps = 0;
  const curve = [];
  try {
    while (steps < cfg.optim.steps && val > target) {
      t.step(every);
      steps += every;
      val = t.evaluate().valLoss;
      curve.push([steps, val, (performance.now() - t0) / 1000]);
    }
  } finally {
    t.delete();
  }
  return { reached: val <= target, steps, valLoss: val, seconds: (performance.now() - t0) / 1000, curve };
};
document.getElementById('status').textContent = 'loaded';
window.benchReady = true;
