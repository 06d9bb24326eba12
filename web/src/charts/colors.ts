// Colours shared by the charts: one per run, the two classes of the 2-D data, and the perceptual
// colour maps (a viridis-like ramp for magnitudes, white-to-blue for attention).
export const RUN_COLORS = ['#2563eb', '#dc2626', '#059669', '#9333ea'] as const;
export const CLASS_COLORS = { zero: [245, 147, 34], one: [8, 119, 189] } as const;  // orange / blue

type RGB = [number, number, number];

// Control points of a viridis-like ramp (dark purple -> blue -> green -> yellow).
const VIRIDIS: RGB[] = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37],
];

function ramp(stops: RGB[], t: number): RGB {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** 256-entry lookup table (RGBA bytes) for a ramp, so per-pixel colouring is one index. */
function lut(stops: RGB[]): Uint8ClampedArray {
  const out = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = ramp(stops, i / 255);
    out.set([r, g, b, 255], i * 4);
  }
  return out;
}

export const VIRIDIS_LUT = lut(VIRIDIS);
export const BLUES_LUT = lut([[255, 255, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]]);
/** Diverging orange - white - blue, for P(class 1) of the decision boundary. */
export const BOUNDARY_LUT = lut([[245, 147, 34], [250, 200, 140], [245, 245, 245], [140, 190, 225], [8, 119, 189]]);

export function lutCss(table: Uint8ClampedArray, t: number): string {
  const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 4;
  return `rgb(${table[i]},${table[i + 1]},${table[i + 2]})`;
}

/** Values that a log axis can draw (positive and finite), others as gaps. */
export function logSafe(v: number): number | null {
  return Number.isFinite(v) && v > 0 ? v : null;
}

/** Imported training logs (runlog.ts), drawn beside the runs: greys and browns, apart from the runs' colours. */
export const LOG_COLORS = ['#5f6b7a', '#8d6e63', '#3f7f5f', '#7a5c8f'] as const;
