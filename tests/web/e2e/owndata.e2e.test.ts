// Your own data (issue 10) in headless Chromium under the strict CSP: a shared link that names your
// own text says the text is not in the link; a Chinese text file trains and samples Chinese; a bad
// file gets a notice naming the fault (en, zh); the Tang poems are selectable. Screenshots of the new
// controls in English, Chinese and at phone width go to test-results/e2e/owndata-*.png.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLosses, start, waitBuilt, type Harness } from './harness';

let H: Harness;
const dir = mkdtempSync(join(tmpdir(), 'owndata-e2e-'));
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

const POEM = '床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n春眠不覺曉，處處聞啼鳥。\n夜來風雨聲，花落知多少。\n';
const zhFile = join(dir, '静夜思.txt');
writeFileSync(zhFile, POEM.repeat(40));
const badFile = join(dir, 'bad.txt');
writeFileSync(badFile, Buffer.concat([Buffer.from('床前明月光'), Buffer.from([0xff]), Buffer.from(POEM.repeat(40))]));

const app = (page: Page, expr: string) => page.evaluate((e) => new Function('app', `return ${e}`)((window as any).__resnorm.apps[0]), expr);

describe('your own text', () => {
  // First in this file: the browser context's IndexedDB holds no text yet.
  it('a link that names your own text says it is not in the link and offers to load a file', async () => {
    const { page } = await H.open('index.html#kind=gpt&data=text', { allow: [] });
    const notice = page.locator('.rp-msg[data-tag="own"]');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('This link trains on your own text, which is not in the link');
    expect(await app(page, 'app.session.runs.length')).toBe(0);  // nothing was built
    // the notice's button opens the file chooser of the "Your own text" panel
    const chooser = page.waitForEvent('filechooser');
    await notice.locator('button', { hasText: 'Load a text file…' }).click();
    await (await chooser).setFiles(zhFile);
    expect(await waitBuilt(page)).toEqual(['ready']);
    await page.close();
  });

  it('a Chinese text file trains, and the samples are Chinese characters of it', async () => {
    // a small model, so that it learns in seconds
    const { page } = await H.open('index.html#kind=gpt&panels=loss,samples,attention&depth=2&width=32&heads=2&context=16&batch=8&lr=0.01&warmup=0&steps=300');
    expect(await waitBuilt(page)).toEqual(['ready']);
    // the text saved by the previous test is in this browser (IndexedDB): the panel says what it holds
    await page.locator('[data-own="file"]').setInputFiles(zhFile);
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.vocab?.includes('床'), null, { timeout: 60_000 });
    expect(await app(page, 'app.state.config.data')).toBe('text');
    expect(await waitBuilt(page)).toEqual(['ready']);
    expect(await page.locator('[data-own="status"]').textContent()).toBe(
      `静夜思.txt: ${(POEM.length * 40).toLocaleString('en-US')} characters, ${new Set(POEM).size} distinct (the vocabulary).`);
    const vocab: string = await app(page, 'app.session.runs[0].engine.info.vocab');
    expect([...vocab].sort()).toEqual([...new Set(POEM)].sort());
    expect(page.url()).not.toContain('%E5%BA%8A');  // the text (床 …) is nowhere in the link
    await page.locator('.rp-play').click();
    await page.waitForFunction(() => {
      const r = (window as any).__resnorm.apps[0].session.runs[0];
      return r.metrics?.steps >= 80 && r.samples.some((s: any) => s.step >= 80);
    }, null, { timeout: 120_000 });
    await page.locator('.rp-play').click();
    // it learns: the loss falls well below ln(vocabulary) = ln 39 = 3.66
    const losses = await runLosses(page);
    expect(losses[0]).toBeGreaterThan(3);
    expect(losses.slice(-10).reduce((a, b) => a + b, 0) / 10).toBeLessThan(0.8 * losses[0]);
    const sample: string = await app(page, 'app.session.runs[0].samples[0].text');
    expect([...sample].length).toBe(120);
    expect([...sample].every((c) => POEM.includes(c))).toBe(true);
    expect([...sample].filter((c) => /\p{Script=Han}/u.test(c)).length).toBeGreaterThan(40);
    await page.locator('.rp-sample pre').first().waitFor();
    expect(await page.locator('.rp-sample pre').first().textContent()).toBe(sample);
    await H.shot(page, 'owndata-zh-text-en', { fullPage: true });
    await page.close();
  });

  it('a file that is not UTF-8 gets a notice naming the byte, in English and Chinese, and changes nothing', async () => {
    for (const [lang, want] of [['en', 'bad.txt is not valid UTF-8 at byte 15.'], ['zh', 'bad.txt 在第 15 字节处不是有效的 UTF-8。']]) {
      const { page } = await H.open(`index.html#kind=gpt&data=tinyshakespeare&lang=${lang}`);
      expect(await waitBuilt(page)).toEqual(['ready']);
      await page.locator('[data-own="file"]').setInputFiles(badFile);
      const notice = page.locator('.rp-msg.error[data-tag="own"]');
      await notice.waitFor();
      expect(await notice.textContent()).toContain(want);
      expect(await app(page, 'app.state.config.data')).toBe('tinyshakespeare');
      await H.shot(page, `owndata-bad-file-${lang}`);
      await page.close();
    }
  });

  it('the Tang poems are selectable like tiny Shakespeare', async () => {
    const { page } = await H.open('index.html#kind=gpt&lang=zh');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await page.selectOption('select[data-key="data"]', 'tangpoems');
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.vocab?.length === 3000, null, { timeout: 60_000 });
    expect(await waitBuilt(page)).toEqual(['ready']);
    expect(page.url()).toContain('data=tangpoems');
    await page.locator('[data-field="data"]').scrollIntoViewIfNeeded();
    await H.shot(page, 'owndata-panel-zh');
    await page.close();
    // at phone width
    const phone = await H.open('index.html#kind=gpt&data=tangpoems', { width: 390, height: 844 });
    expect(await waitBuilt(phone.page)).toEqual(['ready']);
    await phone.page.locator('[data-own="panel"]').scrollIntoViewIfNeeded();
    await H.shot(phone.page, 'owndata-panel-phone');
    await phone.page.close();
  });
});
