// The pure parts of the page's drawing (web/src/chartData.ts): the loss chart's decimated series and
// y cap, and the number formats, checked against values worked out by hand.
import { describe, expect, it } from 'vitest';
import { LOSS_POINTS, LossSums, SUM_BLOCK, blockRanges, blowupWhere, fmtLoss, fmtMs, lossSeries, lossSpecs, niceCeil, robustCap } from '../../../web/src/chartData';
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

/** The bucket means as lossSeries defined them before its cached block sums: every step summed at every call. */
function referenceTrain(metrics: RunMetrics[]): (number | null)[][] {
  const longest = metrics.reduce<RunMetrics | null>((a, m) => (!a || m.step.length > a.step.length ? m : a), null)!;
  const n = longest.step.length, stride = Math.max(1, Math.ceil(n / LOSS_POINTS)), nb = Math.ceil(n / stride);
  const x0 = n ? longest.step.data[0] : 0;
  return metrics.map((m) => {
    const out: (number | null)[] = new Array(nb).fill(null);
    if (!m.step.length) return out;
    const off = Math.round(m.step.data[0] - x0);
    for (let j = 0; j < nb; j++) {
      let sum = 0, cnt = 0;
      for (let i = j * stride - off; i < (j + 1) * stride - off; i++) {
        if (i < 0 || i >= m.loss.length) continue;
        const v = m.loss.data[i];
        if (Number.isFinite(v)) { sum += v; cnt++; }
      }
      out[j] = cnt ? sum / cnt : null;
    }
    return out;
  });
}

function expectClose(got: (number | null)[], want: (number | null)[]): void {
  expect(got.length).toBe(want.length);
  for (let j = 0; j < want.length; j++) {
    if (want[j] === null) expect(got[j], `bucket ${j}`).toBeNull();
    else expect(Math.abs((got[j] as number) - want[j]!), `bucket ${j}: ${got[j]} vs ${want[j]}`).toBeLessThanOrEqual(1e-12 * Math.abs(want[j]!));
  }
}

describe('loss chart series from cached block sums', () => {
  it('gives the same bucket means as summing every step, as runs grow, start late, skip non-finite losses and restart', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const loss = () => { const r = rand(); return r < 0.02 ? NaN : r < 0.03 ? Infinity : 0.1 + 3 * rand(); };
    const a = new RunMetrics(2), b = new RunMetrics(2), c = new RunMetrics(2);
    let sa = 1, sb = 301, sc = 1;  // b starts at step 301 (a loaded checkpoint), c is shorter
    for (let round = 0; round < 60; round++) {
      // chunks of every size around the block length, and now and then a long one
      const k = round % 7 === 6 ? 5000 + Math.floor(rand() * 3000) : Math.floor(rand() * 3 * SUM_BLOCK);
      a.add(Array.from({ length: k }, () => stats(sa++, loss())));
      b.add(Array.from({ length: Math.floor(k * 0.8) }, () => stats(sb++, loss())));
      if (round % 2) c.add(Array.from({ length: Math.floor(k / 3) }, () => stats(sc++, loss())));
      if (round === 40) {  // c starts over: its series cleared and refilled, longer than before, with other values
        const before = c.loss.length;
        for (const s of [c.step, c.loss, c.lr, c.gradNorm, c.ms]) s.clear();
        sc = 1;
        c.add(Array.from({ length: before + 3000 }, () => stats(sc++, 10 + loss())));
      }
      const got = lossSeries([a, b, c], false), want = referenceTrain([a, b, c]);
      for (let r = 0; r < 3; r++) expectClose(got.ys[2 * r], want[r]);
    }
    expect(a.step.length).toBeGreaterThan(40 * LOSS_POINTS);  // long enough that buckets span many blocks
  });

  it('clips a range to the series (the values past its end are not data)', () => {
    const m = run(1, 3 * SUM_BLOCK + 5, (s) => s);  // losses 1 .. 3B+5
    const sums = new LossSums(m.loss);
    expect(sums.mean(-10, 10_000)).toBe((3 * SUM_BLOCK + 6) / 2);
    expect(sums.mean(SUM_BLOCK - 1, 2 * SUM_BLOCK + 1)).toBe((SUM_BLOCK + 2 * SUM_BLOCK + 1) / 2);  // values B .. 2B+1
    expect(sums.mean(5, 5)).toBeNull();
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
