// The cnn in the browser (issue 11): a small ResNet trains on the digits and its held-out accuracy
// rises; the digits panel's grid and confusion matrix agree with the engine's own numbers (its
// evaluation, and probabilities asked for directly); a digit drawn with the pointer gives ten
// probabilities that sum to 1; the cnn experiments open with their runs, and the article's LayerNorm
// (eps 0) is stopped by the divergence guard with the block named. Screenshots in en and zh, desktop
// and 390x844, go to test-results/e2e/cnn-*.png.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, steps, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

// A narrow cnn-digits (width 8) so that 60 steps train in well under a minute on a loaded 2-core machine.
const SMALL = 'preset=cnn-digits&width=8&steps=60&eval=20';

/** The digits panel's summary once it shows predictions made at `step`: its accuracy. */
async function shownAccuracy(page: Page, step: number): Promise<number> {
  const sel = `[data-digits="summary"][data-step="${step}"]`;
  await page.waitForSelector(sel, { timeout: 120_000 });
  return Number(await page.locator(sel).getAttribute('data-acc'));
}

/** Draws a stroke through the points (fractions of the pad) with the mouse. */
async function drawStroke(page: Page, pts: [number, number][]): Promise<void> {
  await page.locator('.rp-digit-pad').scrollIntoViewIfNeeded();
  const box = (await page.locator('.rp-digit-pad').boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(pts[0]));
  await page.mouse.down();
  for (const p of pts.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
  await page.mouse.up();
}

async function drawnProbs(page: Page): Promise<number[]> {
  await page.waitForSelector('[data-digits="probs"][data-sum]', { timeout: 30_000 });
  return page.locator('.rp-digit-bar').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.p)));
}

