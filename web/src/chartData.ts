// The pure parts of the page's drawing: the loss chart's series (decimated to bucket means), its
// y-axis cap, an imported log's heatmap and per-block values at a chosen step, and the number formats of the toolbar, notices and axes. Unit-tested in
// tests/web/unit/chartData.test.ts; app.ts only wires them to the DOM.
import { logSafe } from './charts/colors';
import { logRange } from './charts/heatmap';
import type { SeriesSpec } from './charts/lineChart';
import type { BlockSeries, RunMetrics, Series } from './metrics';
import type { RunLog } from './runlog';

/** Most points the loss chart draws per series: beyond it, steps are averaged in buckets. */
export const LOSS_POINTS = 400;

/**
 * The loss chart's data: x = the longest run's steps, in buckets of `stride` steps (at most
 * LOSS_POINTS buckets, each at its last step); per run, the mean finite train loss of each bucket and
 * the validation loss of the evaluation that falls in it (null where there is none). Runs that start
 * later (a loaded checkpoint) are placed by their first step. On a log scale values are made safe
 * for it (logSafe); on a linear one non-finite values become gaps.
 */
export function lossSeries(metrics: readonly (RunMetrics | null)[], logScale: boolean): { x: Float64Array; ys: (number | null)[][]; n: number } {
  const longest = metrics.reduce<RunMetrics | null>((a, m) => (m && (!a || m.step.length > a.step.length) ? m : a), null);
  const n = longest?.step.length ?? 0;
  const stride = Math.max(1, Math.ceil(n / LOSS_POINTS));
  const nb = Math.ceil(n / stride);
  const x = new Float64Array(nb);
  for (let j = 0; j < nb; j++) x[j] = longest!.step.data[Math.min(n - 1, (j + 1) * stride - 1)];
  const x0 = n ? longest!.step.data[0] : 0;
  const ys: (number | null)[][] = [];
  const clean = (v: number) => (logScale ? logSafe(v) : Number.isFinite(v) ? v : null);
  for (const m of metrics) {
    const train: (number | null)[] = new Array(nb).fill(null);
    const val: (number | null)[] = new Array(nb).fill(null);
    if (m && m.step.length) {
      const off = Math.round(m.step.data[0] - x0);
      const sums = lossSums(m.loss);
      for (let j = 0; j < nb; j++) {
        const mean = sums.mean(j * stride - off, (j + 1) * stride - off);
        train[j] = mean === null ? null : clean(mean);
      }
      for (const e of m.evals) {
        const j = Math.min(nb - 1, Math.max(0, Math.floor((e.step - x0) / stride)));
        if (nb) val[j] = clean(e.valLoss);
      }
    }
    ys.push(train, val);
  }
  return { x, ys, n };
}

/**
 * Width (CSS px) of the loss chart's train lines. 1, not more: Skia draws a stroke at most one device
 * pixel wide as an anti-aliased hairline, and a wider one by outlining the path (round joins at every
 * one of ~400 zigzag points) and filling the outline. Measured in headless Chromium (software canvas,
 * four mlp-spiral runs training on a busy 2-core EPYC): the frame's canvas rasterization
 * (LayerTreeHost::DoUpdateLayers) fell from ~4.4 to ~1.4 ms a frame on average going from 1.25 to 1,
 * and the longest main-thread tasks from ~19 to ~11 ms of CPU (bench/web.mjs, README "long tasks").
 */
export const TRAIN_LINE_WIDTH = 1;

/** The loss chart's series for these runs or logs (name '' for a single run): per entry its train line
 *  (thin, a little transparent) then its validation loss (dashed, with points), as lossSeries orders them. */
export function lossSpecs(entries: readonly { name: string; color: string }[], train: string, val: string): SeriesSpec[] {
  return entries.flatMap(({ name, color }) => [
    { label: `${name} ${train}`.trim(), color: `${color}b0`, width: TRAIN_LINE_WIDTH },
    { label: `${name} ${val}`.trim(), color, dash: [6, 4], width: 2.5, points: true },
  ]);
}

