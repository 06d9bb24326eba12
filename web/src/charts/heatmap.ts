// Blocks x time heatmap on a canvas: one row per residual block (block 1 at the top), one column per
// recorded step, colour = log10 of the value. Vanishing gradients show as rows fading to dark; an
// exactly-zero value (a dead block) is black, a non-finite one red, and no data yet light grey.
import type { BlockSeries } from '../metrics';
import { VIRIDIS_LUT, lutCss } from './colors';

const M = { left: 46, right: 58, top: 8, bottom: 34 };
/** Cell colours outside the colour scale (RGBA). Black is below every colour of the ramp. */
export const ZERO_RGBA = [0, 0, 0, 255] as const;
export const NONFINITE_RGBA = [230, 30, 30, 255] as const;

export interface HeatmapLabels { block: string; step: string; first: string; last: string }

/** What a point of the map shows: block (1-based), the column's last step and span, its value. */
export interface HeatHit { block: number; endStep: number; span: number; value: number }

/**
 * The cell under (x, y) CSS px of a map `w` x `h` px showing `s` over steps 0..horizon, as drawn:
 * the columns fill the width up to the last recorded step, one row per block. Null off the cells.
 * `cols` is how many columns the picture had when drawn: the series grows between frames, and a
 * read-out must describe the cell on screen, not one that will appear at the next frame.
 */
export function heatHit(s: BlockSeries | null, horizon: number, w: number, h: number, x: number, y: number,
  cols = s ? s.columns : 0): HeatHit | null {
  cols = Math.min(cols, s ? s.columns : 0);
  if (!s || cols === 0) return null;
  const pw = w - M.left - M.right, ph = h - M.top - M.bottom;
  const fracW = Math.min(1, s.endStep[cols - 1] / Math.max(1, horizon));
  const fx = (x - M.left) / (pw * fracW), fy = (y - M.top) / ph;
  if (!(fx >= 0 && fx < 1 && fy >= 0 && fy < 1)) return null;
  const c = Math.min(cols - 1, Math.floor(fx * cols));
  const b = Math.min(s.depth - 1, Math.floor(fy * s.depth));
  return { block: b + 1, endStep: s.endStep[c], span: s.span[c], value: s.column(c)[b] };
}

/** log10 range over several series (so side-by-side maps share one colour scale). */
export function logRange(series: readonly BlockSeries[], maxDecades = 14): { lo: number; hi: number } {
  let lo = Infinity, hi = -Infinity;
  for (const s of series) {
    lo = Math.min(lo, s.logMin);
    hi = Math.max(hi, s.logMax);
  }
  if (!Number.isFinite(lo)) return { lo: -3, hi: 0 };
  if (hi - lo < 0.5) { const m = (hi + lo) / 2; lo = m - 0.25; hi = m + 0.25; }
  if (hi - lo > maxDecades) lo = hi - maxDecades;
  return { lo, hi };
}

export class Heatmap {
  readonly canvas: HTMLCanvasElement;
  private off = document.createElement('canvas');
  private ro: ResizeObserver;
  private cssW = 300;
  private elW = 0;
  private dirty = true;
  private last: { s: BlockSeries | null; range: { lo: number; hi: number }; horizon: number; mark: number | null } =
    { s: null, range: { lo: -3, hi: 0 }, horizon: 1, mark: null };

  constructor(private el: HTMLElement, private height: number, private labels: HeatmapLabels, private title = '') {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'heatmap';
    this.canvas.setAttribute('role', 'img');
    this.canvas.style.height = `${height}px`;
    el.appendChild(this.canvas);
    // The width comes from the observer, so drawing never forces a layout.
    this.ro = new ResizeObserver((es) => {
      const w = Math.floor(es[es.length - 1].contentRect.width);
      if (w > 0 && w !== this.elW) { this.elW = w; this.dirty = true; this.redraw(); }
    });
    this.ro.observe(el);
  }

  setLabels(l: HeatmapLabels, title = this.title): void {
    if (l.block === this.labels.block && l.step === this.labels.step && l.first === this.labels.first && l.last === this.labels.last && title === this.title) return;
    this.labels = l;
    this.title = title;
    this.redraw();
  }

  /** What the picture shows, in words (for screen readers). */
  setDescription(text: string): void {
    if (this.canvas.getAttribute('aria-label') !== text) this.canvas.setAttribute('aria-label', text);
  }

  /** Draws `s` with step 0..horizon across the width and the colour scale `range` (log10); false if nothing changed. */
  draw(s: BlockSeries | null, range: { lo: number; hi: number }, horizon: number, divergedAt: number | null = null): boolean {
    const key = `${s ? s.columns : -1}|${s ? s.endStep[s.columns - 1] : 0}|${range.lo}|${range.hi}|${horizon}|${divergedAt}`;
    if (key === this.key && s === this.last.s) return false;  // nothing new to show
    this.key = key;
    this.last = { s, range, horizon, mark: divergedAt };
    this.redraw();
    return true;
  }
  private key = '';
  private bar: HTMLCanvasElement | null = null;

  destroy(): void { this.ro.disconnect(); this.canvas.remove(); }

  /** The cell under (x, y), CSS px from the canvas's corner, as last drawn. */
  hit(x: number, y: number): HeatHit | null {
    return heatHit(this.last.s, this.last.horizon, this.cssW, this.height, x, y, this.drawnCols);
  }
  /** Columns of the series in the picture now (set by redraw). */
  private drawnCols = 0;

