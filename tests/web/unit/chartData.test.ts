// The pure parts of the page's drawing (web/src/chartData.ts): the loss chart's decimated series and
// y cap, and the number formats, checked against values worked out by hand.
import { describe, expect, it } from 'vitest';
import { LOSS_POINTS, blockRanges, blowupWhere, fmtLoss, fmtMs, lossSeries, lossSpecs, niceCeil, robustCap } from '../../../web/src/chartData';
import type { StepStats } from '../../../web/src/engine/types';
import { RunMetrics } from '../../../web/src/metrics';

function stats(step: number, loss: number, rms: number[] = [1, 1]): StepStats {
  const d = rms.length;
  return { step, loss, lr: 1e-3, gradNorm: 1, ms: 1, diverged: false, divergence: '', blockGradNorm: new Float32Array(d),
    blockActRms: Float32Array.from(rms), updateRatio: new Float32Array(d), attnEntropy: new Float32Array(0) };
}
function run(first: number, n: number, loss: (s: number) => number): RunMetrics {
  const m = new RunMetrics(2);
  m.add(Array.from({ length: n }, (_, i) => stats(first + i, loss(first + i))));
  return m;
}

describe('loss chart series specs', () => {
  it('gives each run a train line then a dashed validation line, in lossSeries order', () => {
    const specs = lossSpecs([{ name: 'A', color: '#2563eb' }, { name: 'B', color: '#dc2626' }], 'train', 'val');
    expect(specs.map((s) => s.label)).toEqual(['A train', 'A val', 'B train', 'B val']);
    expect(specs.map((s) => s.color)).toEqual(['#2563ebb0', '#2563eb', '#dc2626b0', '#dc2626']);
    expect(specs.filter((s) => s.dash).map((s) => s.label)).toEqual(['A val', 'B val']);
    expect(lossSpecs([{ name: '', color: '#000000' }], 'train', 'val').map((s) => s.label)).toEqual(['train', 'val']);
  });

  it('draws every train line at most one pixel wide (Skia draws those as hairlines; wider ones cost the frame ~3 ms more)', () => {
    // The train lines are the ~400-point zigzags redrawn 15 times a second while runs train; a width above
    // 1 px makes Skia outline and fill them (see TRAIN_LINE_WIDTH). The validation lines have a few points.
    const specs = lossSpecs([{ name: 'A', color: '#2563eb' }, { name: 'log: x.json', color: '#5f6b7a' }], 'train', 'val');
    for (const s of specs.filter((x) => !x.dash)) expect(s.width).toBeLessThanOrEqual(1);
    expect(specs.filter((x) => !x.dash)).toHaveLength(2);
  });
});

