// Your own points for the mlp (issue 10): CSV "x,y,label", the rules of the core's points_from_csv
// (cpp/core/data.cpp), checked on the page so a bad row is named by its line before any engine starts.

export interface Pt { x: number; y: number; label: 0 | 1 }

export const MAX_POINTS = 10000;  // kMaxPoints in cpp/core/data.h
export const MIN_POINTS = 4;      // kMinPoints
export const EXTENT = 1.5;        // kDataExtent: x and y lie in [-1.5, 1.5]

export type PointsProblem =
  | { kind: 'fields'; line: number; n: number }
  | { kind: 'x' | 'y' | 'label'; line: number; value: string }
  | { kind: 'outside'; line: number }
  | { kind: 'toomany'; line: number }
  | { kind: 'few'; n: number };

// A whole field as the core's csv_number reads it: C's strtod over the whole field, finite. strtod
// skips leading C white space, and reads decimal and hexadecimal floats (C99 7.20.1.3: "0x1.8p-1",
// "0x.8", "-0X1P+0"; the binary exponent is optional); "inf" and "nan" parse but are not finite.
// tests/cpp/data/csv_numbers.json holds the inputs both this and the core's test check.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;

/** A number as the core's CSV reader takes it (the value strtod gives, correctly rounded), or null. */
export function parseCoreNumber(field: string): number | null {
  const s = field.replace(/^[ \t\n\v\f\r]+/, '');
  if (DECIMAL.test(s)) return finite(Number(s));
  const m = HEX.exec(s);
  if (!m || !(m[2] + (m[3] ?? '')).length) return null;  // "0x" or "0x." has no digits
  return finite(hexValue(m[1] === '-', m[2], m[3] ?? '', m[4] ? Number(m[4]) : 0));
}
const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** sign × 0x<int>.<frac> × 2^exp, rounded once to the nearest double (as strtod does for normal numbers). */
function hexValue(neg: boolean, int: string, frac: string, exp: number): number {
  let mant = BigInt('0x0' + int + frac);
  let e2 = exp - 4 * frac.length;
  // keep 64 significant bits and a sticky bit for what is dropped: Number() then rounds correctly
  const bits = mant.toString(2).length;
  if (mant > 0n && bits > 64) {
    const drop = BigInt(bits - 64);
    const sticky = (mant & ((1n << drop) - 1n)) !== 0n ? 1n : 0n;
    mant = (mant >> drop) | sticky;
    e2 += bits - 64;
  }
  let v = Number(mant);
  // scale in steps so an intermediate power of two does not overflow or underflow on its own
  while (e2 > 0 && v !== 0 && Number.isFinite(v)) { const k = Math.min(e2, 1000); v *= 2 ** k; e2 -= k; }
  while (e2 < 0 && v !== 0) { const k = Math.max(e2, -1000); v *= 2 ** k; e2 -= k; }
  return neg ? -v : v;
}
const num = parseCoreNumber;

/** Parses CSV text into points, or names the first bad line (1-based, as an editor counts them). */
export function parsePointsCsv(text: string): { points: Pt[] } | { problem: PointsProblem } {
  const points: Pt[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const row = lines[i].replace(/^[ \t]+|[ \t\r]+$/g, '');
    if (!row) continue;
    if (line === 1 && row === 'x,y,label') continue;
    const f = row.split(',').map((s) => s.replace(/^[ \t]+|[ \t\r]+$/g, ''));
    if (f.length !== 3) return { problem: { kind: 'fields', line, n: f.length } };
    const x = num(f[0]), y = num(f[1]), label = num(f[2]);
    if (x === null) return { problem: { kind: 'x', line, value: f[0] } };
    if (y === null) return { problem: { kind: 'y', line, value: f[1] } };
    if (label !== 0 && label !== 1) return { problem: { kind: 'label', line, value: f[2] } };
    if (Math.abs(x) > EXTENT || Math.abs(y) > EXTENT) return { problem: { kind: 'outside', line } };
    if (points.length === MAX_POINTS) return { problem: { kind: 'toomany', line } };
    points.push({ x, y, label });
  }
  if (points.length < MIN_POINTS) return { problem: { kind: 'few', n: points.length } };
  return { points };
}

/** The CSV the core and parsePointsCsv read back exactly (shortest round-trip numbers). */
export function pointsToCsv(points: readonly Pt[]): string {
  return 'x,y,label\n' + points.map((p) => `${p.x},${p.y},${p.label}`).join('\n') + '\n';
}

/** A click at (x1, x2) in the plane with a tool: the new list of points. */
export function editPoints(points: readonly Pt[], tool: 'add0' | 'add1' | 'erase', x1: number, x2: number, radius = 0.1): Pt[] {
  const x = Math.max(-EXTENT, Math.min(EXTENT, Number(x1.toFixed(3))));
  const y = Math.max(-EXTENT, Math.min(EXTENT, Number(x2.toFixed(3))));
  if (tool !== 'erase') return points.length >= MAX_POINTS ? [...points] : [...points, { x, y, label: tool === 'add1' ? 1 : 0 }];
  let best = -1, bestD = radius * radius;
  points.forEach((p, i) => {
    const d = (p.x - x1) ** 2 + (p.y - x2) ** 2;
    if (d <= bestD) { best = i; bestD = d; }
  });
  return best < 0 ? [...points] : points.filter((_, i) => i !== best);
}
