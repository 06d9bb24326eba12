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
    const { page } = await H.open('index.html#kind=gpt&panels=loss,samples,attention&depth=2&width=32&heads=2&context=16&batch=8&lr=0.01&warmup=0&steps=5000');
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

  it('pasted text: too short is refused with a notice (zh), enough of it trains', async () => {
    const { page } = await H.open('index.html#kind=gpt&lang=zh');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await page.locator('.rp-own-pastebox summary').click();
    await page.locator('[data-own="paste"]').fill('天地玄黃，宇宙洪荒。');
    await page.locator('[data-own="use-paste"]').click();
    const notice = page.locator('.rp-msg.error[data-tag="own"]');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('粘贴的文本 只有 10 个字符；至少需要 1,000 个');
    await page.locator('[data-own="paste"]').fill('天地玄黃，宇宙洪荒。日月盈昃，辰宿列張。\n'.repeat(60));
    await page.locator('[data-own="use-paste"]').click();
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.vocab?.includes('宇'), null, { timeout: 60_000 });
    expect([...(await app(page, 'app.session.runs[0].engine.info.vocab') as string)].length).toBe(19);
    await page.close();
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

describe('your own points', () => {
  const enginePoints = (page: Page) => page.evaluate(() => {
    const p = (window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.points;
    if (!p) return null;
    const out: [number, number, number][] = [];
    for (const [x, y] of [[p.xTrain, p.yTrain], [p.xTest, p.yTest]]) for (let i = 0; i < y.length; i++) out.push([x[2 * i], x[2 * i + 1], y[i]]);
    return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  });
  const rows: string[] = [];
  for (let i = 0; i < 40; i++) rows.push(`${((i % 8) / 8 - 0.5).toFixed(3)},${(Math.floor(i / 8) / 5 - 0.5).toFixed(3)},${i % 2}`);
  const goodCsv = join(dir, 'points.csv');
  writeFileSync(goodCsv, 'x,y,label\n' + rows.join('\n') + '\n');
  const badCsv = join(dir, 'bad.csv');
  writeFileSync(badCsv, 'x,y,label\n' + rows.slice(0, 3).join('\n') + '\n0.5,zero,1\n');

  it('a CSV with a bad line gets a notice naming the line (en, zh); a good one becomes the data the engine trains on', async () => {
    for (const [lang, want] of [['en', 'bad.csv, line 5: y = "zero" is not a number.'], ['zh', 'bad.csv 第 5 行：y = "zero" 不是数字。']]) {
      const { page } = await H.open(`index.html#preset=mlp-spiral&lang=${lang}`);
      expect(await waitBuilt(page)).toEqual(['ready']);
      await page.locator('[data-pts="open"]').click();
      const chooser = page.waitForEvent('filechooser');
      await page.locator('[data-pts="upload"]').click();
      await (await chooser).setFiles(badCsv);
      const notice = page.locator('.rp-msg.error[data-tag="own"]');
      await notice.waitFor();
      expect(await notice.textContent()).toContain(want);
      expect(await app(page, 'app.state.config.data')).toBe('spiral');
      await page.close();
    }
    const { page } = await H.open('index.html#preset=mlp-spiral');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await page.locator('[data-pts="open"]').click();
    const chooser = page.waitForEvent('filechooser');
    await page.locator('[data-pts="upload"]').click();
    await (await chooser).setFiles(goodCsv);
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.points?.yTrain.length === 32, null, { timeout: 60_000 });
    expect(await app(page, 'app.state.config.data')).toBe('points');
    const want = rows.map((r) => r.split(',').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(await enginePoints(page)).toEqual(want.map(([x, y, l]) => [Math.fround(x), Math.fround(y), l]));
    expect(page.url()).not.toContain('0.375');  // the points are not in the link
    await page.close();
  });

  it('clicking the picture adds and erases points of the data the engine trains on; regenerate draws new data', async () => {
    const { page } = await H.open('index.html#preset=mlp-spiral&panels=loss,boundary&samples=50');
    expect(await waitBuilt(page)).toEqual(['ready']);
    const before = (await enginePoints(page))!;
    expect(before.length).toBe(50);
    const canvas = page.locator('canvas.boundary').first();
    // + class 1 at the centre of the picture: the plane's (0, 0)
    await page.locator('[data-pts="open"]').click();
    await page.locator('[data-pts="add1"]').click();
    expect(await page.locator('[data-pts="add1"]').getAttribute('aria-pressed')).toBe('true');
    // measured after the clicks above: scrolling them into view may have moved the picture
    await canvas.scrollIntoViewIfNeeded();
    let box = (await canvas.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => {
      const p = (window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.points;
      return p && p.yTrain.length + p.yTest.length === 51;
    }, null, { timeout: 60_000 });
    const after = (await enginePoints(page))!;
    const added = after.filter((p) => !before.some((q) => q[0] === p[0] && q[1] === p[1]));
    expect(added).toHaveLength(1);
    expect(Math.abs(added[0][0])).toBeLessThan(0.02);
    expect(Math.abs(added[0][1])).toBeLessThan(0.02);
    expect(added[0][2]).toBe(1);
    expect(await app(page, 'app.state.config.data')).toBe('points');
    await page.waitForTimeout(300);
    await H.shot(page, 'owndata-points-en');
    // the eraser takes it away again
    await page.locator('[data-pts="erase"]').click();
    await canvas.scrollIntoViewIfNeeded();
    box = (await canvas.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => {
      const p = (window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.points;
      return p && p.yTrain.length + p.yTest.length === 50;
    }, null, { timeout: 60_000 });
    expect((await enginePoints(page))!.filter((p) => Math.abs(p[0]) < 0.02 && Math.abs(p[1]) < 0.02 && p[2] === 1)).toHaveLength(
      before.filter((p) => Math.abs(p[0]) < 0.02 && Math.abs(p[1]) < 0.02 && p[2] === 1).length);
    // regenerate: a new data seed (data.seed) for the built-in dataset draws other points; the run's seed
    // (initial weights, batches) stays, and the link records the data seed
    await page.selectOption('select[data-key="data"]', 'circle');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.config?.data?.name === 'circle');
    const seed = await app(page, 'app.state.config.seed');
    const circle = await enginePoints(page);
    await page.locator('[data-pts="regenerate"]').click();
    await page.waitForFunction(() => ((window as any).__resnorm.apps[0].session.runs[0]?.engine?.info?.config?.data?.seed ?? 0) !== 0, null, { timeout: 60_000 });
    expect(await waitBuilt(page)).toEqual(['ready']);
    expect(await app(page, 'app.session.runs[0].engine.info.config.seed')).toBe(seed);
    const dseed = await app(page, 'app.state.config.dseed');
    expect(dseed).toBeGreaterThan(0);
    await page.waitForFunction((d) => location.hash.includes(`dseed=${d}`), dseed);
    expect(await enginePoints(page)).not.toEqual(circle);
    await page.close();
  });

  it('screenshots: the points tools in Chinese and at phone width', async () => {
    const zh = await H.open('index.html#preset=mlp-spiral&lang=zh&panels=loss,boundary');
    expect(await waitBuilt(zh.page)).toEqual(['ready']);
    await zh.page.locator('[data-pts="open"]').click();
    await zh.page.locator('[data-pts="panel"]').scrollIntoViewIfNeeded();
    await H.shot(zh.page, 'owndata-points-zh');
    await zh.page.close();
    const phone = await H.open('index.html#preset=mlp-spiral', { width: 390, height: 844 });
    expect(await waitBuilt(phone.page)).toEqual(['ready']);
    await phone.page.locator('[data-pts="open"]').click();
    await phone.page.locator('[data-pts="panel"]').scrollIntoViewIfNeeded();
    await H.shot(phone.page, 'owndata-points-phone');
    await phone.page.close();
  });
});
