// Attention maps of one layer: a strip of small maps (one per head, click to choose) and the chosen
// head large, query characters down the side and key characters along the top.
import { BLUES_LUT } from './colors';

export interface AttentionData { heads: number; T: number; data: Float32Array; text: string; layer: number }

export class AttentionView {
  readonly canvas: HTMLCanvasElement;
  private off = document.createElement('canvas');
  private a: AttentionData | null = null;
  head = 0;
  private thumbBoxes: { x: number; y: number; s: number; h: number }[] = [];

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
    const h = w + 44;
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
    // big map
    const top = ts + 14, left = 16, side = Math.min(W - left - 4, H - top - 4);
    ctx.drawImage(this.paintHead(this.head), left, top + 10, side - 10, side - 10);
    const cell = (side - 10) / T;
    if (cell >= 7) {
      ctx.font = `${Math.min(11, cell)}px ui-monospace, monospace`;
      ctx.textAlign = 'center';
      for (let i = 0; i < T; i++) {
        const ch = text[i] === '\n' ? '⏎' : text[i] === ' ' ? '·' : text[i];
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

  destroy(): void { this.canvas.remove(); }
}
