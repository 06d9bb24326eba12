// Attention maps of one layer: a strip of small maps (one per head, click to choose) and the chosen
// head large, query characters down the side and key characters along the top.
import { BLUES_LUT, lutCss } from './colors';

export interface AttentionData { heads: number; T: number; data: Float32Array; text: string; layer: number }

/** A cell of the chosen head's map: query position (row) and key position (column), 0-based, and its weight. */
export interface AttentionHit { head: number; query: number; key: number; qChar: string; kChar: string; weight: number }

/** The colour bar's ticks: weights, placed by their square root like the map's colours. */
export const ATTN_TICKS = [0, 0.05, 0.25, 0.5, 1] as const;

/** A character as the map labels it (newline and space made visible). */
export function showChar(c: string | undefined): string {
  return c === undefined ? '' : c === '\n' ? '⏎' : c === ' ' ? '·' : c;
}

export class AttentionView {
  readonly canvas: HTMLCanvasElement;
  private off = document.createElement('canvas');
  private a: AttentionData | null = null;
  head = 0;
  private thumbBoxes: { x: number; y: number; s: number; h: number }[] = [];
  /** The big map's square on the canvas (CSS px), as last drawn. */
  private mapBox: { x: number; y: number; s: number } | null = null;
  private bar: HTMLCanvasElement | null = null;
  /** The colour bar's caption. */
  weightLabel = 'weight';

  constructor(private el: HTMLElement, private size: number, private onHead: (h: number) => void, private title = '') {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'attention';
    el.appendChild(this.canvas);
    this.canvas.addEventListener('click', (ev) => {
      const r = this.canvas.getBoundingClientRect();
      const x = ev.clientX - r.left, y = ev.clientY - r.top;
      const hit = this.thumbBoxes.find((b) => x >= b.x && x <= b.x + b.s && y >= b.y && y <= b.y + b.s);
      if (hit) this.onHead(hit.h);
    });
    this.resize();
  }

  private thumbs(): number { return this.a ? this.a.heads : 4; }

  resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(200, Math.min(this.size, this.el.clientWidth || this.size));
    const h = w;  // the thumbnails' row (about 50 px) above, the colour bar's column (about 50 px) beside the map
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.draw();
  }

  set(a: AttentionData | null, head: number, title = this.title): void {
    const resize = !this.a || !a || a.heads !== this.a.heads;
    this.a = a;
    this.head = a ? Math.min(head, a.heads - 1) : head;
    this.title = title;
    if (resize) this.resize();
    else this.draw();
  }

  private paintHead(h: number): HTMLCanvasElement {
    const { T, data } = this.a!;
    if (this.off.width !== T) { this.off.width = T; this.off.height = T; }
    const octx = this.off.getContext('2d')!;
    const img = octx.createImageData(T, T);
    const base = h * T * T;
    for (let i = 0; i < T * T; i++) {
      const p = data[base + i];
      // square root so small weights stay visible next to the diagonal's large ones
      const k = Math.round(Math.sqrt(Math.min(1, Math.max(0, Number.isFinite(p) ? p : 0))) * 255) * 4;
      img.data[i * 4] = BLUES_LUT[k]; img.data[i * 4 + 1] = BLUES_LUT[k + 1]; img.data[i * 4 + 2] = BLUES_LUT[k + 2]; img.data[i * 4 + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    return this.off;
  }

  draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const ctx = this.canvas.getContext('2d')!;
    const W = this.canvas.width / dpr, H = this.canvas.height / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#444';
    if (!this.a) { ctx.fillText('…', 8, 20); return; }
    const { heads, T, text } = this.a;
    // thumbnails
    this.thumbBoxes = [];
    const ts = Math.min(36, (W - 8) / heads - 4);
    ctx.imageSmoothingEnabled = false;
    for (let h = 0; h < heads; h++) {
      const x = 4 + h * (ts + 4), y = 4;
      ctx.drawImage(this.paintHead(h), x, y, ts, ts);
      ctx.strokeStyle = h === this.head ? '#dc2626' : '#ccc';
      ctx.lineWidth = h === this.head ? 2 : 1;
      ctx.strokeRect(x, y, ts, ts);
      this.thumbBoxes.push({ x, y, s: ts, h });
    }
    // big map, with its colour bar on the right
    const barSpace = 46;
    const top = ts + 14, left = 16, side = Math.min(W - left - barSpace - 4, H - top - 4);
    ctx.drawImage(this.paintHead(this.head), left, top + 10, side - 10, side - 10);
    this.mapBox = { x: left, y: top + 10, s: side - 10 };
    this.drawBar(ctx, left + side + 2, top + 10, side - 10);
    const cell = (side - 10) / T;
    if (cell >= 7) {
      ctx.font = `${Math.min(11, cell)}px ui-monospace, monospace`;
      ctx.textAlign = 'center';
      for (let i = 0; i < T; i++) {
        const ch = showChar(text[i]);
        ctx.fillText(ch, left + (i + 0.5) * cell, top + 8);
        ctx.fillText(ch, left - 8, top + 10 + (i + 0.8) * cell);
      }
    }
    if (this.title) {
      ctx.textAlign = 'right';
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText(this.title, W - 4, ts / 2 + 8);
    }
  }

  /** A vertical colour bar (weight 1 at the top), ticks at ATTN_TICKS, on the map's square-root scale. */
  private drawBar(ctx: CanvasRenderingContext2D, x: number, y: number, h: number): void {
    if (!this.bar) {
      this.bar = document.createElement('canvas');
      this.bar.width = 1;
      this.bar.height = 256;
      const b = this.bar.getContext('2d')!;
      for (let i = 0; i < 256; i++) { b.fillStyle = lutCss(BLUES_LUT, 1 - i / 255); b.fillRect(0, i, 1, 1); }
    }
    const bw = 10;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.bar, x, y, bw, h);
    ctx.strokeStyle = '#bbb';
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 0.5, y + 0.5, bw - 1, h - 1);
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = '#444';
    ctx.textAlign = 'left';
    for (const t of ATTN_TICKS) {
      const ty = y + h - Math.sqrt(t) * h;
      ctx.fillRect(x + bw, Math.round(ty), 3, 1);
      ctx.fillText(String(t), x + bw + 5, Math.min(y + h, Math.max(y + 8, ty + 3)));
    }
    ctx.save();
    ctx.translate(x + bw + 30, y + h / 2);
    ctx.rotate(Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(this.weightLabel, 0, 0);
    ctx.restore();
  }

  /** The cell of the chosen head's map under (x, y), CSS px from the canvas's corner. */
  hit(x: number, y: number): AttentionHit | null {
    const a = this.a, m = this.mapBox;
    if (!a || !m) return null;
    const fx = (x - m.x) / m.s, fy = (y - m.y) / m.s;
    if (!(fx >= 0 && fx < 1 && fy >= 0 && fy < 1)) return null;
    const q = Math.min(a.T - 1, Math.floor(fy * a.T)), k = Math.min(a.T - 1, Math.floor(fx * a.T));
    return { head: this.head, query: q, key: k, qChar: a.text[q], kChar: a.text[k], weight: a.data[this.head * a.T * a.T + q * a.T + k] };
  }

  destroy(): void { this.canvas.remove(); }
}
