// Layout arithmetic (layout.ts): chart heights in a fixed-height widget, the fitting passes, the
// embed's columns and the decision boundaries' size.
import { describe, expect, it } from 'vitest';
import { boundarySize, chartHeight, embedColumns, fitHeight } from '../../../web/src/layout';

describe('layout', () => {
  it('chartHeight: 200 on a page; a widget shares its height among rows of two panels, 110…200', () => {
    expect(chartHeight(0, 5)).toBe(200);
    expect(chartHeight(460, 2)).toBe(200);              // one row: (460 - 170) - 50 = 240, capped
    expect(chartHeight(460, 4)).toBe(110);               // two rows: 145 - 50 = 95, floored at 110
    expect(chartHeight(900, 4)).toBe(200);
    expect(chartHeight(700, 3)).toBe(200);              // (700 - 170) / 2 - 50 = 215, capped
    expect(chartHeight(620, 4)).toBe(175);              // (620 - 170) / 2 - 50
  });

  it('fitHeight: shrinks by the overflow shared among rows, grows into spare room, stops when it fits', () => {
    expect(fitHeight(200, 100, 2)).toBe(150);
    expect(fitHeight(200, -60, 1)).toBe(260);
    expect(fitHeight(200, 11, 1)).toBeNull();     // within 12 px: fits
    expect(fitHeight(200, 12, 1)).toBe(188);      // 12 px over: one more pass
    expect(fitHeight(110, 500, 1)).toBeNull();    // already at the floor
    expect(fitHeight(300, -500, 1)).toBe(320);    // the ceiling
    expect(fitHeight(200, 90, 0)).toBe(110);      // no row measured: as one
  });

  it('embedColumns: at least 300 px a column, no more columns than panels', () => {
    expect(embedColumns(1000, 2)).toBe(2);
    expect(embedColumns(1000, 5)).toBe(3);
    expect(embedColumns(360, 3)).toBe(1);
    expect(embedColumns(0, 4)).toBe(2);           // not laid out yet: as 800 px
    expect(embedColumns(1000, 0)).toBe(1);
  });

  it('boundarySize: one big picture, or several side by side in the panel width', () => {
    expect(boundarySize(1, 200)).toBe(300);
    expect(boundarySize(3, 200)).toBe(150);
    expect(boundarySize(1, 200, 260)).toBe(260);
    expect(boundarySize(2, 200, 410)).toBe(200);
    expect(boundarySize(4, 200, 330)).toBe(96);  // (330 - 30) / 4 = 75, at least 96
  });
});
