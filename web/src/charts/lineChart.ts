// A small uPlot wrapper for every line chart on the page (loss over steps, values per block):
// `reset` with the series to draw, `setData` with aligned columns, linear or log y axis.
import uPlot from 'uplot';
import { linearSplits, logSplits } from './ticks';
import { watchPointer, type PointerWatch } from './readout';

export interface SeriesSpec { label: string; color: string; dash?: number[]; width?: number; points?: boolean; pointSize?: number }

export interface LineChartOptions {
  height: number;
  xLabel: string;
  yLabel: string;
  log?: boolean;
  /** x values are integers (block index): draw steps as bars/points rather than time. */
  discreteX?: boolean;
  xFormat?: (v: number) => string;
}

/** What a pointer is over: the x value there (data units) and the nearest data point's index. */
export interface LineHit { x: number; idx: number | null }

export class LineChart {
  private plot: uPlot | null = null;
  /** The pointer's place in the plotting area (CSS px), kept so the read-out follows new data. */
  private probePos: { left: number; top: number } | null = null;
  private watch: PointerWatch;
  /** Called when a pointer moves over the plot, taps it (touch = true) or leaves it (null). */
  onProbe: ((hit: LineHit | null, touch: boolean) => void) | null = null;
  private specs: SeriesSpec[] = [];
  private data: uPlot.AlignedData = [[]];
  private ro: ResizeObserver;
  private width = 300;
  private elW = 0;
  /** Upper limit of the linear y axis (a diverged run's 1e22 should not flatten everything else). */
  private yCap = Infinity;
  /** Values exactly 0 that a log axis cannot draw: black marks along the bottom (`row` stacks runs). */
  private zeros: { x: number; color: string; row: number }[] = [];

  constructor(private el: HTMLElement, private opts: LineChartOptions) {
    this.ro = new ResizeObserver((es) => this.resize(Math.floor(es[es.length - 1].contentRect.width)));
    this.ro.observe(el);
    this.watch = watchPointer(el, (at, touch) => {
      const u = this.plot;
      if (!u) return;
      // the plotting area's offset inside el (axes on the left and top)
      const o = u.over.getBoundingClientRect(), e = el.getBoundingClientRect();
      const left = at.x - (o.left - e.left), top = at.y - (o.top - e.top);
      if (left < 0 || top < 0 || left > o.width || top > o.height) {
        if (!touch) { this.probePos = null; this.onProbe?.(null, false); }
        return;
      }
      this.probePos = { left, top };
      if (touch) u.setCursor({ left, top });
      this.onProbe?.(this.hit(), touch);
    }, () => { this.probePos = null; this.onProbe?.(null, false); });
  }

  /** What the pointer is over now (the data may have moved under it since). */
  hit(): LineHit | null {
    const u = this.plot, p = this.probePos;
    if (!u || !p) return null;
    const x = u.posToVal(p.left, 'x');
    if (!Number.isFinite(x)) return null;
    const xs = u.data[0];
    let idx: number | null = null;
    if (xs && xs.length) {
      const i = u.posToIdx(p.left);
      idx = i >= 0 && i < xs.length ? i : null;
    }
    return { x, idx };
  }

  /** Forgets a pinned (tapped) position. */
  clearProbe(): void { this.probePos = null; }

  private resize(width: number): void {
    if (width <= 0) return;
    this.elW = width;
    const w = Math.max(160, width);
    if (w === this.width && this.plot) return;
    this.width = w;
    this.plot?.setSize({ width: w, height: this.opts.height });
  }

  setLabels(xLabel: string, yLabel: string): void {
    if (xLabel === this.opts.xLabel && yLabel === this.opts.yLabel) return;
    this.opts.xLabel = xLabel;
    this.opts.yLabel = yLabel;
    this.build();
  }

  setLog(on: boolean): void {
    if (!!this.opts.log === on) return;
    this.opts.log = on;
    this.build();
  }

  /** Replaces the series (and clears the data). */
  reset(specs: SeriesSpec[]): void {
    this.specs = specs;
    this.data = [[], ...specs.map(() => [])] as unknown as uPlot.AlignedData;
    this.build();
  }

