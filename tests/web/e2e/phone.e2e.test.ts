// The main page on a phone (issue 20, item 7): at 375 x 812 the sticky toolbar is one row of at most
// 64 px (it was about 180 px: three wrapped rows), stays at the top while the page scrolls, keeps play,
// reset, step and the status in view, and its counters scroll sideways within it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

describe('the sticky toolbar at 375 px', () => {
  for (const [name, hash] of [
    ['one run, English', 'preset=mlp-spiral'],
    ['one run, Chinese', 'preset=mlp-spiral&lang=zh'],
    ['a comparison', 'exp=plain-vs-residual'],
  ] as const) {
    it(`${name}: one row of at most 64 px, stuck to the top, play within reach`, async () => {
      const { page } = await H.open(`index.html#${hash}`, { width: 375, height: 812 });
      await waitBuilt(page);
      const bar = page.locator('.rp-toolbar');
      const box = (await bar.boundingBox())!;
      expect(box.height).toBeLessThanOrEqual(64);
      expect(box.width).toBeLessThanOrEqual(375);
      for (const sel of ['.rp-reset', '.rp-play', '.rp-stepbtn']) {
        const b = (await bar.locator(sel).boundingBox())!;
        expect(b.x + b.width, sel).toBeLessThanOrEqual(375);
        expect(b.y + b.height, sel).toBeLessThanOrEqual(box.y + box.height);
      }
      // the status (building, ready, paused, diverged) is in the row and in view without scrolling it
      const status = (await bar.locator('.rp-statusbox').boundingBox())!;
      expect(status.y).toBeLessThan(box.y + box.height);
      expect(status.x + status.width).toBeLessThanOrEqual(375);
      expect(status.width).toBeGreaterThan(10);
      expect(await bar.evaluate((el) => el.scrollWidth >= el.clientWidth)).toBe(true);
      await H.shot(page, `phone-toolbar-${name.replace(/[ ,]+/g, '-')}`);
      // sticky: after scrolling down the page it is still at the top, and play still works
      await page.evaluate(() => window.scrollTo(0, 1500));
      await expect.poll(async () => (await bar.boundingBox())!.y).toBeLessThanOrEqual(1);
      await bar.locator('.rp-play').click();
      await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps > 3, null, { timeout: 60_000 });
      await bar.locator('.rp-play').click();
      await page.close();
    });
  }
});
