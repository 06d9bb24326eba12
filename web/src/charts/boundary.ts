// The mlp's decision boundary over the data square, with the training points (white rim) and the
// test points (dark rim) on top, in the manner of TensorFlow Playground's output picture.
import { BOUNDARY_LUT, CLASS_COLORS } from './colors';

export interface Points { xTrain: Float32Array; yTrain: Int32Array; xTest: Float32Array; yTest: Int32Array }

/** A point of the plane and the network's P(class 1) there (null before the first grid). */
export interface BoundaryHit { x1: number; x2: number; p: number | null }

/**
 * The plane's point under (x, y) CSS px of a `size` px square over [-extent, extent]^2 (x2 up), and
 * P(class 1) of the grid cell that contains it (the grid's row 0 is the top, y = extent).
 */
export function boundaryHit(grid: Float32Array | null, res: number, size: number, extent: number, x: number, y: number): BoundaryHit | null {
  if (!(x >= 0 && x < size && y >= 0 && y < size)) return null;
  const x1 = -extent + (x / size) * 2 * extent, x2 = extent - (y / size) * 2 * extent;
  if (!grid || res <= 0 || grid.length < res * res) return { x1, x2, p: null };
  const col = Math.min(res - 1, Math.floor((x / size) * res)), row = Math.min(res - 1, Math.floor((y / size) * res));
  return { x1, x2, p: grid[row * res + col] };
}

export class Boundary {
  readonly canvas: HTMLCanvasElement;
  private off = document.createElement('canvas');
  private dots = document.createElement('canvas');   // the data points, drawn once per size / data / toggle
  private dotsKey = '';
  private points: Points | null = null;
  grid: Float32Array | null = null;
  private res = 0;
  showTest = true;

  constructor(el: HTMLElement, private size: number, private extent = 1.5, private title = '') {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'boundary';
    el.appendChild(this.canvas);
    this.setSize(size);
  }

  setSize(size: number): void {
    const dpr = window.devicePixelRatio || 1;
    this.size = size;
    this.canvas.width = Math.round(size * dpr);
    this.canvas.height = Math.round(size * dpr);
    this.canvas.style.width = `${size}px`;
    this.canvas.style.height = `${size}px`;
    this.draw();
  }

  reset(points: Points | null, title = this.title): void {
    this.points = points;
    this.dotsKey = '';
    this.grid = null;
    this.title = title;
    this.draw();
  }

  setGrid(grid: Float32Array | null, res: number): void {
    this.grid = grid;
    this.res = res;
    this.draw();
  }

  destroy(): void { this.canvas.remove(); }

  /** What lies under (x, y), CSS px from the canvas's corner. */
  hit(x: number, y: number): BoundaryHit | null {
    return boundaryHit(this.grid, this.res, this.size, this.extent, x, y);
  }

  /** The picture's edge: the data square's extent (for axes drawn around an exported copy). */
  get range(): number { return this.extent; }

  draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const ctx = this.canvas.getContext('2d')!;
    const S = this.size;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#f5f5f5';
    ctx.fillRect(0, 0, S, S);
    if (this.grid && this.res > 0 && this.grid.length >= this.res * this.res) {
      const r = this.res;
      if (this.off.width !== r) { this.off.width = r; this.off.height = r; }
      const octx = this.off.getContext('2d')!;
      const img = octx.createImageData(r, r);
      for (let i = 0; i < r * r; i++) {
        const p = this.grid[i];
        const k = Number.isFinite(p) ? Math.round(Math.min(1, Math.max(0, p)) * 255) * 4 : 0;
        img.data[i * 4] = BOUNDARY_LUT[k];
        img.data[i * 4 + 1] = BOUNDARY_LUT[k + 1];
        img.data[i * 4 + 2] = BOUNDARY_LUT[k + 2];
        img.data[i * 4 + 3] = Number.isFinite(p) ? 255 : 60;
      }
      octx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.globalAlpha = 0.85;
      ctx.drawImage(this.off, 0, 0, S, S);
      ctx.globalAlpha = 1;
    }
    const key = `${S}|${dpr}|${this.showTest}|${this.points ? this.points.yTrain.length : 0}`;
    if (key !== this.dotsKey) {
      this.dotsKey = key;
      this.paintDots(S, dpr);
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.dots, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (this.title) {
      ctx.font = '12px system-ui, sans-serif';
      ctx.fillStyle = 'rgba(255,255,255,0.8)';
      const w = ctx.measureText(this.title).width;
      ctx.fillRect(4, 4, w + 8, 18);
      ctx.fillStyle = '#222';
      ctx.fillText(this.title, 8, 17);
    }
  }

  private paintDots(S: number, dpr: number): void {
    this.dots.width = Math.round(S * dpr);
    this.dots.height = Math.round(S * dpr);
    const ctx = this.dots.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const toPx = (v: number) => ((v + this.extent) / (2 * this.extent)) * S;
    const dot = (xs: Float32Array, ys: Int32Array, rim: string) => {
      const rad = Math.max(2, S / 110);
      ctx.lineWidth = 1;
      ctx.strokeStyle = rim;
      for (let i = 0; i < ys.length; i++) {
        const c = ys[i] === 1 ? CLASS_COLORS.one : CLASS_COLORS.zero;
        ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
        ctx.beginPath();
        ctx.arc(toPx(xs[2 * i]), S - toPx(xs[2 * i + 1]), rad, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    };
    if (this.points) {
      dot(this.points.xTrain, this.points.yTrain, '#fff');
      if (this.showTest) dot(this.points.xTest, this.points.yTest, '#222');
    }
  }
}