  /**
   * One y column per series given to `reset`, in order. A caller whose columns and series disagree
   * (runs just added or removed) gets its missing columns as gaps and its extra ones dropped, never
   * an exception from inside uPlot.
   */
  setData(x: ArrayLike<number>, ys: (number | null)[][], yCap = Infinity): void {
    this.yCap = yCap;
    const cols = this.specs.map((_, i) => ys[i] ?? new Array<number | null>(x.length).fill(null));
    this.data = [x as number[], ...cols] as unknown as uPlot.AlignedData;
    if (this.plot) this.plot.setData(this.data);
  }

  /** Marks for exact zeros, drawn with the next setData. */
  setZeros(marks: { x: number; color: string; row: number }[]): void { this.zeros = marks; }
  zeroMarks(): readonly { x: number; color: string; row: number }[] { return this.zeros; }

  private drawZeros(u: uPlot): void {
    if (!this.zeros.length) return;
    const ctx = u.ctx;
    const dpr = devicePixelRatio || 1;
    const size = Math.round(8 * dpr);
    const bottom = u.bbox.top + u.bbox.height;
    ctx.save();
    ctx.lineWidth = Math.max(1, Math.round(1.5 * dpr));
    for (const z of this.zeros) {
      const x = u.valToPos(z.x, 'x', true);
      if (!Number.isFinite(x)) continue;
      const y = bottom - size - z.row * (size + 2 * dpr);
      ctx.fillStyle = '#000';
      ctx.fillRect(x - size / 2, y, size, size);
      ctx.strokeStyle = z.color;
      ctx.strokeRect(x - size / 2, y, size, size);
    }
    ctx.restore();
  }

  /** Whether the y axis is logarithmic. */
  get log(): boolean { return !!this.opts.log; }

  canvas(): HTMLCanvasElement | null { return this.plot ? this.plot.ctx.canvas : null; }
  legend(): SeriesSpec[] { return this.specs; }

  destroy(): void {
    this.ro.disconnect();
    this.watch.detach();
    this.plot?.destroy();
    this.plot = null;
  }

  private build(): void {
    this.plot?.destroy();
    this.width = Math.max(160, this.elW || Math.floor(this.el.clientWidth || 300));
    const o = this.opts;
    const axisStroke = '#555';
    const grid = { stroke: '#e6e6e6', width: 1 };
    const opts: uPlot.Options = {
      width: this.width,
      height: o.height,
      legend: { show: true, live: false },
      hooks: { draw: [(u) => this.drawZeros(u)] },
      cursor: { drag: { x: false, y: false }, points: { size: 5 } },
      scales: {
        x: { time: false },
        y: o.log ? { distr: 3, log: 10 } : {
          auto: true,
          range: (_u, min, max) => {
            const hi = Math.min(max, this.yCap);
            const lo = Math.min(min, hi);
            const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
            return [lo >= 0 && lo - pad < 0 ? 0 : lo - pad, hi + pad];
          },
        },
      },
      axes: [
        { stroke: axisStroke, grid, ticks: grid, label: o.xLabel, labelSize: 18, size: 36, font: '11px system-ui, sans-serif', labelFont: '11px system-ui, sans-serif',
          values: o.xFormat ? (_u, vals) => vals.map((v) => o.xFormat!(v)) : undefined,
          incrs: o.discreteX ? [1, 2, 4, 8, 16, 32, 64, 128] : undefined },
        { stroke: axisStroke, grid, ticks: grid, label: o.yLabel, labelSize: 18, size: 50, font: '11px system-ui, sans-serif', labelFont: '11px system-ui, sans-serif',
          // uPlot's own tick loops never end for some ranges (log below ~1e-6, e.g. a dead network's
          // update ratios of 1e-20; linear steps lost in rounding): "Invalid array length". Ours are bounded.
          splits: o.log ? (_u, _i, min, max) => logSplits(min, max) : (_u, _i, min, max, incr) => linearSplits(min, max, incr),
          values: (_u, vals) => vals.map(fmtTick) },
      ],
      series: [
        { label: o.xLabel },
        ...this.specs.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          dash: s.dash,
          spanGaps: !!s.points,
          // (no points given: uPlot shows them only where the data is sparse, e.g. the first steps)
          points: s.points ? { show: true, size: s.pointSize ?? 8, width: 1, fill: s.color, stroke: '#fff' } : undefined,
        })),
      ],
    };
    this.plot = new uPlot(opts, this.data, this.el);
  }
}

export function fmtTick(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  if (a >= 100) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}