describe('loss chart series', () => {
  it('keeps every step while they fit, with the validation loss at its step', () => {
    const m = run(1, 10, (s) => 1 / s);
    m.evals.push({ step: 5, trainLoss: 0, valLoss: 0.7, trainAccuracy: -1, accuracy: -1 });
    const { x, ys, n } = lossSeries([m], false);
    expect(n).toBe(10);
    expect(Array.from(x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ys[0][3]).toBeCloseTo(1 / 4, 6);
    expect(ys[1].filter((v) => v !== null)).toEqual([0.7]);
    expect(ys[1][4]).toBe(0.7);
  });

  it('averages buckets of steps beyond LOSS_POINTS, each drawn at its last step', () => {
    const m = run(1, 1000, (s) => s);  // the loss is the step number: a bucket's mean is its middle step
    const { x, ys } = lossSeries([m], false);
    const stride = Math.ceil(1000 / LOSS_POINTS);  // 3
    expect(x.length).toBe(Math.ceil(1000 / stride));
    expect(x[0]).toBe(3);
    expect(ys[0][0]).toBe(2);                       // mean of steps 1, 2, 3
    expect(ys[0][1]).toBe(5);
    expect(x[x.length - 1]).toBe(1000);
    expect(ys[0][x.length - 1]).toBe(1000);         // the last bucket holds step 1000 alone
  });

  it('places a run that starts later by its first step; non-finite losses are gaps, and on a log scale so is 0', () => {
    const a = run(1, 10, () => 1), b = run(6, 5, (s) => (s === 8 ? NaN : 2));
    const lin = lossSeries([a, b], false);
    expect(lin.ys[2]).toEqual([null, null, null, null, null, 2, 2, null, 2, 2]);
    expect(lossSeries([run(1, 3, (s) => (s === 2 ? 0 : 1))], false).ys[0]).toEqual([1, 0, 1]);
    expect(lossSeries([run(1, 3, (s) => (s === 2 ? 0 : 1))], true).ys[0]).toEqual([1, null, 1]);
  });

  it('caps the y axis at a few times the typical value so one blown-up run leaves the others readable', () => {
    const calm = Array.from({ length: 100 }, (_, i) => 1 + (i % 10) / 10);
    expect(robustCap([calm])).toBe(Infinity);                    // nothing to cut
    const cap = robustCap([calm, [...calm.slice(0, 99), 1e22]]);
    expect(cap).toBeGreaterThanOrEqual(3 * 1.9);
    expect(cap).toBeLessThan(10);
    expect(robustCap([[1, null, 2]])).toBe(Infinity);            // too few values to judge
  });

  it('takes the cap from the values in numeric order (worked out by hand), gaps and non-finite values left out', () => {
    // 20 values 1..20 (a lexicographic order would put 10..19 before 2), then a blow-up: the 90th
    // percentile of the 21 finite values is the 19th smallest, 19, the median the 11th, 11: cap = max(57, 44).
    const y = [...new Array<null>(10).fill(null), ...Array.from({ length: 20 }, (_, i) => 20 - i), NaN, Infinity, 1e9];
    expect(robustCap([y])).toBe(57);
    // thinned to every floor(n / 500)th value when long: of 1000 values the even indices are kept. With 1..1000
    // that is 1, 3, .., 999: p90 = the 450th (0-based), 901, median 501, 3 * 901 >= 999 -> no cap. With a
    // blow-up at index 0 it is 1e6, 3, 5, .., 999: p90 = 903 (the 450th of 3..999), median 503 -> 2709.
    expect(robustCap([Array.from({ length: 1000 }, (_, i) => i + 1)])).toBe(Infinity);
    expect(robustCap([Array.from({ length: 1000 }, (_, i) => (i === 0 ? 1e6 : i + 1))])).toBe(2709);
  });
});

describe('number formats', () => {
  it('losses with three significant digits, ms per step with the digits that matter', () => {
    expect(fmtLoss(0.693147)).toBe('0.693');
    expect(fmtLoss(2.4149)).toBe('2.41');
    expect(fmtLoss(123456)).toBe('1.23e+5');
    expect(fmtLoss(0.000123)).toBe('1.23e-4');
    expect(fmtLoss(NaN)).toBe('NaN');
    expect(fmtMs(0.15612)).toBe('0.156');
    expect(fmtMs(14.51)).toBe('14.5');
    expect(fmtMs(511.6)).toBe('512');
  });

  it('block ranges, nice ceilings and where a run blew up', () => {
    expect(blockRanges([1, 2, 3, 7])).toBe('1–3, 7');
    expect(blockRanges([2, 4, 5])).toBe('2, 4–5');
    expect(blockRanges([])).toBe('');
    expect([0.7, 1, 1.1, 3, 7, 42].map(niceCeil)).toEqual([1, 1, 2, 5, 10, 50]);
    const m = new RunMetrics(3);
    m.add([stats(1, 1, [1, 5e7, Infinity])]);
    expect(blowupWhere(m)).toEqual({ block: 2, rms: '5.0e+7' });  // the first huge block, not the largest
    const calm = new RunMetrics(3);
    calm.add([stats(1, 1, [1, 30, 2])]);
    expect(blowupWhere(calm)).toEqual({ block: 2, rms: '3.0e+1' });
  });
});