  private redraw(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(160, this.elW || 300);
    if (w !== this.cssW || this.dirty) {
      this.cssW = w;
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(this.height * dpr);
      this.canvas.style.width = `${w}px`;
      this.dirty = false;
    }
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, this.height);
    const pw = w - M.left - M.right, ph = this.height - M.top - M.bottom;
    const { s, range, horizon, mark } = this.last;
    ctx.fillStyle = '#f3f4f6';
    ctx.fillRect(M.left, M.top, pw, ph);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#444';
    if (this.title) { ctx.textAlign = 'left'; ctx.fillText(this.title, M.left + 4, M.top + 12); }
    let zeros = false, nonFinite = false;
    this.drawnCols = s ? s.columns : 0;
    if (s && s.columns > 0) {
      const cols = s.columns, d = s.depth;
      const lastStep = s.endStep[cols - 1];
      const fracW = Math.min(1, lastStep / Math.max(1, horizon));
      const outCols = Math.max(1, Math.min(cols, Math.round(pw * dpr * fracW)));
      if (this.off.width !== outCols || this.off.height !== d) { this.off.width = outCols; this.off.height = d; }
      const octx = this.off.getContext('2d')!;
      const img = octx.createImageData(outCols, d);
      const span = range.hi - range.lo || 1;
      for (let j = 0; j < outCols; j++) {
        const c = Math.min(cols - 1, Math.floor(((j + 0.5) * cols) / outCols));
        const col = s.column(c);
        for (let b = 0; b < d; b++) {
          const v = col[b];
          const o = (b * outCols + j) * 4;
          if (!(v > 0) || !Number.isFinite(v)) {
            // zero (a dead block: no gradient at all) black, NaN or Inf red; light grey stays "no data"
            if (Number.isFinite(v)) { img.data.set(ZERO_RGBA, o); zeros = true; }
            else { img.data.set(NONFINITE_RGBA, o); nonFinite = true; }
            continue;
          }
          const t = (Math.log10(v) - range.lo) / span;
          const k = Math.round(Math.min(1, Math.max(0, t)) * 255) * 4;
          img.data[o] = VIRIDIS_LUT[k]; img.data[o + 1] = VIRIDIS_LUT[k + 1]; img.data[o + 2] = VIRIDIS_LUT[k + 2]; img.data[o + 3] = 255;
        }
      }
      octx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.off, M.left, M.top, pw * fracW, ph);
    }
    if (mark !== null && horizon > 0) {
      const x = M.left + (pw * mark) / horizon;
      ctx.strokeStyle = '#e11d48';
      ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(x, M.top); ctx.lineTo(x, M.top + ph); ctx.stroke();
    }
    // axes
    ctx.fillStyle = '#444';
    ctx.textAlign = 'right';
    ctx.fillText(this.labels.first, M.left - 4, M.top + 10);
    ctx.fillText(this.labels.last, M.left - 4, M.top + ph);
    ctx.save();
    ctx.translate(12, M.top + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(this.labels.block, 0, 0);
    ctx.restore();
    ctx.textAlign = 'center';
    const ticks = niceTicks(0, horizon, Math.max(2, Math.floor(pw / 70)));
    for (const t of ticks) {
      const x = M.left + (pw * t) / Math.max(1, horizon);
      ctx.fillRect(x, M.top + ph, 1, 3);
      ctx.fillText(String(t), x, M.top + ph + 14);
    }
    ctx.textAlign = 'center';
    ctx.fillText(this.labels.step, M.left + pw / 2, this.height - 2);
    // colour bar
    const bx = M.left + pw + 10, bw = 10;
    if (!this.bar) {
      this.bar = document.createElement('canvas');
      this.bar.width = 1;
      this.bar.height = 256;
      const b = this.bar.getContext('2d')!;
      for (let i = 0; i < 256; i++) { b.fillStyle = lutCss(VIRIDIS_LUT, 1 - i / 255); b.fillRect(0, i, 1, 1); }
    }
    // the colours off the scale, when the picture has them, below a shorter bar
    const extra = ([[zeros, ZERO_RGBA, '0'], [nonFinite, NONFINITE_RGBA, 'NaN']] as const).filter((x) => x[0]);
    const barH = Math.max(20, ph - extra.length * 14);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.bar, bx, M.top, bw, barH);
    ctx.fillStyle = '#444';
    ctx.textAlign = 'left';
    ctx.fillText(fmtPow(range.hi), bx + bw + 3, M.top + 9);
    ctx.fillText(fmtPow(range.lo), bx + bw + 3, M.top + barH);
    extra.forEach(([, rgba, label], k) => {
      const y = M.top + barH + 5 + k * 14;
      ctx.fillStyle = `rgb(${rgba[0]},${rgba[1]},${rgba[2]})`;
      ctx.fillRect(bx, y, bw, 9);
      ctx.fillStyle = '#444';
      ctx.fillText(label, bx + bw + 3, y + 9);
    });
  }
}

export function niceTicks(lo: number, hi: number, n: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / n;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Math.round(t));
  return out;
}

/** 10^x as a short number: 0.2, 3e-5, 40. */
function fmtPow(x: number): string {
  const v = Math.pow(10, x);
  return v >= 1e4 || v < 1e-2 ? v.toExponential(0).replace('e+', 'e') : String(Number(v.toPrecision(1)));
}
