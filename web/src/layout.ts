// Layout arithmetic of the chart panels (pure, unit-tested in tests/web/unit/layout.test.ts): chart
// heights in a fixed-height widget and the passes that fit its content, the embed's grid columns,
// and the decision boundaries' size side by side. panels.ts applies them to the DOM.

/** Chart height for `panels` panels: 200 px on a page; in a widget of `height` px, what fits two to a row. */
export function chartHeight(height: number, panels: number): number {
  if (!height) return 200;
  const rows = Math.ceil(panels / 2);
  return Math.max(110, Math.min(200, Math.floor((height - 170) / Math.max(1, rows)) - 50));
}

/**
 * One fitting pass of a fixed-height widget whose content is `over` px too tall (negative: too short),
 * with its panels in `rows` rows: the new chart height (110…320), or null when it already fits
 * (within 12 px) or the height would not change.
 */
export function fitHeight(current: number, over: number, rows: number, min = 110): number | null {
  if (Math.abs(over) < 12) return null;
  const next = Math.round(Math.max(min, Math.min(320, current - over / Math.max(1, rows))));
  return next === current ? null : next;
}

/** The fitting passes a widget gets after each layout (what is left over scrolls inside it). */
export const FIT_PASSES = 3;

/**
 * A fixed-height widget (issue 20) fits its first row of charts into the room under its toolbar and
 * controls: charts no lower than this (a loss curve still reads at 72 px); when even that does not fit
 * beside the chosen controls, the controls fold into a one-row drawer above the charts.
 */
export const MIN_FIXED_CHART = 72;

/** Whether the controls must fold: the first row's chart, `over` px too tall at height `current`, would
 *  go below `min` to fit. */
export function mustFold(current: number, over: number, min = MIN_FIXED_CHART): boolean {
  return current - over < min;
}

/** An embed's grid columns: as many as the panels sharing a row, at least 300 px each. */
export function embedColumns(width: number, shared: number): number {
  const fits = Math.max(1, Math.floor((width || 800) / 300));
  return Math.max(1, Math.min(shared, fits));
}

/** The side of each of n decision boundaries in a panel body `width` px wide (charts `ch` px high). */
export function boundarySize(n: number, ch: number, width?: number): number {
  if (width === undefined) return n === 1 ? Math.min(ch + 100, 300) : Math.min(ch, 150);
  return n === 1 ? Math.min(ch + 100, 300, width) : Math.max(96, Math.min(200, Math.floor((width - 10 * (n - 1)) / n)));
}

/** The height a widget's content needs (its children's extent plus its borders), whatever min-height it has. */
export function contentHeight(root: HTMLElement): number {
  const box = root.getBoundingClientRect();
  let bottom = box.top;
  for (const c of Array.from(root.children)) bottom = Math.max(bottom, c.getBoundingClientRect().bottom);
  const border = parseFloat(getComputedStyle(root).borderBottomWidth) || 0;
  return Math.ceil(bottom - box.top + border);
}
