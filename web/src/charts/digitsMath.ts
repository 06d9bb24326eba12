// The pure parts of the digits view (issue 11): predictions from class probabilities, the confusion
// matrix, and a drawn digit turned into the model's input the way the training digits were made
// (cpp/core/data.cpp make_digits: 28x28 in 0..1, average-pooled to the model's side, then
// (v - 0.1307) / 0.3081, MNIST's mean and standard deviation; or left in 0..1 for data.pixels = "raw").

export const DIGIT_CLASSES = 10;
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** Index of the first largest value of each row of `probs` [n, k] (as Trainer::evaluate counts). */
export function argmaxRows(probs: Float32Array, k = DIGIT_CLASSES): Int32Array {
  const n = Math.floor(probs.length / k);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Confusion matrix [true][predicted] (row-major, k*k counts) of labels against predictions. */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, k = DIGIT_CLASSES): Int32Array {
  if (labels.length !== predicted.length) throw new Error(`confusion: ${labels.length} labels but ${predicted.length} predictions`);
  const m = new Int32Array(k * k);
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i], p = predicted[i];
    if (t >= 0 && t < k && p >= 0 && p < k) m[t * k + p]++;
  }
  return m;
}

/** Fraction of the matrix on its diagonal (the accuracy), NaN when empty. */
export function matrixAccuracy(m: Int32Array, k = DIGIT_CLASSES): number {
  let diag = 0, all = 0;
  for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) { all += m[t * k + p]; if (t === p) diag += m[t * k + p]; }
  return all ? diag / all : NaN;
}

/**
 * A drawing (ink in 0..1, `src` x `src`, row-major) as one model input of side `side`: shifted so its
 * centre of mass sits in the middle (MNIST centred its digits that way), average-pooled by src/side,
 * then normalised (raw: kept in 0..1). `src` must be a multiple of `side`. An empty drawing gives the background everywhere.
 */
export function drawingToInput(ink: Float32Array, src: number, side: number, raw = false): Float32Array {
  if (src % side !== 0 || ink.length !== src * src) throw new Error(`drawing: ${src}x${src} does not pool to ${side}x${side}`);
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < src; y++) for (let x = 0; x < src; x++) { const v = ink[y * src + x]; mass += v; mx += v * x; my += v * y; }
  const dx = mass > 0 ? Math.round((src - 1) / 2 - mx / mass) : 0, dy = mass > 0 ? Math.round((src - 1) / 2 - my / mass) : 0;
  const f = src / side;
  const out = new Float32Array(side * side);
  for (let r = 0; r < side; r++)
    for (let c = 0; c < side; c++) {
      let sum = 0;
      for (let yy = 0; yy < f; yy++)
        for (let xx = 0; xx < f; xx++) {
          const y = r * f + yy - dy, x = c * f + xx - dx;
          if (y >= 0 && y < src && x >= 0 && x < src) sum += ink[y * src + x];
        }
      out[r * side + c] = raw ? sum / (f * f) : (sum / (f * f) - MNIST_MEAN) / MNIST_STD;
    }
  return out;
}

/** A model input (normalised) back to ink 0..1 for drawing it. */
export function inputToInk(v: number): number {
  return Math.min(1, Math.max(0, v * MNIST_STD + MNIST_MEAN));
}

/** A model input back to ink 0..1: raw inputs (data.pixels = "raw") are ink already. */
export function inkOf(v: number, raw: boolean): number {
  return raw ? Math.min(1, Math.max(0, v)) : inputToInk(v);
}
