// The cnn's digits view (issue 11): held-out digits with the model's predictions (wrong ones marked),
// the confusion matrix over the whole held-out set, and a pad to draw a digit on with a mouse or a
// finger, with the model's ten class probabilities. Predictions come from the engine's `probs`
// (BatchNorm in eval mode), refreshed at most about once a second while a run trains.
import type { FeatureMaps, ModelInfo } from '../engine/types';
import { BLUES_LUT, VIRIDIS_LUT } from './colors';
import type { At } from './readout';
import { DIGIT_CLASSES, argmaxRows, confusionMatrix, drawingToInput, inkOf, matrixAccuracy } from './digitsMath';

/** What the view needs of a run: its engine (info, probs) and how far it has trained. */
export interface DigitsRun {
  engine?: { info: ModelInfo; probs(images: Float32Array): Promise<Float32Array>; features(image: Float32Array, block: number): Promise<FeatureMaps> } | null;
  metrics?: { steps: number } | null;
  /** The run's flat config: `pix` = 'raw' feeds pixels in 0..1 (data.pixels), not standardised. */
  config?: { pix?: string | number };
}

type T = (key: string, vars?: Record<string, string | number>) => string;

export const GRID_COLS = 12, GRID_ROWS = 6;
const CELL = 30, PAD_CSS = 168, INK_SIDE = 28, CONF_CELL = 22, CONF_AXIS = 18;
const REFRESH_MS = 1000;
const FEAT_MAPS = 16, FEAT_COLS = 4, FEAT_CELL = 44;  // channels shown, in a 4x4 grid of 44 px maps

export class DigitsView {
  readonly grid: HTMLCanvasElement;
  readonly conf: HTMLCanvasElement;
  readonly pad: HTMLCanvasElement;
  readonly summary: HTMLElement;
  readonly feat: HTMLCanvasElement;
  private readonly featNote: HTMLElement;
  private readonly blockSel: HTMLSelectElement;
  private featInput: 'drawn' | number = 0;  // the drawing, or a held-out digit's index
  private maps: FeatureMaps | null = null;
  private featSeq = 0;
  private readonly bars: HTMLElement;
  private readonly predEl: HTMLElement;
  private run = 0;
  // the held-out predictions on screen and what they were computed for
  private probs: Float32Array | null = null;
  private pred: Int32Array | null = null;
  private matrix: Int32Array | null = null;
  private shownKey = '';
  private inflight = false;
  private last = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  // the drawing pad: ink strokes on `pad`, sampled down to INK_SIDE for the model
  private readonly small = document.createElement('canvas');
  private drawn = false;
  private drawSeq = 0;
  private drawTimer: ReturnType<typeof setTimeout> | null = null;
  private destroyed = false;