/** Steps per block of LossSums. */
export const SUM_BLOCK = 16;

/**
 * The sums and counts of a series' finite values over blocks of SUM_BLOCK, extended as values come in,
 * so that the mean over any index range costs at most 2 * SUM_BLOCK values plus one add per block. The
 * loss chart's bucket means used to run over every step of every run at each redraw (15 a second while
 * training): in Node on this machine 0.5–0.9 ms for four runs of 40k steps, 8–16 ms at 600k; with these
 * sums 0.1–0.3 and 1.2–1.7 ms. Follows the series through clear() (its epoch) and growth (its data array is replaced).
 */
export class LossSums {
  private sum = new Float64Array(64);
  private cnt = new Float64Array(64);
  private full = 0;   // blocks summed
  private epoch: number;

  constructor(private readonly s: Series) { this.epoch = s.epoch; }

  private sync(): void {
    const s = this.s, B = SUM_BLOCK;
    if (s.epoch !== this.epoch || s.length < this.full * B) { this.full = 0; this.epoch = s.epoch; }
    const nf = Math.floor(s.length / B);
    if (nf > this.sum.length) {
      const size = Math.max(nf, this.sum.length * 2);
      const sum = new Float64Array(size), cnt = new Float64Array(size);
      sum.set(this.sum.subarray(0, this.full)); cnt.set(this.cnt.subarray(0, this.full));
      this.sum = sum; this.cnt = cnt;
    }
    const d = s.data;
    for (let b = this.full; b < nf; b++) {
      let sum = 0, cnt = 0;
      for (let i = b * B; i < (b + 1) * B; i++) { const v = d[i]; if (Number.isFinite(v)) { sum += v; cnt++; } }
      this.sum[b] = sum; this.cnt[b] = cnt;
    }
    this.full = nf;
  }

  /** The mean of the finite values at indices [lo, hi) (clipped to the series), or null if there are none. */
  mean(lo: number, hi: number): number | null {
    this.sync();
    const d = this.s.data, B = SUM_BLOCK;
    lo = Math.max(0, lo); hi = Math.min(hi, this.s.length);
    let sum = 0, cnt = 0;
    const b0 = Math.ceil(lo / B), b1 = Math.floor(hi / B);  // hi <= length, so every block below b1 is summed
    // the values before the first whole block (all of them when no whole block is inside), the blocks, the rest
    const head = b1 > b0 ? b0 * B : hi;
    for (let i = lo; i < head; i++) { const v = d[i]; if (Number.isFinite(v)) { sum += v; cnt++; } }
    if (b1 > b0) {
      for (let b = b0; b < b1; b++) { sum += this.sum[b]; cnt += this.cnt[b]; }
      for (let i = b1 * B; i < hi; i++) { const v = d[i]; if (Number.isFinite(v)) { sum += v; cnt++; } }
    }
    return cnt ? sum / cnt : null;
  }
}

const sumsOf = new WeakMap<Series, LossSums>();
function lossSums(s: Series): LossSums {
  let x = sumsOf.get(s);
  if (!x) { x = new LossSums(s); sumsOf.set(s, x); }
  return x;
}

/** A loss with three significant digits (0.693, 2.41, 1.2e+5). */
export function fmtLoss(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(3);
}

/** ms per step with the digits that matter: 0.156, 14.5, 512. */
export function fmtMs(ms: number): string {
  return ms < 10 ? ms.toPrecision(3) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms));
}

/**
 * A y-axis cap for linear loss charts: a few times the typical value, so that a run blowing up to
 * 1e22 leaves the others readable. Values above it are simply cut off at the top.
 */
