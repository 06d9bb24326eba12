// Issue 10, "Embedding and phones": a 360 px widget keeps its title, run chips and "Open in the
// playground" inside its box; the controls an embed asks for come before its charts; on a phone the
// first chart comes before the settings and within the first screen, even under an experiment's text.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

const box = async (l: Locator) => (await l.boundingBox())!;

/** Every element matching `sel` lies within the widget horizontally (nothing cut off or scrolled away). */
async function insideWidget(page: Page, sel: string): Promise<void> {
  const w = await box(page.locator('.rp-embed').first());
  const els = page.locator(sel);
  const n = await els.count();
  expect(n, sel).toBeGreaterThan(0);
  for (let i = 0; i < n; i++) {
    const b = await box(els.nth(i));
    expect(b.x, `${sel} #${i} left`).toBeGreaterThanOrEqual(w.x - 0.5);
    expect(b.x + b.width, `${sel} #${i} right`).toBeLessThanOrEqual(w.x + w.width + 0.5);
  }
}

describe('embedding and phones', () => {
  it('a 360 px embed: title, run chips and "Open in the playground" fit; the chosen controls come first', async () => {
    const { page } = await H.open('embed.html?preset=plain-vs-residual&controls=lr,depth&panels=loss,heatmap&height=420', { width: 360, height: 640 });
    await expect.poll(() => page.locator('.rp-run').count()).toBe(2);
    for (const sel of ['.rp-eheader strong', '.rp-run', '.rp-full', '.rp-eheader .rp-btn']) await insideWidget(page, sel);
    // the title is not squeezed into a column of words
    expect((await box(page.locator('.rp-eheader strong'))).height).toBeLessThan(40);
    const controls = await box(page.locator('.rp-controls'));
    const firstPanel = await box(page.locator('.rp-panel').first());
    expect(controls.y).toBeLessThan(firstPanel.y);
    await H.shot(page, 'embed-360');
    await page.close();
  });

  it('a phone (390 x 844) with an experiment open: its text is folded, the first chart is on the first screen, before the settings', async () => {
    const { page } = await H.open('index.html#exp=plain-vs-residual', { width: 390, height: 844 });
    await waitBuilt(page);
    const chart = await box(page.locator('.rp-panel').first());
    const settings = await box(page.locator('.rp-controls'));
    expect(chart.y).toBeLessThan(settings.y);
    expect(chart.y).toBeLessThan(844);
    // "Read more" unfolds the whole explanation
    const more = page.locator('.rp-explain-more');
    expect(await page.locator('.rp-explain .rp-look').isVisible()).toBe(false);
    await more.click();
    expect(await page.locator('.rp-explain .rp-look').isVisible()).toBe(true);
    expect(await more.isVisible()).toBe(false);
    await H.shot(page, 'phone-experiment');
    await page.close();
  });

  it('on a wide screen the explanation is whole and has no "Read more"', async () => {
    const { page } = await H.open('index.html#exp=plain-vs-residual', { width: 1400, height: 900 });
    await waitBuilt(page);
    expect(await page.locator('.rp-explain .rp-look').isVisible()).toBe(true);
    expect(await page.locator('.rp-explain-more').isVisible()).toBe(false);
    await page.close();
  });
});