  constructor(el: HTMLElement, private readonly t: T, private readonly runs: () => readonly DigitsRun[], nRuns: number, first = 0) {
    this.run = first >= 0 && first < nRuns ? first : 0;  // the run shown first (an experiment may open on one that learns)
    const dpr = window.devicePixelRatio || 1;
    const canvas = (w: number, hgt: number, cls: string) => {
      const c = document.createElement('canvas');
      c.className = cls;
      c.width = Math.round(w * dpr); c.height = Math.round(hgt * dpr);
      c.style.width = `${w}px`; c.style.height = `${hgt}px`;
      c.getContext('2d')!.scale(dpr, dpr);
      return c;
    };
    const box = (cls: string, title: string, ...kids: HTMLElement[]) => {
      const d = document.createElement('div');
      d.className = cls;
      const h = document.createElement('h4');
      h.textContent = title;
      d.append(h, ...kids);
      return d;
    };
    this.grid = canvas(GRID_COLS * CELL, GRID_ROWS * CELL, 'rp-digit-grid');
    const confSide = CONF_AXIS + DIGIT_CLASSES * CONF_CELL;
    this.conf = canvas(confSide, confSide, 'rp-digit-conf');
    this.pad = canvas(PAD_CSS, PAD_CSS, 'rp-digit-pad');
    this.pad.style.touchAction = 'none';  // a finger draws instead of scrolling the page
    this.pad.setAttribute('aria-label', t('p.digits.draw_hint'));
    this.small.width = this.small.height = INK_SIDE;
    this.summary = document.createElement('p');
    this.summary.className = 'rp-digit-summary';
    this.summary.dataset.digits = 'summary';
    this.summary.textContent = t('p.digits.wait');
    this.predEl = document.createElement('p');
    this.predEl.className = 'rp-digit-pred';
    this.predEl.textContent = t('p.digits.draw_hint');
    this.bars = document.createElement('div');
    this.bars.className = 'rp-digit-bars';
    this.bars.dataset.digits = 'probs';
    for (let d = 0; d < DIGIT_CLASSES; d++) {
      const row = document.createElement('div');
      row.className = 'rp-digit-bar';
      row.dataset.class = String(d);
      const lab = document.createElement('span'); lab.textContent = String(d);
      const bar = document.createElement('span'); bar.className = 'rp-bar'; bar.style.width = '0%';
      const val = document.createElement('span'); val.className = 'rp-val'; val.textContent = '–';
      row.append(lab, bar, val);
      this.bars.append(row);
    }
    const clearBtn = document.createElement('button');
    clearBtn.type = 'button';
    clearBtn.className = 'rp-btn rp-small';
    clearBtn.dataset.action = 'clear-digit';
    clearBtn.textContent = t('p.digits.clear');
    clearBtn.addEventListener('click', () => this.clearPad());
    const head = document.createElement('div');
    head.className = 'rp-digit-head';
    if (nRuns > 1) {
      const sel = document.createElement('select');
      sel.setAttribute('aria-label', t('p.digits.run'));
      for (let i = 0; i < nRuns; i++) {
        const o = document.createElement('option');
        o.value = String(i); o.textContent = 'ABCD'[i] ?? String(i + 1);
        sel.append(o);
      }
      sel.value = String(this.run);
      sel.addEventListener('change', () => { this.run = Number(sel.value); this.shownKey = ''; this.last = -Infinity; this.update(); void this.predictDrawing(); });
      head.append(sel);
    }
    head.append(this.summary);
    // feature maps of a chosen block for one chosen input (a held-out digit clicked on the grid, or the drawing)
    this.feat = canvas(FEAT_COLS * FEAT_CELL, (FEAT_MAPS / FEAT_COLS) * FEAT_CELL, 'rp-digit-feat');
    this.blockSel = document.createElement('select');
    this.blockSel.setAttribute('aria-label', t('p.digits.block'));
    this.blockSel.dataset.digits = 'block';
    this.blockSel.addEventListener('change', () => void this.refreshFeatures());
    this.featNote = document.createElement('p');
    this.featNote.className = 'rp-digit-featnote';
    this.featNote.dataset.digits = 'features';
    const blockRow = document.createElement('label');
    blockRow.className = 'rp-digit-blockrow';
    blockRow.append(t('p.digits.block'), ' ', this.blockSel);
    this.grid.addEventListener('pointerdown', (e) => {
      const r = this.grid.getBoundingClientRect();
      const k = scaleOf(this.grid, GRID_COLS * CELL);
      const c = Math.floor(((e.clientX - r.left) * k) / CELL), row = Math.floor(((e.clientY - r.top) * k) / CELL);
      const i = row * GRID_COLS + c, n = this.current()?.engine?.info.digits?.y.length ?? 0;
      if (c >= 0 && c < GRID_COLS && row >= 0 && row < GRID_ROWS && i < n) { this.featInput = i; void this.refreshFeatures(); }
    });
    el.append(head, h4wrap('rp-digit-views',
      box('rp-digit-box', t('p.digits.grid'), this.grid),
      box('rp-digit-box', t('p.digits.conf'), this.conf),
      box('rp-digit-box rp-digit-drawbox', t('p.digits.draw'), this.pad, clearBtn, this.predEl, this.bars),
      box('rp-digit-box', t('p.digits.features'), blockRow, this.feat, this.featNote)));
    this.clearPad();
    this.wirePad();
    this.drawGrid();
    this.drawMatrix();
  }

