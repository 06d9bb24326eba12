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

/**
 * cnn-digits's ResNet in TF.js, layer for layer as cpp/core/model.cpp builds it for placement "post" (ResNet
 * v1, He et al. 2016, section 4.2; tests/torch_ref/cnn_ref.py is the PyTorch twin): a 3x3 stem conv (1 -> w,
 * no bias), BatchNorm, ReLU; 3 stages of `depth` basic blocks, widths w, 2w, 4w, stride 2 at the first block
 * of stages 2 and 3, where the identity shortcut becomes a 1x1 conv + BatchNorm;
 * block y = relu(s + bn(conv(relu(bn(conv(x)))))) (residual) or relu(f) (plain); global average pooling;
 * a Linear head to 10 classes; softmax cross-entropy; Adam (AdamW without weight decay is Adam).
 * NHWC, TF.js's layout. BatchNorm uses the batch's statistics (train mode); TF.js does not update running
 * statistics here (the core does: 2 x C multiply-adds per norm, negligible), nor compute our per-block
 * diagnostics. One fixed random batch (the core draws a batch each step: a copy of B x side^2 floats).
 * 'same' padding gives the same output sizes as PyTorch's padding 1 (14 -> 7 -> 4), so the same arithmetic.
 */
export function makeTfjsResNet(tf, { width: w, depth, batch: B, side = 14, residual = true, lr = 0.003, beta2 = 0.999, eps = 1e-8 }) {
  let params = 0;
  const conv = (k, cin, cout) => {
    params += k * k * cin * cout;
    const a = Math.sqrt(6 / (k * k * cin));  // He uniform; the values do not change the work
    return tf.variable(tf.randomUniform([k, k, cin, cout], -a, a));
  };
  const bn = (c) => { params += 2 * c; return { g: tf.variable(tf.ones([c])), b: tf.variable(tf.zeros([c])) }; };
  const batchNorm = (x, p) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.batchNorm(x, mean, variance, p.b, p.g, 1e-5);
  };
  const stem = { c: conv(3, 1, w), n: bn(w) };
  const blocks = [];
  let cin = w;
  for (let stage = 0; stage < 3; ++stage) {
    const cout = w << stage;
    for (let i = 0; i < depth; ++i) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      blocks.push({
        stride, c1: conv(3, cin, cout), n1: bn(cout), c2: conv(3, cout, cout), n2: bn(cout),
        sc: residual && (stride !== 1 || cin !== cout) ? { c: conv(1, cin, cout), n: bn(cout) } : null,
      });
      cin = cout;
    }
  }
  params += cin * 10 + 10;
  const head = { w: tf.variable(tf.randomUniform([cin, 10], -1 / Math.sqrt(cin), 1 / Math.sqrt(cin))), b: tf.variable(tf.zeros([10])) };
  const forward = (x) => {
    let h = tf.relu(batchNorm(tf.conv2d(x, stem.c, 1, 'same'), stem.n));
    for (const blk of blocks) {
      const f = batchNorm(tf.conv2d(tf.relu(batchNorm(tf.conv2d(h, blk.c1, blk.stride, 'same'), blk.n1)), blk.c2, 1, 'same'), blk.n2);
      if (!residual) h = tf.relu(f);
      else h = tf.relu(f.add(blk.sc ? batchNorm(tf.conv2d(h, blk.sc.c, blk.stride, 'valid'), blk.sc.n) : h));
    }
    return h.mean([1, 2]).matMul(head.w).add(head.b);
  };
  const xs = tf.randomUniform([B, side, side, 1], 0, 1);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 10), 'int32'), 10);
  const opt = tf.train.adam(lr, 0.9, beta2, eps);
  return {
    params,
    /** One train step; resolves once its loss has been read back (a GPU backend has then finished it). */
    async step() {
      const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, forward(xs)), true);
      const v = (await cost.data())[0];
      cost.dispose();
      return v;
    },
    dispose() { xs.dispose(); ys.dispose(); opt.dispose(); tf.disposeVariables(); },
  };
}

/** Median ms per train step of makeTfjsResNet(spec) after `warmup` steps (the first ones compile shaders). */
export async function timeTfjsResNet(tf, spec, { warmup, steps }) {
  const m = makeTfjsResNet(tf, spec);
  try {
    let loss;
    for (let i = 0; i < warmup; ++i) loss = await m.step();
    const wall = [];
    for (let i = 0; i < steps; ++i) {
      const t0 = performance.now();
      loss = await m.step();
      wall.push(performance.now() - t0);
    }
    return { median_ms: median(wall), samples: wall, steps, warmup, params: m.params, last_loss: loss };
  } finally {
    m.dispose();
  }
}
