// Issue 10, "training that continues": settings a running model takes (learning rate, clip, steps, ...)
// apply to it mid-run instead of wiping it, the link records each edit as (step, setting) and replays
// it bit for bit; settings it cannot take restart the run, with a notice saying which.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typeNumber, stepN, app, runLosses, start, steps, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

/** The engine's own optim section (what the worker's Trainer was last given). */
const engineOptim = (page: Page, run = 0) => app(page, `app.session.runs[${run}].engine.info.config.optim`) as Promise<Record<string, number | string>>;

describe('mid-run edits', () => {
  it('a learning-rate and clip change apply to the running model at a step, and the link replays them bit for bit', async () => {
    const { page } = await H.open('index.html#preset=mlp-spiral&steps=200&eval=0');
    await waitBuilt(page);
    await stepN(page, 12);
    await typeNumber(page, 'lr', '0.003');
    await expect.poll(async () => (await engineOptim(page)).lr).toBe(0.003);
    expect(await steps(page)).toBe(12);  // not restarted
    await stepN(page, 8);
    await typeNumber(page, 'clip', '0.25');
    await expect.poll(async () => (await engineOptim(page)).clip).toBe(0.25);
    await stepN(page, 10);
    expect(await steps(page)).toBe(30);
    const losses = await runLosses(page);
    await expect.poll(() => page.url()).toContain('edits=12%3Alr%3A0.01%3A0.003%2C20%3Aclip%3A1%3A0.25');
    const link = page.url();
    // edits changed the losses: without them the run is another one
    const { page: plain } = await H.open('index.html#preset=mlp-spiral&steps=200&eval=0');
    await waitBuilt(plain);
    await stepN(plain, 30);
    expect((await runLosses(plain)).slice(12)).not.toEqual(losses.slice(12));
    expect((await runLosses(plain)).slice(0, 12)).toEqual(losses.slice(0, 12));
    await plain.close();
    // the link: built with lr 0.01 and clip 1, switched at steps 12 and 20, played (rounds stop at the edits)
    const { page: again } = await H.open(link.slice(link.indexOf('index.html')));
    await waitBuilt(again);
    expect(await app(again, 'app.state.config.lr')).toBe(0.003);                  // the controls show the final values
    expect((await engineOptim(again)).lr).toBe(0.01);                              // the model starts from the first
    await again.locator('.rp-play').click();
    await again.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps >= 30, null, { timeout: 60_000 });
    await again.locator('.rp-play').click();
    expect((await runLosses(again)).slice(0, 30)).toEqual(losses);
    expect((await engineOptim(again)).clip).toBe(0.25);
    await again.close();
    await page.close();
  });

  it('a depth or batch change restarts the run and says so (en, zh, re-translated on a language switch); the edits go with the old run', async () => {
    const { page } = await H.open('index.html#preset=mlp-spiral&steps=200');
    await waitBuilt(page);
    await stepN(page, 5);
    await typeNumber(page, 'lr', '0.02');
    await expect.poll(() => page.url()).toContain('edits=');
    await typeNumber(page, 'depth', '3');
    await expect.poll(() => page.locator('.rp-messages').textContent()).toMatch(/Restarted from step 0: Depth \(blocks\) changed/);
    expect(await steps(page)).toBe(0);
    await expect.poll(() => page.url()).not.toContain('edits=');
    await waitBuilt(page);
    await stepN(page, 3);
    await page.locator('select.rp-lang').selectOption('zh');
    // the notice already shown follows the language switch
    await expect.poll(() => page.locator('.rp-messages').textContent()).toMatch(/已从第 0 步重新开始：.*已更改/);
    expect(await page.locator('.rp-messages').textContent()).not.toMatch(/Restarted/);
    await typeNumber(page, 'batch', '16');
    await expect.poll(() => page.locator('.rp-messages').textContent()).toMatch(/已从第 0 步重新开始：.*已更改/);
    await H.shot(page, 'edits-restarted-zh');
    await page.close();
  });

  it('a link whose edits do not lead to its settings is refused whole, with a notice, and the run starts plainly', async () => {
    const { page } = await H.open('index.html#preset=mlp-spiral&lr=0.005&edits=12%3Alr%3A0.01%3A0.003');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await expect.poll(() => page.locator('[data-notice="url"]').textContent()).toMatch(/edits.*lr ends at 0\.003, but the link sets 0\.005/);
    expect(await app(page, 'app.state.edits.length')).toBe(0);
    expect((await engineOptim(page)).lr).toBe(0.005);
    await page.close();
  });
});
