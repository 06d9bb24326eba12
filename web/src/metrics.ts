// What one run has reported so far: every step's scalars, evaluations, and the per-block series
// (kept at full resolution up to a cap, then merged in pairs so long runs stay small).
import type { EvalStats, StepStats } from './engine/types';

/** A growable Float64Array. */
export class Series {
  data = new Float64Array(1024);
  length = 0;
  /** Counts clear()s, so that a cache over the values (chartData.ts LossSums) knows they were replaced. */
  epoch = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  last(): number { return this.length ? this.data[this.length - 1] : NaN; }
  view(): Float64Array { return this.data.subarray(0, this.length); }
  clear(): void { this.length = 0; this.epoch++; }
}

/**
 * Per-block values over time: columns of `depth` floats. Each column is the mean over `span`
 * consecutive steps ending at `endStep`. When `cap` columns are full, neighbours merge in pairs
 * and every later column covers twice as many steps.
 */
export class BlockSeries {
  readonly depth: number;
  readonly cap: number;
  data: Float32Array;
  endStep: number[] = [];
  span: number[] = [];
  stride = 1;                 // steps per new column
  private acc: Float64Array;  // the column being filled
  private accN = 0;
  latest: Float32Array;       // the last step's values, exactly
  /** log10 of the smallest and largest positive finite value stored so far (the heatmap's colour scale). */
  logMin = Infinity;
  logMax = -Infinity;

  constructor(depth: number, cap = 4096) {
    this.depth = depth;
    this.cap = cap;
    this.data = new Float32Array(cap * depth);
    this.acc = new Float64Array(depth);
    this.latest = new Float32Array(depth);
  }
  get columns(): number { return this.endStep.length; }

  push(step: number, v: ArrayLike<number>): void {
    const d = this.depth;
    for (let b = 0; b < d; b++) {
      const x = b < v.length ? v[b] : NaN;
      this.acc[b] += x;
      this.latest[b] = x;
    }
    if (++this.accN < this.stride) return;
    if (this.columns === this.cap) {
      this.halve();
      if (this.accN < this.stride) return;  // keep filling: columns now cover `stride` steps
    }
    const c = this.columns;
    for (let b = 0; b < d; b++) {
      const v = this.acc[b] / this.accN;
      this.data[c * d + b] = v;
      if (v > 0 && v < Infinity) {
        const l = Math.log10(v);
        if (l < this.logMin) this.logMin = l;
        if (l > this.logMax) this.logMax = l;
      }
    }
    this.endStep.push(step);
    this.span.push(this.accN);
    this.acc.fill(0);
    this.accN = 0;
  }

  column(c: number): Float32Array { return this.data.subarray(c * this.depth, (c + 1) * this.depth); }

  private halve(): void {
    const d = this.depth, n = this.columns, half = Math.floor(n / 2);
    for (let c = 0; c < half; c++) {
      const a = 2 * c, b = 2 * c + 1, sa = this.span[a], sb = this.span[b];
      for (let k = 0; k < d; k++) this.data[c * d + k] = (this.data[a * d + k] * sa + this.data[b * d + k] * sb) / (sa + sb);
      this.endStep[c] = this.endStep[b];
      this.span[c] = sa + sb;
    }
    this.endStep.length = half;
    this.span.length = half;
    this.stride *= 2;
  }
}

export class RunMetrics {
  readonly depth: number;
  readonly heads: number;
  step = new Series();
  loss = new Series();
  lr = new Series();
  gradNorm = new Series();
  ms = new Series();
  evals: EvalStats[] = [];
  gradBlocks: BlockSeries;
  rmsBlocks: BlockSeries;
  updBlocks: BlockSeries;
  attnEntropy: Float32Array = new Float32Array(0);
  diverged: { step: number; message: string } | null = null;
  /** The step the run started from (a loaded checkpoint's step; 0 for a fresh run). */
  offset = 0;

  constructor(depth: number, heads = 0, cap = 4096) {
    this.depth = depth;
    this.heads = heads;
    this.gradBlocks = new BlockSeries(depth, cap);
    this.rmsBlocks = new BlockSeries(depth, cap);
    this.updBlocks = new BlockSeries(depth, cap);
  }

  get steps(): number { return this.step.length ? this.step.last() : this.offset; }

  add(batch: readonly StepStats[]): void {
    for (const s of batch) {
      this.step.push(s.step);
      this.loss.push(s.loss);
      this.lr.push(s.lr);
      this.gradNorm.push(s.gradNorm);
      this.ms.push(s.ms);
      this.gradBlocks.push(s.step, s.blockGradNorm);
      this.rmsBlocks.push(s.step, s.blockActRms);
      this.updBlocks.push(s.step, s.updateRatio);
      if (s.attnEntropy && s.attnEntropy.length) this.attnEntropy = Float32Array.from(s.attnEntropy);
      if (s.diverged && !this.diverged) this.diverged = { step: s.step, message: s.divergence };
    }
  }

  addEval(e: EvalStats): void {
    // One entry per step: a repeated evaluation (e.g. at the end) replaces the earlier one.
    const i = this.evals.findIndex((x) => x.step === e.step);
    if (i >= 0) this.evals[i] = e;
    else this.evals.push(e);
  }

  /** Mean ms/step over the last n steps (the engine's own timing of the step). */
  recentMs(n = 50): number {
    const k = Math.min(n, this.ms.length);
    if (!k) return NaN;
    let s = 0;
    for (let i = this.ms.length - k; i < this.ms.length; i++) s += this.ms.data[i];
    return s / k;
  }
}
