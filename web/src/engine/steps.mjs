// Unpacks the statistics of n train steps from the Float64Array view the wasm Trainer's step(n) returns
// (layout in cpp/wasm/bindings.cpp): a header (n, depth, entropies), then per step STEP_FIELDS scalars
// (step, loss, lr, gradNorm, ms, diverged) and blockGradNorm[depth], blockActRms[depth], updateRatio[depth],
// attnEntropy[entropies]. The view points into wasm memory and is only valid until the next call into the
// module, so everything is copied out here: one Float32Array for all n steps, whose subarrays are every
// step's four per-block fields, so a worker transfers one buffer per call, not one per step (a page decoding
// four runs' replies of ~100 steps each, 15 times a second, spends ~30% less on them: Node, structured clone
// through a MessageChannel, 120 steps of 4 blocks: 1.08-1.18 -> 0.79-0.82 ms a message). Plain JS so that the benchmarks
// (bench/wasm/measure.mjs) time exactly what the engine does; types in steps.d.mts.

export const STEP_HEADER = 3;
export const STEP_FIELDS = 6;

/**
 * @param {Float64Array} view the step(n) result
 * @param {(i: number) => string} message divergence message of the i-th step (called only for diverged steps)
 */
export function unpackSteps(view, message) {
  const n = view[0], L = view[1], E = view[2], per = 3 * L + E, stride = STEP_FIELDS + per;
  const out = new Array(n);
  const all = new Float32Array(n * per);
  for (let i = 0, o = STEP_HEADER; i < n; ++i, o += stride) {
    const diverged = view[o + 5] !== 0;
    const arrays = all.subarray(i * per, (i + 1) * per);
    arrays.set(view.subarray(o + STEP_FIELDS, o + stride));
    out[i] = {
      step: view[o], loss: view[o + 1], lr: view[o + 2], gradNorm: view[o + 3], ms: view[o + 4], diverged,
      divergence: diverged ? message(i) : '',
      blockGradNorm: arrays.subarray(0, L), blockActRms: arrays.subarray(L, 2 * L),
      updateRatio: arrays.subarray(2 * L, 3 * L), attnEntropy: arrays.subarray(3 * L, per),
    };
  }
  return out;
}
