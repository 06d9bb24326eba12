// Axis tick positions for the line charts, computed in bounded loops. uPlot's own split loops do not
// end for some ranges: on a log axis below about 1e-6 (a dead network's update ratios reach 1e-20)
// its rounding sends the tick back to 0 forever, and a linear step lost in rounding never advances;
// either way it pushes until "RangeError: Invalid array length".

/**
 * Tick positions of a log10 axis: powers of ten from min to max (every k-th decade, so at most ~7);
 * where that gives fewer than three, the 1-9 (or 1, 2, 5) multiples inside the range.
 */
export function logSplits(min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) return [];
  const lo = Math.ceil(Math.log10(min) - 1e-9), hi = Math.floor(Math.log10(max) + 1e-9);
  if (hi - lo + 1 >= 3) {
    const every = Math.max(1, Math.ceil((hi - lo + 1) / 7));
    const out: number[] = [];
    for (let e = lo; e <= hi; e += every) out.push(Number(`1e${e}`));
    return out;
  }
  const within = (mults: number[]) => {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)) - 1; e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of mults) {
        const v = Number(`${m}e${e}`);
        if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
      }
    }
    return out;
  };
  const all = within([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (all.length <= 10) return all.length ? all : [min];
  const some = within([1, 2, 5]);
  return some.length <= 10 ? some : within([1]);
}

/** Tick positions of a linear axis: multiples of incr in [min, max], at most 50 of them. */
export function linearSplits(min: number, max: number, incr: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  if (max === min) return [min];
  if (!(incr > 0) || !Number.isFinite(incr) || (max - min) / incr > 50) incr = niceStep((max - min) / 5 || Math.abs(max) || 1);
  const first = Math.ceil(min / incr);
  const out: number[] = [];
  for (let k = 0; k <= 50; k++) {
    const v = (first + k) * incr;
    if (v > max + incr * 1e-9) break;
    const r = Number(v.toPrecision(12));
    if (out.length && r === out[out.length - 1]) break;  // steps lost in rounding
    out.push(r === 0 ? 0 : r);
  }
  return out;
}

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  return ([1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw) ?? 10 * p);
}