  private current(): DigitsRun | undefined { return this.runs()[this.run]; }
  private raw(): boolean { return this.current()?.config?.pix === 'raw'; }

  /**
   * Called on every frame the page draws: asks the engine for the held-out predictions when the run
   * has moved on (at most once per REFRESH_MS; a timer catches the last step of a run that stopped).
   */
  update(): boolean {
    if (this.destroyed || this.inflight) return false;
    const r = this.current();
    const eng = r?.engine, digits = eng?.info.digits;
    if (!eng || !digits) return false;
    const steps = r.metrics?.steps ?? 0;
    const key = `${this.run}:${steps}:${digits.x.length}`;
    if (key === this.shownKey) return false;
    const wait = this.last + REFRESH_MS - performance.now();
    if (wait > 0) {
      this.timer ??= setTimeout(() => { this.timer = null; this.update(); }, wait + 5);
      return false;
    }
    this.inflight = true;
    this.last = performance.now();
    eng.probs(digits.x).then((p) => {
      this.inflight = false;
      if (this.destroyed || this.current()?.engine !== eng) return;
      this.probs = p;
      this.pred = argmaxRows(p);
      this.matrix = confusionMatrix(digits.y, this.pred);
      this.shownKey = key;
      this.drawGrid();
      this.drawMatrix();
      const acc = matrixAccuracy(this.matrix);
      const right = Math.round(acc * digits.y.length);
      this.summary.textContent = this.t('p.digits.acc', { acc: `${(acc * 100).toFixed(1)}%`, right, n: digits.y.length, step: steps });
      this.summary.dataset.acc = String(acc);
      this.summary.dataset.step = String(steps);
      void this.refreshFeatures();
      this.update();  // the run may have moved on meanwhile
    }, () => { this.inflight = false; });
    return false;
  }