describe('cnn playground', () => {
  it('trains cnn-digits; the grid and confusion matrix agree with the engine', async () => {
    const { page, problems } = await H.open(`index.html#${SMALL}`);
    expect(await waitBuilt(page, 120_000)).toEqual(['ready']);
    expect(await page.locator('.rp-panel-digits').count()).toBe(1);
    expect(await page.locator('.rp-panel-boundary').count()).toBe(0);
    const acc0 = await shownAccuracy(page, 0);
    await page.locator('.rp-play').click();
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.runs[0].status === 'done', null, { timeout: 200_000 });
    expect(await steps(page)).toBe(60);
    const acc = await shownAccuracy(page, 60);
    // the engine's evaluation at the same step counts the same argmax over the same held-out digits
    const evals = await page.evaluate(() => (window as any).__resnorm.apps[0].session.runs[0].metrics.evals.map((e: any) => [e.step, e.accuracy]));
    const at60 = evals.find((e: number[]) => e[0] === 60);
    expect(at60).toBeDefined();
    expect(acc).toBe(at60[1]);
    expect(acc).toBeGreaterThan(acc0 + 0.3);   // chance is ~0.1; 60 steps reach far above it
    // the confusion matrix and the grid's predictions against probabilities asked of the engine directly
    const check = await page.evaluate(async () => {
      const app = (window as any).__resnorm.apps[0];
      const eng = app.session.runs[0].engine;
      const d = eng.info.digits;
      const p: Float32Array = await eng.probs(d.x);
      const m = new Array(100).fill(0);
      let wrongShown = 0;
      const view = app.parts.digits;
      const n = d.y.length;
      for (let i = 0; i < n; i++) {
        let b = 0;
        for (let c = 1; c < 10; c++) if (p[i * 10 + c] > p[i * 10 + b]) b = c;
        m[d.y[i] * 10 + b]++;
        if (i < 72 && b !== d.y[i]) wrongShown++;
        if (i < 72 && view.pred[i] !== b) return { error: `grid digit ${i}: shows ${view.pred[i]}, engine ${b}` };
      }
      // red (wrong) marks on the grid canvas, counted in its pixels (drawn before the summary changed)
      const g = view.grid as HTMLCanvasElement;
      const px = g.getContext('2d')!.getImageData(0, 0, g.width, g.height).data;
      let red = 0;
      for (let k = 0; k < px.length; k += 4) if (px[k] > 200 && px[k + 1] < 80 && px[k + 2] < 80) red++;
      return { matrix: Array.from(view.matrix as Int32Array), engine: m, n, wrongShown, red };
    });
    expect(check.error).toBeUndefined();
    expect(check.matrix).toEqual(check.engine);
    expect(check.matrix!.reduce((a: number, b: number) => a + b, 0)).toBe(check.n);
    if (check.wrongShown! > 0) expect(check.red).toBeGreaterThan(0);
    else expect(check.red).toBe(0);
    // a hover read-out on the confusion matrix names a cell
    await page.locator('.rp-digit-conf').scrollIntoViewIfNeeded();
    const conf = (await page.locator('.rp-digit-conf').boundingBox())!;
    await page.mouse.move(conf.x + conf.width * 0.5, conf.y + conf.height * 0.5);
    await expect.poll(() => page.locator('[data-readout="digits"]').textContent()).toMatch(/true \d, predicted \d: \d+ of the \d+ held-out/);
    await H.shot(page, 'cnn-trained-en', { fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('predicts a digit drawn on the pad: ten probabilities that sum to 1', async () => {
    const { page, problems } = await H.open(`index.html#${SMALL}`);
    expect(await waitBuilt(page, 120_000)).toEqual(['ready']);
    await page.locator('body').press('n');   // one step, so the running statistics are not the initial ones
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps >= 1);
    await drawStroke(page, [[0.5, 0.15], [0.52, 0.5], [0.5, 0.85]]);
    const p = await drawnProbs(page);
    expect(p).toHaveLength(10);
    for (const v of p) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
    expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    const best = p.indexOf(Math.max(...p));
    expect(await page.locator('.rp-digit-pred').getAttribute('data-pred')).toBe(String(best));
    // the feature maps follow the drawing: block 1 (stage 1: 8 channels, 14x14), then the last block (stage 3: 32, 4x4)
    await page.waitForSelector('[data-digits="features"][data-block="0"][data-channels="8"][data-h="14"]', { timeout: 30_000 });
    expect(await page.locator('[data-digits="features"]').textContent()).toContain('your drawing');
    await page.locator('select[data-digits="block"]').selectOption('2');
    await page.waitForSelector('[data-digits="features"][data-block="2"][data-channels="32"][data-h="4"]', { timeout: 30_000 });
    await page.locator('.rp-digit-feat').scrollIntoViewIfNeeded();
    const fb = (await page.locator('.rp-digit-feat').boundingBox())!;
    await page.mouse.move(fb.x + 10, fb.y + 10);
    await expect.poll(() => page.locator('[data-readout="digits"]').textContent()).toMatch(/channel 1 of 32, row 1, column 1: /);
    await H.shot(page, 'cnn-drawn-en', { fullPage: true });
    await page.locator('.rp-panel-digits').screenshot({ path: 'test-results/e2e/cnn-digits-en.png' });
    // Clear empties the read-out; drawing again predicts again
    await page.locator('[data-action="clear-digit"]').click();
    expect(await page.locator('[data-digits="probs"]').getAttribute('data-sum')).toBeNull();
    await drawStroke(page, [[0.3, 0.3], [0.7, 0.3], [0.4, 0.85]]);
    expect(await drawnProbs(page)).toHaveLength(10);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('opens the cnn experiments with their runs; eps = 0 is stopped with the block named', async () => {
    const { page, problems } = await H.open('index.html#exp=cnn-eps');
    expect(await waitBuilt(page, 120_000)).toEqual(['ready', 'ready', 'ready']);
    expect(await page.locator('.rp-run').count()).toBe(3);
    expect(await page.locator('.rp-explain h2').textContent()).toBe('The article’s LayerNorm');
    await page.locator('body').press('n');
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.runs[0].status === 'diverged', null, { timeout: 60_000 });
    const status = await page.evaluate(() => (window as any).__resnorm.apps[0].session.runs.map((r: any) => [r.status, r.message ?? '']));
    expect(status[0][1]).toMatch(/division by zero variance in blocks\.0\.norm_1 \(block 0\)/);
    expect(status[1][0]).not.toBe('diverged');
    expect(status[2][0]).not.toBe('diverged');
    await H.shot(page, 'cnn-eps-en', { fullPage: true });
    await page.close();

    const d = await H.open('index.html#exp=cnn-depth&lang=zh');
    expect(await waitBuilt(d.page, 120_000)).toEqual(['ready', 'ready', 'ready']);
    const depths = await d.page.evaluate(() => (window as any).__resnorm.apps[0].session.runs.map((r: any) => [r.config.depth, r.config.residual, r.engine.info.depth]));
    expect(depths).toEqual([[1, 'none', 3], [5, 'none', 15], [5, 'identity', 15]]);  // blocks per stage; 3 stages
    expect(await d.page.locator('.rp-heat-cell').count()).toBe(3);
    expect(await d.page.locator('.rp-explain h2').textContent()).toBe('没有捷径，越深越差');
    await H.shot(d.page, 'cnn-depth-zh');
    expect([...problems, ...d.problems]).toEqual([]);
    await d.page.close();
  });

  it('is readable at phone width, in Chinese', async () => {
    const { page, problems } = await H.open(`index.html#${SMALL}&lang=zh`, { width: 390, height: 844 });
    expect(await waitBuilt(page, 120_000)).toEqual(['ready']);
    await page.locator('body').press('n');
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps >= 1);
    await shownAccuracy(page, 1);
    expect(await page.locator('[data-digits="summary"]').textContent()).toContain('留出准确率');
    await drawStroke(page, [[0.5, 0.15], [0.5, 0.85]]);
    await drawnProbs(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await H.shot(page, 'cnn-phone-zh', { fullPage: true });
    await page.locator('.rp-panel-digits').screenshot({ path: 'test-results/e2e/cnn-phone-zh-digits.png' });
    await page.locator('select.rp-lang').selectOption('en');
    await page.waitForSelector('[data-digits="summary"][data-step="1"]');
    expect(await page.locator('[data-digits="summary"]').textContent()).toContain('Held-out accuracy');
    await page.locator('.rp-panel-digits').screenshot({ path: 'test-results/e2e/cnn-phone-en-digits.png' });
    expect(problems).toEqual([]);
    await page.close();
  });
});
