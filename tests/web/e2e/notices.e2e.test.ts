// Which notice a reader sees (issue 20, item 7): "Restarted from step 0: …" only when an edit restarts
// runs the reader was watching, never for "Run this" or the preset menu; "your own text" chosen from
// the Dataset menu gets its own notice, while a shared link keeps the one that says the text is not in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { start, stepN, steps, typeNumber, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

const restarted = (page: Page) => page.locator('.rp-msg[data-tag="restarted"]');

describe('the "restarted" notice', () => {
  it('is not shown for "Run this" or a preset, and is shown for an edit of runs that trained', async () => {
    // a comparison already (the notice only ever compared runs of the same mode)
    const { page } = await H.open('index.html#preset=mlp-spiral&steps=200&mode=compare&runs=2&b.lr=0.01');
    await waitBuilt(page);
    await stepN(page, 5);
    // "Run this": new runs on purpose, and they play
    await page.locator('[data-exp="rmsnorm"]').click();
    await waitBuilt(page, 120_000);
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps >= 3, null, { timeout: 60_000 });
    await page.locator('.rp-play').click();
    expect(await restarted(page).count()).toBe(0);
    expect(await page.locator('.rp-messages').textContent()).not.toMatch(/Restarted from step 0/);
    // the preset menu, over runs that trained
    expect(await steps(page)).toBeGreaterThan(0);
    await page.locator('.rp-preset select').selectOption('mlp-plain-deep');
    await waitBuilt(page, 120_000);
    expect(await steps(page)).toBe(0);
    expect(await restarted(page).count()).toBe(0);
    // the positive control: an edit that cannot apply mid-run restarts the watched runs, and says so
    await stepN(page, 3);
    await typeNumber(page, 'depth', '3');
    await expect.poll(() => restarted(page).count()).toBe(1);
    expect(await restarted(page).textContent()).toMatch(/Restarted from step 0: Depth \(blocks\) changed/);
    await page.close();
  });
});

describe('your own text from the Dataset menu', () => {
  // This file's browser context has no text stored (a fresh IndexedDB): both cases find none.
  it('says this browser has no text yet (not the shared-link text); a link still gets the link text', async () => {
    const { page } = await H.open('index.html#kind=gpt&depth=2&width=32&heads=2&context=16&batch=4');
    await waitBuilt(page);
    await page.locator('select[data-key="data"]').selectOption('text');
    const notice = page.locator('.rp-msg[data-tag="own"]');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('No text of yours is in this browser yet');
    expect(await notice.textContent()).not.toContain('This link');
    await H.shot(page, 'notice-own-menu');
    await page.close();

    const link = await H.open('index.html#kind=gpt&data=text');
    const n2 = link.page.locator('.rp-msg[data-tag="own"]');
    await n2.waitFor();
    expect(await n2.textContent()).toContain('This link trains on your own text, which is not in the link');
    await link.page.close();

    const zh = await H.open('index.html#kind=gpt&depth=2&width=32&heads=2&context=16&batch=4&lang=zh');
    await waitBuilt(zh.page);
    await zh.page.locator('select[data-key="data"]').selectOption('text');
    const n3 = zh.page.locator('.rp-msg[data-tag="own"]');
    await n3.waitFor();
    expect(await n3.textContent()).toContain('这个浏览器里还没有你自己的文本');
    await zh.page.close();
  });
});
