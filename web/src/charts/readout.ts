// Hover read-outs shared by every chart: a pointer over a chart (or a tap, since phones have no
// hover) asks the chart what lies under it, and the panel's read-out line shows the answer. A tap
// pins its read-out until the next tap; a mouse's read-out goes when the mouse leaves.

/** Where a pointer is, in CSS px from the element's top-left corner. */
export interface At { x: number; y: number }

export interface PointerWatch { detach(): void }

/**
 * Watches pointers over `el`. `probe(at, touch)` runs on every move of a mouse or pen and on every
 * press (mouse click or tap); `leave()` when a mouse or pen leaves. Taps are recognised by
 * pointerType, so a touch screen with a mouse attached gets both behaviours.
 */
export function watchPointer(el: HTMLElement, probe: (at: At, touch: boolean) => void, leave: () => void): PointerWatch {
  const at = (e: PointerEvent): At => {
    const r = el.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const move = (e: PointerEvent) => { if (e.pointerType !== 'touch') probe(at(e), false); };
  const down = (e: PointerEvent) => probe(at(e), e.pointerType === 'touch');
  const out = (e: PointerEvent) => { if (e.pointerType !== 'touch') leave(); };
  el.addEventListener('pointermove', move);
  el.addEventListener('pointerdown', down);
  el.addEventListener('pointerleave', out);
  return {
    detach() {
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerdown', down);
      el.removeEventListener('pointerleave', out);
    },
  };
}

/** A number for a read-out: 3 significant digits, exponent form for the very large and small. */
export function fmtValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/** Index of the last element of sorted `xs` (first n) at or below `x`, or -1. */
export function lastAtOrBelow(xs: ArrayLike<number>, n: number, x: number): number {
  let lo = 0, hi = n - 1, ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}
