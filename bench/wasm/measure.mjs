// Timing helpers shared by the Node and Chromium halves of the wasm benchmark: train steps of a wasm
// Trainer, GEMM runs of the gemm_bench module, and the same MLP in TensorFlow.js. Medians after warm-up.
import { unpackSteps } from '../../web/src/engine/steps.mjs';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/**
 * A step(n) result as the engine unpacks it. Builds from before issue 13 (an older checkout, compared side
 * by side by bench/wasm/step.mjs --base) returned a copied Float64Array inside an object and the engine
 * copied each per-block field into its own Float32Array; that is repeated here for them.
 */
function unpackAny(mod, r) {
  if (r instanceof Float64Array) return unpackSteps(r, (i) => mod.stepMessage(i));
  const L = r.depth, E = r.entropies, stride = 6 + 3 * L + E, d = r.data, out = [];
  for (let i = 0, o = 0; o < d.length; ++i, o += stride) {
    const at = (k, n) => new Float32Array(d.subarray(o + 6 + k, o + 6 + k + n));
    out.push({ step: d[o], loss: d[o + 1], lr: d[o + 2], gradNorm: d[o + 3], ms: d[o + 4], diverged: d[o + 5] !== 0,
      divergence: r.messages[i] ?? '', blockGradNorm: at(0, L), blockActRms: at(L, L), updateRatio: at(2 * L, L), attnEntropy: at(3 * L, E) });
  }
  return out;
}

/**
 * Train-step time of a wasm Trainer as the engine's worker sees it: one step(1) call per step, its
 * statistics copied out into StepStats objects (web/src/engine/steps.mjs, what the worker does). The
 * median over blocks of consecutive steps, each block >= `blockMs` (default 20 ms, so that Chromium's
 * coarse performance.now(), 100 us without cross-origin isolation, does not quantise small models;
 * a shorter block is less often interrupted on a shared machine when the clock is fine).
 */
export function timeTrainer(mod, configJson, text, { warmup, steps, blockMs = 20 }) {
  const t = new mod.Trainer(configJson, text ?? '', '');
  const one = () => unpackAny(mod, t.step(1));
  try {
    for (let i = 0; i < warmup; ++i) one();
    let per = 1;
    for (;;) {  // steps per block
      const t0 = performance.now();
      for (let i = 0; i < per; ++i) one();
      if (performance.now() - t0 >= blockMs || per >= 4096) break;
      per *= 2;
    }
    const blocks = [];
    for (let done = 0; done < steps; done += per) {
      const t0 = performance.now();
      for (let i = 0; i < per; ++i) one();
      blocks.push((performance.now() - t0) / per);
    }
    return { median_ms: median(blocks), steps: blocks.length * per, warmup, per_block: per };
  } finally {
    t.delete();
  }
}

/** gemm_bench's runAll(): GFLOP/s per preset shape. */
export function runGemm(mod, minMs = 100, reps = 7) {
  return JSON.parse(mod.runAll(minMs, reps));
}

/**
 * The core's MLP in TF.js, layer for layer: stem Linear(2,C); `depth` blocks of pre-LN
 * y = x + relu(Linear(LayerNorm(x))) (or plain relu(Linear(x)) without residual/norm); final LayerNorm;
 * head Linear(C,2); softmax cross-entropy; Adam (betas 0.9/0.99, eps 1e-8). TF.js gets no gradient
 * clipping and no per-block diagnostics, both of which the core's step does on top.
 */
export function makeTfjsMlp(tf, { width: C, depth, batch: B, residual = true, norm = true, lr = 0.003 }) {
  const lin = (i, o) => ({
    w: tf.variable(tf.randomUniform([i, o], -1 / Math.sqrt(i), 1 / Math.sqrt(i))),
    b: tf.variable(tf.zeros([o])),
  });
  const ln = () => ({ g: tf.variable(tf.ones([C])), b: tf.variable(tf.zeros([C])) });
  const stem = lin(2, C), head = lin(C, 2), fin = norm ? ln() : null;
  const blocks = Array.from({ length: depth }, () => ({ fc: lin(C, C), n: norm ? ln() : null }));
  const layerNorm = (x, p) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(p.g).add(p.b);
  };
  const forward = (x) => {
    let h = x.matMul(stem.w).add(stem.b);
    for (const blk of blocks) {
      const f = tf.relu((blk.n ? layerNorm(h, blk.n) : h).matMul(blk.fc.w).add(blk.fc.b));
      h = residual ? h.add(f) : f;
    }
    if (fin) h = layerNorm(h, fin);
    return h.matMul(head.w).add(head.b);
  };
  const xs = tf.randomUniform([B, 2], -1, 1);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 2), 'int32'), 2);
  const opt = tf.train.adam(lr, 0.9, 0.99, 1e-8);
  const params = 2 * C + C + depth * (C * C + C + (norm ? 2 * C : 0)) + (norm ? 2 * C : 0) + 2 * C + 2;
  return {
    params,
    step() { opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, forward(xs)), false); },
    dispose() { xs.dispose(); ys.dispose(); opt.dispose(); tf.disposeVariables(); },
  };
}

export async function timeTfjs(tf, spec, { warmup, steps }) {
  const m = makeTfjsMlp(tf, spec);
  try {
    for (let i = 0; i < warmup; ++i) m.step();
    const wall = [];
    for (let i = 0; i < steps; ++i) {
      const t0 = performance.now();
      m.step();
      wall.push(performance.now() - t0);
    }
    return { median_ms: median(wall), steps, warmup, params: m.params };
  } finally {
    m.dispose();
  }
}
