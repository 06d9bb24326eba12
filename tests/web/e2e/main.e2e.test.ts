// The main page in headless Chromium under the strict CSP: it trains and the loss falls, compare
// mode runs two workers in lockstep, a shared URL reproduces the same first 20 losses, bad links and
// bad uploads are handled, divergence is reported, the language switches, and nothing logs errors.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLosses, start, steps, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('main page', () => {
  it('trains and the loss falls (space = play/pause)', async () => {
    const { page, problems } = await H.open('index.html#preset=mlp-spiral');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await page.locator('body').press('Space');
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps >= 600, null, { timeout: 90_000 });
    await page.locator('body').press('Space');
    const losses = await runLosses(page);
    expect(losses.length).toBeGreaterThanOrEqual(600);
    expect(mean(losses.slice(-50))).toBeLessThan(0.6 * mean(losses.slice(0, 50)));
    // the visible numbers: step count, steps/s and ms/step
    const stat = async (k: string) => (await page.locator(`[data-stat="${k}"]`).textContent())!.trim();
    expect(Number((await stat('step')).replace(/,/g, ''))).toBeGreaterThanOrEqual(600);
    expect(Number(await stat('ms'))).toBeGreaterThan(0);
    await page.waitForTimeout(400);
    await H.shot(page, 'main-trained', { fullPage: true });
    // n = one step while paused
    const before = await steps(page);
    await page.locator('body').press('n');
    await page.waitForFunction((b) => (window as any).__resnorm.apps[0].session.steps === b + 1, before);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('reproduces the same first 20 losses from a shared URL', async () => {
    const a = await H.open('index.html#preset=mlp-spiral&seed=4242&lr=0.02&depth=6');
    await waitBuilt(a.page);
    for (let i = 0; i < 20; i++) await a.page.locator('.rp-stepbtn').click();
    await a.page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps === 20);
    await a.page.waitForTimeout(300);  // the hash is written shortly after a change
    const shared = a.page.url();
    expect(shared).toContain('seed=4242');
    const first = await runLosses(a.page, 0, 20);
    const b = await H.open(shared.slice(H.url.length));
    await waitBuilt(b.page);
    await b.page.locator('body').press('Space');
    await b.page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps >= 20, null, { timeout: 60_000 });
    await b.page.locator('body').press('Space');
    const second = await runLosses(b.page, 0, 20);
    expect(first).toHaveLength(20);
    expect(second).toEqual(first);
    // and a different seed gives different losses
    const c = await H.open(shared.slice(H.url.length).replace('seed=4242', 'seed=4243'));
    await waitBuilt(c.page);
    await c.page.locator('.rp-stepbtn').click();
    await c.page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps === 1);
    expect((await runLosses(c.page, 0, 1))[0]).not.toBe(first[0]);
    expect([...a.problems, ...b.problems, ...c.problems]).toEqual([]);
    await Promise.all([a.page.close(), b.page.close(), c.page.close()]);
  });

  it('compare mode runs two workers in lockstep', async () => {
    const { page, problems } = await H.open('index.html#exp=plain-vs-residual');
    expect(await waitBuilt(page)).toEqual(['ready', 'ready']);
    expect(page.workers().length).toBeGreaterThanOrEqual(2);
    await page.locator('.rp-play').click();
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps >= 150, null, { timeout: 120_000 });
    await page.locator('.rp-play').click();
    await page.waitForFunction(() => !(window as any).__resnorm.apps[0].session.busy);
    const [sa, sb] = [await steps(page, 0), await steps(page, 1)];
    expect(sa).toBe(sb);
    const [la, lb] = [await runLosses(page, 0), await runLosses(page, 1)];
    expect(la).toHaveLength(sa);
    expect(la).not.toEqual(lb);
    expect(await page.locator('.rp-run').count()).toBe(2);
    expect(await page.locator('.rp-heat-cell').count()).toBe(2);
    await page.waitForTimeout(300);
    await H.shot(page, 'compare-plain-vs-residual', { fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('falls back per field on a malformed link, with a visible notice', async () => {
    const { page, problems } = await H.open('index.html#depth=abc&lr=-5&norm=groupnorm&width=48&%E0%A4%A=1');
    expect(await waitBuilt(page)).toEqual(['ready']);
    const notice = page.locator('[data-notice="url"]');
    await expect.poll(() => notice.isVisible()).toBe(true);
    const text = await notice.textContent();
    for (const k of ['depth', 'lr', 'norm']) expect(text).toContain(k);
    expect(await page.locator('[data-key="width"][type="number"]').inputValue()).toBe('48');
    await H.shot(page, 'malformed-link');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('reports divergence plainly and pauses', async () => {
    const { page, problems } = await H.open('index.html#preset=mlp-spiral&optim=sgd&lr=10&clip=0&warmup=0&schedule=constant&norm=none&depth=8');
    await waitBuilt(page);
    await page.locator('.rp-play').click();
    const msg = page.locator('.rp-msg.error');
    await msg.first().waitFor({ timeout: 30_000 });
    expect(await msg.first().textContent()).toMatch(/diverged at step \d+/);
    await page.waitForFunction(() => !(window as any).__resnorm.apps[0].session.playing);
    expect(await page.locator('[data-stat="status"]').textContent()).toMatch(/Diverged/);
    await H.shot(page, 'diverged');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('reports a crashed engine and restarts it without reloading the page', async () => {
    const { page, problems } = await H.open('index.html#preset=mlp-spiral', { allow: [/RuntimeError|unreachable|trap/i] });
    await waitBuilt(page);
    await page.evaluate(() => (window as any).__resnorm.apps[0].session.runs[0].engine.debugTrap().catch(() => {}));
    const msg = page.locator('.rp-msg.error');
    await msg.first().waitFor({ timeout: 20_000 });
    expect(await msg.first().textContent()).toMatch(/Run A’s engine crashed/);
    await H.shot(page, 'crashed');
    await msg.first().locator('button', { hasText: 'Restart' }).click();
    expect(await waitBuilt(page)).toEqual(['ready']);
    await page.locator('.rp-stepbtn').click();
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps === 1);
    expect(problems.filter((p) => !/RuntimeError|unreachable|trap/i.test(p))).toEqual([]);
    await page.close();
  });

  it('exports CSV and JSON, saves and re-loads the model, and refuses a bad file', async () => {
    const { page, problems } = await H.open('index.html#preset=mlp-spiral');
    await waitBuilt(page);
    for (let i = 0; i < 5; i++) await page.locator('.rp-stepbtn').click();
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps === 5);
    const grab = async (action: string) => {
      await page.locator('[data-action="export-menu"]').click();
      const [dl] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-action="${action}"]`).click()]);
      const path = await dl.path();
      return { name: dl.suggestedFilename(), bytes: readFileSync(path!) };
    };
    const csv = await grab('csv');
    expect(csv.name).toMatch(/\.csv$/);
    const lines = csv.bytes.toString('utf8').trim().split('\n');
    expect(lines[0].startsWith('run,label,step,loss,lr,grad_norm,ms,')).toBe(true);
    expect(lines).toHaveLength(6);
    const json = JSON.parse((await grab('json')).bytes.toString('utf8'));
    expect(json.format).toBe('resnorm-metrics-1');
    expect(json.runs[0].steps.step).toEqual([1, 2, 3, 4, 5]);
    const [png] = await Promise.all([page.waitForEvent('download'), page.locator('[data-png="loss"]').click()]);
    expect(png.suggestedFilename()).toMatch(/-loss\.png$/);
    const pngBytes = readFileSync((await png.path())!);
    expect(pngBytes.subarray(1, 4).toString()).toBe('PNG');
    writeFileSync('test-results/e2e/export-loss.png', pngBytes);
    const model = await grab('save');
    expect(model.name).toMatch(/step5\.safetensors$/);
    const good = 'test-results/e2e/model.safetensors';
    writeFileSync(good, model.bytes);
    const bad = 'test-results/e2e/not-a-model.safetensors';
    writeFileSync(bad, 'this is not a checkpoint');
    // a bad file: a clear message, nothing changes
    const hashBefore = page.url();
    await page.locator('[data-action="upload"]').setInputFiles(bad);
    await page.locator('.rp-msg.error').first().waitFor();
    expect(await page.locator('.rp-msg.error').first().textContent()).toMatch(/Could not load not-a-model\.safetensors: .*Nothing was changed/);
    expect(await steps(page)).toBe(5);
    expect(page.url()).toBe(hashBefore);
    // the file it saved loads, and training continues from step 5
    await page.locator('[data-action="upload"]').setInputFiles(good);
    await page.locator('.rp-msg.info').first().waitFor();
    expect(await page.locator('.rp-msg.info').first().textContent()).toMatch(/step 5/);
    await page.locator('.rp-stepbtn').click();
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps === 6);
    await H.shot(page, 'checkpoint-loaded');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('switches language (and keeps it in the URL)', async () => {
    const { page, problems } = await H.open('index.html#preset=mlp-spiral');
    await waitBuilt(page);
    await page.locator('select.rp-lang').selectOption('zh');
    await expect.poll(() => page.locator('h1').textContent()).toContain('游乐场');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.waitForTimeout(300);
    expect(page.url()).toContain('lang=zh');
    expect(await page.locator('.rp-play').getAttribute('aria-label')).toBe('开始');
    await H.shot(page, 'lang-zh');
    await page.locator('select.rp-lang').selectOption('en');
    await expect.poll(() => page.locator('h1').textContent()).toBe('ResNorm Playground');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('is readable at phone width', async () => {
    const { page, problems } = await H.open('index.html#exp=plain-vs-residual', { width: 390, height: 844 });
    await waitBuilt(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await H.shot(page, 'phone');
    await H.shot(page, 'phone-full', { fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
