// Training logs beside the browser's runs (issue 12) in headless Chromium under the strict CSP: a log
// written by the CLI (tests/web/fixtures/cli-mlp.jsonl, committed as `resnorm train --log` wrote it;
// the fixtures' README has the command) through the Export menu's file chooser, and one written by the
// PyTorch twin (twin-gpt.jsonl) dropped on the page. Each is drawn in the loss chart and the per-block
// charts with its name in the legend, says it is not in the link (the link does not change), and a
// bad line is named by its number, in English and Chinese. Screenshots: test-results/e2e/runlog-*.png.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app, start, stepN, waitBuilt, type Harness } from './harness';

let H: Harness;
const dir = mkdtempSync(join(tmpdir(), 'runlog-e2e-'));
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

const CLI = 'tests/web/fixtures/cli-mlp.jsonl';
const TWIN = 'tests/web/fixtures/twin-gpt.jsonl';
const cliLines = readFileSync(CLI, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

async function importByMenu(page: Page, file: string): Promise<void> {
  await page.locator('[data-action="export-menu"]').click();
  await page.locator('.rp-menu-list').waitFor();
  await page.locator('[data-action="import-log"]').setInputFiles(file);
}

/** Drops a file on the widget as a browser does (dragenter, dragover, drop with a DataTransfer). */
async function dropFile(page: Page, name: string, text: string, shot?: string): Promise<void> {
  const dt = await page.evaluateHandle(([n, t]) => {
    const d = new DataTransfer();
    d.items.add(new File([t], n, { type: '' }));
    return d;
  }, [name, text] as const);
  await page.dispatchEvent('.rp-app', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('.rp-app', 'dragover', { dataTransfer: dt });
  await page.locator('.rp-app.rp-dropping').waitFor();
  if (shot) await H.shot(page, shot);
  await page.dispatchEvent('.rp-app', 'drop', { dataTransfer: dt });
  await page.locator('.rp-app:not(.rp-dropping)').waitFor();
}

const legend = (page: Page, panel: string) =>
  page.locator(`[data-panel="${panel}"] .u-legend .u-series .u-label`).allTextContents();

describe('a training log beside the runs', () => {
  it('imports a CLI log from the Export menu: loss and per-block charts, legend, notice, link unchanged', async () => {
    const { page } = await H.open('index.html#preset=mlp-spiral&panels=loss,profile,rms,update');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await stepN(page, 3);
    const hash = await page.evaluate(() => location.hash);
    await importByMenu(page, CLI);
    const notice = page.locator('.rp-msg[data-tag^="log:"]');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('cli-mlp.jsonl (60 steps, 1–60)');
    expect(await notice.textContent()).toContain('It is not in the link');
    // the loss chart: the run's two series and the log's two, named by the file
    await page.waitForFunction(() => document.querySelectorAll('[data-panel="loss"] .u-legend .u-series').length >= 4);
    const loss = await legend(page, 'loss');
    expect(loss).toContain('log cli-mlp.jsonl train');
    expect(loss).toContain('log cli-mlp.jsonl val');
    for (const p of ['profile', 'rms', 'update']) expect(await legend(page, p)).toContain('log cli-mlp.jsonl');
    // the data the charts draw are the log's values: its losses, and its last step's per-block norms
    const drawn = await app(page, `(() => { const m = app.io.logs[0].metrics; return { loss: Array.from(m.loss.view()), grad: Array.from(m.gradBlocks.latest), evals: m.evals.map((e) => e.valLoss) }; })()`) as { loss: number[]; grad: number[]; evals: number[] };
    expect(drawn.loss).toEqual(cliLines.map((l) => l.loss));
    expect(drawn.grad).toEqual(cliLines[59].block_grad_norm.map(Math.fround));
    expect(drawn.evals).toEqual(cliLines.filter((l) => 'val_loss' in l).map((l) => l.val_loss));
    // what the loss chart draws: x = the log's 60 steps (the longest), its third and fourth columns the log's
    await page.waitForFunction(() => ((window as any).__resnorm.apps[0].parts.loss.data[0]?.length ?? 0) === 60);
    const cols = await app(page, 'app.parts.loss.data.map((c) => Array.from(c))') as (number | null)[][];
    expect(cols[0]).toEqual(cliLines.map((l) => l.step));
    expect(cols[3]).toEqual(cliLines.map((l) => l.loss));
    expect(cols[4].filter((v) => v !== null)).toEqual(drawn.evals);
    // the per-block chart: the log's last step, block by block
    const prof = await app(page, 'app.parts.profile.data.map((c) => Array.from(c))') as number[][];
    expect(prof[2]).toEqual(cliLines[59].block_grad_norm.map(Math.fround));
    // nothing of it in the link
    await page.waitForTimeout(300);  // the hash is written 100 ms after a change: give a wrong write its chance
    expect(await page.evaluate(() => location.hash)).toBe(hash);
    await page.locator('[data-panel="loss"]').scrollIntoViewIfNeeded();
    await H.shot(page, 'runlog-cli-en');
    // the loss read-out names the log and its values at the step under the pointer
    const over = page.locator('[data-panel="loss"] .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    const ro = page.locator('[data-readout="loss"]');
    await page.waitForFunction(() => document.querySelector('[data-readout="loss"]')?.textContent?.includes('log cli-mlp.jsonl: train'));
    expect(await ro.textContent()).toMatch(/^step \d+ · A: train loss [\d.]+.* · log cli-mlp\.jsonl: train loss [\d.]+/);
    // remove it: gone from the legends
    await notice.locator('button', { hasText: 'Remove log' }).click();
    await page.waitForFunction(() => !document.querySelector('[data-panel="loss"] .u-legend')?.textContent?.includes('cli-mlp'));
    expect(await app(page, 'app.io.logs.length')).toBe(0);
    await page.close();
  });

  it('takes a log of the PyTorch twin dropped on the page, in Chinese', async () => {
    const { page } = await H.open('index.html#preset=gpt-tiny&lang=zh&panels=loss,profile');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await dropFile(page, 'twin-gpt.jsonl', readFileSync(TWIN, 'utf8'), 'runlog-drop-zh');
    const notice = page.locator('.rp-msg[data-tag^="log:"]');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('训练日志 twin-gpt.jsonl（30 步，1–30）');
    expect(await notice.textContent()).toContain('它不在链接中');
    await page.waitForFunction(() => document.querySelector('[data-panel="loss"] .u-legend')?.textContent?.includes('日志 twin-gpt.jsonl'));
    expect(await legend(page, 'profile')).toContain('日志 twin-gpt.jsonl');
    await page.locator('[data-panel="loss"]').scrollIntoViewIfNeeded();
    await H.shot(page, 'runlog-twin-zh');
    await page.close();
  });

  it('names the bad line of a broken log and the cap of a big one, and changes nothing', async () => {
    const bad = join(dir, 'broken.jsonl');
    const lines = readFileSync(CLI, 'utf8').split('\n');
    lines[6] = lines[6].slice(0, 40);  // line 7 cut short
    writeFileSync(bad, lines.join('\n'));
    const { page } = await H.open('index.html#preset=mlp-spiral&panels=loss');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await importByMenu(page, bad);
    const notice = page.locator('.rp-msg[data-tag="log"]');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Could not import broken.jsonl: line 7 is not a JSON object. Nothing was changed.');
    expect(await app(page, 'app.io.logs.length')).toBe(0);
    // a file of another kind dropped: said so
    await dropFile(page, 'picture.png', '\x89PNG');
    await page.locator('.rp-msg[data-tag="drop"]').waitFor();
    expect(await page.locator('.rp-msg[data-tag="drop"]').textContent()).toContain('Cannot use picture.png here');
    // the menu (still open from the import) states the cap
    expect(await page.locator('.rp-log-note').textContent()).toContain('at most 64 MiB');
    await H.shot(page, 'runlog-menu-en');
    await page.close();
  });
});

// Issue 10: an embed gets the uploads of your own data when its `controls=` has the data field.
describe('your own data in an embed', () => {
  it('embed.html shows the points tools and the text upload only with controls=data', async () => {
    const { page } = await H.open('embed.html?preset=mlp-spiral&controls=data&panels=loss,boundary&height=700', { width: 760, height: 760 });
    await page.locator('[data-pts="open"]').waitFor();
    await page.locator('[data-pts="open"]').click();
    await page.locator('[data-pts="panel"]').waitFor();
    await H.shot(page, 'runlog-embed-points');
    await page.close();
    const gpt = await H.open('embed.html?preset=gpt-tiny&controls=data,lr&panels=loss', { width: 760, height: 760 });
    await gpt.page.locator('[data-own="panel"]').waitFor({ state: 'attached' });
    await gpt.page.close();
    const none = await H.open('embed.html?preset=mlp-spiral&controls=lr&panels=loss,boundary', { width: 760, height: 760 });
    await none.page.locator('.rp-bcell canvas').first().waitFor();
    expect(await none.page.locator('[data-pts="open"]').count()).toBe(0);
    await none.page.close();
  });
});
