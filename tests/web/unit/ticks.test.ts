// Axis ticks of the line charts (issue 10: a dead network's update ratios of 1e-20 sent uPlot's
// own log-axis tick loop into "RangeError: Invalid array length").
import { describe, expect, it } from 'vitest';
import { linearSplits, logSplits } from '../../../web/src/charts/ticks';

describe('log axis ticks', () => {
  it('are the powers of ten in range, at any magnitude', () => {
    expect(logSplits(1e-3, 1)).toEqual([1e-3, 1e-2, 1e-1, 1]);
    expect(logSplits(1e-23, 1e-20)).toEqual([1e-23, 1e-22, 1e-21, 1e-20]);
    expect(logSplits(1e30, 1e38)).toEqual([1e30, 1e32, 1e34, 1e36, 1e38]);
  });
  it('thin out over many decades and survive empty or bad ranges', () => {
    const t = logSplits(1e-45, 1e38);
    expect(t.length).toBeLessThanOrEqual(8);
    expect(t[0]).toBe(1e-45);
    for (const [a, b] of [[0, 1], [-1, 1], [NaN, 1], [1, NaN], [10, 1], [1, Infinity]]) expect(logSplits(a, b)).toEqual([]);
    expect(logSplits(2, 3)).toEqual([2, 3]);
  });
  it('fill a range under three decades with multiples', () => {
    expect(logSplits(0.5, 1)).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(logSplits(0.1, 10)).toEqual([0.1, 1, 10]);
    expect(logSplits(0.1, 5)).toEqual([0.1, 0.2, 0.5, 1, 2, 5]);
    expect(logSplits(2.5, 2.7)).toEqual([2.5]);
  });
});

describe('linear axis ticks', () => {
  it('are multiples of the step', () => {
    expect(linearSplits(0, 1, 0.2)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearSplits(-0.5, 0.5, 0.25)).toEqual([-0.5, -0.25, 0, 0.25, 0.5]);
  });
  it('stay bounded when the step is lost in rounding or absurd', () => {
    expect(linearSplits(1e17, 1e17 + 64, 1).length).toBeLessThanOrEqual(51);
    expect(linearSplits(0, 1e30, 1e-3).length).toBeLessThanOrEqual(51);
    expect(linearSplits(0, 1, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearSplits(NaN, 1, 0.1)).toEqual([]);
    expect(linearSplits(3, 3, 0)).toEqual([3]);
  });
});
