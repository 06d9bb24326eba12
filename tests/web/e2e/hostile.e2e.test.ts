// Hostile links in the browser (issue 9, "The page"): Object.prototype's names are unknown presets
// on the page, in embed.html and on the custom element, shown with a notice, and a 1 MB hash is
// refused at once. The harness fails a test on any page or console error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

describe('hostile links', () => {
  it.each(['constructor', '__proto__', 'toString'])('index.html#preset=%s: an unknown preset, with a notice', async (name) => {
    const { page } = await H.open(`index.html#preset=${name}`);
    expect(await waitBuilt(page)).toEqual(['ready']);
    await expect.poll(() => page.locator('[data-notice="url"]').textContent()).toContain('unknown preset');
    expect(await page.locator('[data-notice="url"]').textContent()).toContain(name);
    await page.close();
  });

  it('embed.html?preset=constructor: an unknown preset, with a notice', async () => {
    const { page } = await H.open('embed.html?preset=constructor');
    await expect.poll(() => page.locator('[data-notice="url"]').textContent()).toContain('unknown preset');
    await page.close();
  });

  it('<resnorm-playground preset="__proto__">: an unknown preset, with a notice', async () => {
    const { page } = await H.open('examples/blog-post.html', { width: 1300, height: 950 });
    await page.waitForFunction(() => (document.querySelector('resnorm-playground') as any)?.app);
    await page.evaluate(() => document.querySelector('resnorm-playground')!.setAttribute('preset', '__proto__'));
    await expect.poll(() => page.locator('resnorm-playground').first().locator('[data-notice="url"]').textContent()).toContain('unknown preset');
    await page.close();
  });

  it.each([['en', /too long.*1,?048,?57\d/], ['zh', /链接过长/]] as const)('a 1 MB hash is refused at once, with a notice (%s)', async (lang, text) => {
    const { page } = await H.open(`index.html#preset=mlp-spiral&lang=${lang}`);
    await waitBuilt(page);
    const big = 'lr=0.01&'.repeat(131_072);
    const ms = await page.evaluate((h) => { const t0 = performance.now(); location.hash = h; window.dispatchEvent(new HashChangeEvent('hashchange')); return performance.now() - t0; }, big);
    expect(ms).toBeLessThan(1000);
    await expect.poll(() => page.locator('[data-notice="url"]').textContent()).toMatch(text);
    expect(await page.evaluate(() => (window as any).__resnorm.apps[0].state.lang)).toBe(lang);
    await page.close();
  });

  it('a page opened with a 1 MB hash loads the defaults with the notice', async () => {
    const { page } = await H.open(`index.html#${'x'.repeat(1 << 20)}`);
    expect(await waitBuilt(page)).toEqual(['ready']);
    await expect.poll(() => page.locator('[data-notice="url"]').textContent()).toMatch(/too long|链接过长/);
    await page.close();
  });
});