export function robustCap(ys: (number | null)[][]): number {
  let n = 0;
  for (const y of ys) n += Math.ceil(y.length / Math.max(1, Math.floor(y.length / 500)));
  // A typed array sorts numerically without a comparator call per comparison: this runs at every loss-chart
  // redraw (15 a second while training), where the comparator sort took ~1.5 ms a redraw on a busy machine.
  const all = new Float64Array(n);
  let m = 0;
  for (const y of ys) {
    const step = Math.max(1, Math.floor(y.length / 500));
    for (let i = 0; i < y.length; i += step) { const x = y[i]; if (x !== null && Number.isFinite(x)) all[m++] = x; }
  }
  if (m < 4) return Infinity;
  const v = all.subarray(0, m).sort();
  const p90 = v[Math.floor(v.length * 0.9)];
  const cap = Math.max(3 * p90, v[Math.floor(v.length * 0.5)] * 4);
  return cap >= v[v.length - 1] ? Infinity : cap;
}

/** Where a diverged run blew up: the first block whose activations are huge or not finite, else the largest. */
export function blowupWhere(m: RunMetrics): { block: number; rms: string } | null {
  const rms = m.rmsBlocks.latest;
  let worst = -1;
  for (let b = 0; b < rms.length; b++) {
    if (!(rms[b] < 1e6)) { worst = b; break; }
    if (worst < 0 || rms[b] > rms[worst]) worst = b;
  }
  if (worst < 0) return null;
  const v = rms[worst];
  return { block: worst + 1, rms: Number.isFinite(v) ? v.toExponential(1) : String(v) };
}

/** Block numbers as short ranges: [1, 2, 3, 7] -> "1–3, 7". */
export function blockRanges(blocks: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < blocks.length; i++) {
    let j = i;
    while (j + 1 < blocks.length && blocks[j + 1] === blocks[j] + 1) j++;
    out.push(j > i ? `${blocks[i]}–${blocks[j]}` : String(blocks[i]));
    i = j;
  }
  return out.join(', ');
}

/** The next 1, 2 or 5 times a power of ten at or above x. */
export function niceCeil(x: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/**
 * A per-block series at `step` (null: the last step): the column that holds it, a mean over the
 * steps from..to when columns were merged (metrics.ts keeps at most `cap` columns), else that step's
 * own values; the last step, and the few after the last full column, give the last step's values
 * exactly. A step before the first gives the first column.
 */
export function blocksAt(s: BlockSeries, lastStep: number, step: number | null): { values: Float32Array; from: number; to: number } {
  const n = s.columns;
  if (step === null || step >= lastStep || n === 0 || step > s.endStep[n - 1]) return { values: s.latest, from: lastStep, to: lastStep };
  let lo = 0, hi = n - 1;  // the first column ending at or after `step`
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.endStep[mid] >= step) hi = mid;
    else lo = mid + 1;
  }
  return { values: s.column(lo), from: s.endStep[lo] - s.span[lo] + 1, to: s.endStep[lo] };
}

/** The range of steps the imported logs' per-block values cover, for the step slider (null: none has them). */
export function logStepRange(logs: readonly RunLog[]): { min: number; max: number } | null {
  const have = logs.filter((l) => (l.blocks.grad || l.blocks.rms || l.blocks.update) && l.metrics.step.length);
  if (!have.length) return null;
  return { min: Math.min(...have.map((l) => l.metrics.step.data[0])), max: Math.max(...have.map((l) => l.metrics.steps)) };
}

/**
 * What an imported log's gradient heatmap draws: its per-block gradient norms over its own steps
 * (0..its last step), on the colour scale shared with `others` (the runs' maps), and the step where
 * it diverged. Null for a log without per-block gradient norms.
 */
export function logHeat(log: RunLog, others: readonly BlockSeries[]): { series: BlockSeries; range: { lo: number; hi: number }; horizon: number; mark: number | null } | null {
  const m = log.metrics;
  if (!log.blocks.grad || !m.depth || !m.gradBlocks.columns) return null;
  return { series: m.gradBlocks, range: logRange([...others, m.gradBlocks]), horizon: Math.max(1, m.steps), mark: m.diverged?.step ?? null };
}