  private drawGrid(): void {
    const ctx = this.grid.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, GRID_COLS * CELL, GRID_ROWS * CELL);
    const digits = this.current()?.engine?.info.digits;
    if (!digits) return;
    const side = digits.side, n = Math.min(GRID_COLS * GRID_ROWS, digits.y.length);
    const img = new ImageData(side, side);
    const tmp = document.createElement('canvas');
    tmp.width = tmp.height = side;
    const tctx = tmp.getContext('2d')!;
    ctx.imageSmoothingEnabled = false;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < side * side; k++) {
        const v = 255 - Math.round(inkOf(digits.x[i * side * side + k], this.raw()) * 255);
        img.data[4 * k] = img.data[4 * k + 1] = img.data[4 * k + 2] = v;
        img.data[4 * k + 3] = 255;
      }
      tctx.putImageData(img, 0, 0);
      const x = (i % GRID_COLS) * CELL, y = Math.floor(i / GRID_COLS) * CELL;
      ctx.drawImage(tmp, x + 1, y + 1, CELL - 2, CELL - 2);
      if (this.pred) {
        const wrong = this.pred[i] !== digits.y[i];
        ctx.fillStyle = wrong ? '#dc2626' : '#2563eb';
        ctx.fillText(String(this.pred[i]), x + CELL - 8, y + 1);
        if (wrong) { ctx.strokeStyle = '#dc2626'; ctx.lineWidth = 2; ctx.strokeRect(x + 1, y + 1, CELL - 2, CELL - 2); }
      }
    }
  }

  private drawMatrix(): void {
    const ctx = this.conf.getContext('2d')!;
    const side = CONF_AXIS + DIGIT_CLASSES * CONF_CELL;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, side, side);
    ctx.fillStyle = '#555';
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let d = 0; d < DIGIT_CLASSES; d++) {
      ctx.fillText(String(d), CONF_AXIS + (d + 0.5) * CONF_CELL, CONF_AXIS / 2);   // predicted, across
      ctx.fillText(String(d), CONF_AXIS / 2, CONF_AXIS + (d + 0.5) * CONF_CELL);   // true, down
    }
    const m = this.matrix;
    if (!m) return;
    for (let tr = 0; tr < DIGIT_CLASSES; tr++) {
      let row = 0;
      for (let p = 0; p < DIGIT_CLASSES; p++) row += m[tr * DIGIT_CLASSES + p];
      for (let p = 0; p < DIGIT_CLASSES; p++) {
        const v = m[tr * DIGIT_CLASSES + p], frac = row ? v / row : 0;
        // the diagonal in blues by its share of the row; errors in reds, scaled up so a few show
        const x = CONF_AXIS + p * CONF_CELL, y = CONF_AXIS + tr * CONF_CELL;
        if (tr === p) {
          const i = Math.round(frac * 255) * 4;
          ctx.fillStyle = `rgb(${BLUES_LUT[i]},${BLUES_LUT[i + 1]},${BLUES_LUT[i + 2]})`;
        } else {
          const a = v ? Math.min(1, 0.15 + frac * 8) : 0;
          ctx.fillStyle = `rgba(220,38,38,${a})`;
        }
        ctx.fillRect(x + 0.5, y + 0.5, CONF_CELL - 1, CONF_CELL - 1);
        if (v) {
          ctx.fillStyle = tr === p && frac > 0.5 ? '#fff' : '#111';
          ctx.fillText(String(v), x + CONF_CELL / 2, y + CONF_CELL / 2);
        }
      }
    }
  }

  /** The held-out digit under a point of the grid: its index, label, prediction and probability. */
  gridReadout(at: At): string | null {
    const digits = this.current()?.engine?.info.digits;
    const k = scaleOf(this.grid, GRID_COLS * CELL);  // the canvas may be shown narrower than drawn (phones)
    const c = Math.floor((at.x * k) / CELL), r = Math.floor((at.y * k) / CELL);
    if (!digits || c < 0 || c >= GRID_COLS || r < 0 || r >= GRID_ROWS) return null;
    const i = r * GRID_COLS + c;
    if (i >= digits.y.length) return null;
    if (!this.pred || !this.probs) return this.t('ro.digit_none', { i: i + 1, y: digits.y[i] });
    const p = this.pred[i];
    return this.t(p === digits.y[i] ? 'ro.digit' : 'ro.digit_wrong', { i: i + 1, y: digits.y[i], p, pp: this.probs[i * DIGIT_CLASSES + p].toFixed(3) });
  }

  /** The confusion-matrix cell under a point: how many digits of one class went to another. */
  confReadout(at: At): string | null {
    const k = scaleOf(this.conf, CONF_AXIS + DIGIT_CLASSES * CONF_CELL);
    const p = Math.floor((at.x * k - CONF_AXIS) / CONF_CELL), tr = Math.floor((at.y * k - CONF_AXIS) / CONF_CELL);
    if (!this.matrix || p < 0 || p >= DIGIT_CLASSES || tr < 0 || tr >= DIGIT_CLASSES) return null;
    let row = 0;
    for (let k = 0; k < DIGIT_CLASSES; k++) row += this.matrix[tr * DIGIT_CLASSES + k];
    const n = this.matrix[tr * DIGIT_CLASSES + p];
    return this.t('ro.conf', { t: tr, p, n, row, pct: row ? `${((100 * n) / row).toFixed(1)}%` : '–' });
  }

  // ---------------------------------------------------------------- feature maps

  /** The maps after the chosen block for the chosen input, asked of the engine (latest request wins). */
  private async refreshFeatures(): Promise<void> {
    const eng = this.current()?.engine, info = eng?.info, digits = info?.digits;
    if (!eng || !info || !digits || this.destroyed) return;
    if (this.blockSel.options.length !== info.depth) {
      const keep = Math.min(Number(this.blockSel.value) || 0, info.depth - 1);
      this.blockSel.replaceChildren(...Array.from({ length: info.depth }, (_, b) => {
        const o = document.createElement('option');
        const per = info.depth / 3;
        o.value = String(b);
        o.textContent = this.t('p.digits.block_n', { b: b + 1, s: Math.floor(b / per) + 1 });
        return o;
      }));
      this.blockSel.value = String(keep);
    }
    const side = digits.side;
    const drawn = this.featInput === 'drawn' && this.drawn;
    const i = typeof this.featInput === 'number' ? this.featInput : 0;
    const image = drawn ? drawingToInput(this.ink(), INK_SIDE, side, this.raw()) : digits.x.slice(i * side * side, (i + 1) * side * side);
    const block = Number(this.blockSel.value);
    const seq = ++this.featSeq;
    let f: FeatureMaps;
    try { f = await eng.features(image, block); } catch { return; }
    if (seq !== this.featSeq || this.destroyed) return;
    this.maps = f;
    this.drawFeatures();
    this.featNote.textContent = this.t('p.digits.features_of', {
      what: drawn ? this.t('p.digits.input_drawn') : this.t('p.digits.input_heldout', { i: i + 1, y: digits.y[i] }),
      shown: Math.min(FEAT_MAPS, f.channels), c: f.channels, h: f.h,
    });
    this.featNote.dataset.channels = String(f.channels);
    this.featNote.dataset.h = String(f.h);
    this.featNote.dataset.block = String(block);
  }

  private drawFeatures(): void {
    const ctx = this.feat.getContext('2d')!;
    const W = FEAT_COLS * FEAT_CELL, H = (FEAT_MAPS / FEAT_COLS) * FEAT_CELL;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    const f = this.maps;
    if (!f) return;
    const hw = f.h * f.h, img = new ImageData(f.h, f.h);
    const tmp = document.createElement('canvas');
    tmp.width = tmp.height = f.h;
    const tctx = tmp.getContext('2d')!;
    ctx.imageSmoothingEnabled = false;
    for (let c = 0; c < Math.min(FEAT_MAPS, f.channels); c++) {
      // each map on its own scale (min..max of the channel), viridis
      let lo = Infinity, hi = -Infinity;
      for (let k = 0; k < hw; k++) { const v = f.data[c * hw + k]; if (v < lo) lo = v; if (v > hi) hi = v; }
      const span = hi > lo ? hi - lo : 1;
      for (let k = 0; k < hw; k++) {
        const j = Math.round(((f.data[c * hw + k] - lo) / span) * 255) * 4;
        img.data[4 * k] = VIRIDIS_LUT[j]; img.data[4 * k + 1] = VIRIDIS_LUT[j + 1]; img.data[4 * k + 2] = VIRIDIS_LUT[j + 2]; img.data[4 * k + 3] = 255;
      }
      tctx.putImageData(img, 0, 0);
      ctx.drawImage(tmp, (c % FEAT_COLS) * FEAT_CELL + 1, Math.floor(c / FEAT_COLS) * FEAT_CELL + 1, FEAT_CELL - 2, FEAT_CELL - 2);
    }
  }

  /** The feature-map value under a point: channel, position and value. */
  featReadout(at: At): string | null {
    const f = this.maps;
    if (!f) return null;
    const k = scaleOf(this.feat, FEAT_COLS * FEAT_CELL);
    const x = at.x * k, y = at.y * k;
    const c = Math.floor(y / FEAT_CELL) * FEAT_COLS + Math.floor(x / FEAT_CELL);
    if (x < 0 || y < 0 || Math.floor(x / FEAT_CELL) >= FEAT_COLS || c >= Math.min(FEAT_MAPS, f.channels)) return null;
    const col = Math.min(f.h - 1, Math.floor(((x % FEAT_CELL) / FEAT_CELL) * f.h)), row = Math.min(f.h - 1, Math.floor(((y % FEAT_CELL) / FEAT_CELL) * f.h));
    return this.t('ro.feature', { c: c + 1, n: f.channels, r: row + 1, col: col + 1, v: f.data[c * f.h * f.h + row * f.h + col].toPrecision(3) });
  }

  // ---------------------------------------------------------------- the drawing pad

  private clearPad(): void {
    const ctx = this.pad.getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, PAD_CSS, PAD_CSS);
    this.drawn = false;
    this.drawSeq++;
    this.predEl.textContent = this.t('p.digits.draw_hint');
    delete this.bars.dataset.sum;
    for (const row of this.bars.children) {
      (row.children[1] as HTMLElement).style.width = '0%';
      row.children[2].textContent = '–';
      delete (row as HTMLElement).dataset.p;
      row.classList.remove('top');
    }
  }

  private wirePad(): void {
    let down: { x: number; y: number } | null = null;
    const at = (e: PointerEvent) => {
      const r = this.pad.getBoundingClientRect();
      return { x: ((e.clientX - r.left) / r.width) * PAD_CSS, y: ((e.clientY - r.top) / r.height) * PAD_CSS };
    };
    const stroke = (a: { x: number; y: number }, b: { x: number; y: number }) => {
      const ctx = this.pad.getContext('2d')!;
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = PAD_CSS / 10;  // about MNIST's stroke: ~2.8 of 28 pixels
      ctx.lineCap = ctx.lineJoin = 'round';
      ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x + 0.01, b.y); ctx.stroke();
      this.drawn = true;
    };
    this.pad.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      this.pad.setPointerCapture?.(e.pointerId);
      down = at(e);
      stroke(down, down);
      this.schedulePredict(120);
    });
    this.pad.addEventListener('pointermove', (e) => {
      if (!down) return;
      const p = at(e);
      stroke(down, p);
      down = p;
      this.schedulePredict(120);
    });
    const up = () => { if (down) { down = null; this.schedulePredict(0); } };
    this.pad.addEventListener('pointerup', up);
    this.pad.addEventListener('pointercancel', up);
  }

  private schedulePredict(ms: number): void {
    if (this.drawTimer !== null && ms > 0) return;
    if (this.drawTimer !== null) clearTimeout(this.drawTimer);
    this.drawTimer = setTimeout(() => { this.drawTimer = null; void this.predictDrawing(); }, ms);
  }

  /** The pad's ink, 28x28 in 0..1 (white strokes on black, averaged down). */
  private ink(): Float32Array {
    const ctx = this.small.getContext('2d', { willReadFrequently: true })!;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.clearRect(0, 0, INK_SIDE, INK_SIDE);
    ctx.drawImage(this.pad, 0, 0, INK_SIDE, INK_SIDE);
    const px = ctx.getImageData(0, 0, INK_SIDE, INK_SIDE).data;
    const out = new Float32Array(INK_SIDE * INK_SIDE);
    for (let k = 0; k < out.length; k++) out[k] = px[4 * k] / 255;
    return out;
  }

  private async predictDrawing(): Promise<void> {
    const eng = this.current()?.engine, digits = eng?.info.digits;
    if (!this.drawn || !eng || !digits) return;
    const seq = ++this.drawSeq;
    let p: Float32Array;
    try {
      p = await eng.probs(drawingToInput(this.ink(), INK_SIDE, digits.side, this.raw()));
    } catch { return; }
    if (seq !== this.drawSeq || this.destroyed) return;
    const best = argmaxRows(p)[0];
    let sum = 0;
    this.bars.querySelectorAll<HTMLElement>('.rp-digit-bar').forEach((row, d) => {
      sum += p[d];
      row.dataset.p = String(p[d]);
      (row.children[1] as HTMLElement).style.width = `${(p[d] * 100).toFixed(1)}%`;
      row.children[2].textContent = p[d].toFixed(3);
      row.classList.toggle('top', d === best);
    });
    this.bars.dataset.sum = String(sum);
    this.featInput = 'drawn';
    void this.refreshFeatures();
    this.predEl.textContent = this.t('p.digits.pred', { d: best, p: p[best].toFixed(3) });
    this.predEl.dataset.pred = String(best);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.drawTimer !== null) clearTimeout(this.drawTimer);
  }
}

/** Drawn px per shown px of a canvas laid out `drawn` px wide (1 when not laid out). */
function scaleOf(c: HTMLCanvasElement, drawn: number): number {
  return c.clientWidth > 0 ? drawn / c.clientWidth : 1;
}

function h4wrap(cls: string, ...kids: HTMLElement[]): HTMLElement {
  const d = document.createElement('div');
  d.className = cls;
  d.append(...kids);
  return d;
}
