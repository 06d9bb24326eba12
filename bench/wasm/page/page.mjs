// Browser entry points of the benchmark, called by bench/wasm/bench.mjs with page.evaluate: the same
// measurements as in Node (bench/wasm/measure.mjs), on Chromium's V8 and its wasm tiers.
import { runGemm, timeTfjs, timeTfjsResNet, timeTrainer } from '/bench/measure.mjs';

const modules = new Map();
async function load(dir, glue, factory) {
  const key = `${dir}/${glue}`;
  if (!modules.has(key)) {
    const m = await import(`/${dir}/${glue}.mjs`);
    modules.set(key, await m.default({ locateFile: (p) => `/${dir}/${p}` }));
  }
  return modules.get(key);
}

let text, digits;
window.benchTrain = async (dir, configJson, opts) => {
  const mod = await load(dir, 'resnorm');
  const kind = JSON.parse(configJson).model?.kind;
  if (kind === 'gpt') text ??= await (await fetch('/data/tinyshakespeare.txt')).text();
  if (kind === 'cnn') digits ??= new Uint8Array(await (await fetch('/data/digits.bin')).arrayBuffer());
  return timeTrainer(mod, configJson, kind === 'cnn' ? digits : text, opts);
};
window.benchGemm = async (dir, minMs, reps) => runGemm(await load(dir, 'gemm_bench'), minMs, reps);
// One thread, as our engine here: on a cross-origin isolated page TF.js's wasm backend would otherwise load
// its threaded SIMD binary and use navigator.hardwareConcurrency threads (setThreadsCount must come before
// the backend's first initialisation, which is the first wasm call on this page).
window.benchTfjs = async (backend, spec, opts) => {
  const tf = window.tf;
  if (backend === 'wasm') {
    window.tf.wasm.setWasmPaths('/tfjs-wasm/');
    window.tf.wasm.setThreadsCount(1);
  }
  await tf.setBackend(backend);
  await tf.ready();
  const r = await timeTfjs(tf, spec, opts);
  return { ...r, backend: tf.getBackend(), simd: backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : undefined,
    threads: backend === 'wasm' ? window.tf.wasm.getThreadsCount() : 1 };
};
// The cnn benchmark (bench/wasm/cnn.mjs): cnn-digits's ResNet in TF.js on `backend`. Throws what TF.js throws
// (its wasm backend has no Conv2DBackpropFilter kernel). For webgl, also the renderer behind it (SwiftShader
// is Chromium's software GPU: no GPU at all).
window.benchTfjsCnn = async (backend, spec, opts) => {
  const tf = window.tf;
  if (backend === 'wasm') window.tf.wasm.setWasmPaths('/tfjs-wasm/');
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} could not be initialised`);
  await tf.ready();
  let renderer;
  if (backend === 'webgl') {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    renderer = gl ? String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : 'no webgl2 context';
  }
  const r = await timeTfjsResNet(tf, spec, opts);
  return { ...r, backend: tf.getBackend(), renderer };
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
