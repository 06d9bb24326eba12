// Training logs beside the browser's runs (issue 12) in headless Chromium under the strict CSP: a log
// written by the CLI (tests/web/fixtures/cli-mlp.jsonl, committed as `resnorm train --log` wrote it;
// the fixtures' README has the command) through the Export menu's file chooser, and one written by the
// PyTorch twin (twin-gpt.jsonl) dropped on the page. Each is drawn in the loss chart and the per-block
// charts with its name in the legend, says it is not in the link (the link does not change), and a
// bad line is named by its number, in English and Chinese. A deeper CLI log (cli-deep.jsonl) gets its
// own gradient heatmap (checked by its pixels and its read-out against the file) and the per-block
// charts show any of its steps from a slider; a ~24 MB log is read by the log worker with its progress
// shown. Screenshots: test-results/e2e/runlog-*.png.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app, start, stepN, waitBuilt, type Harness } from './harness';
import { fmtValue } from '../../../web/src/charts/readout';
import { BlockSeries } from '../../../web/src/metrics';

let H: Harness;
const dir = mkdtempSync(join(tmpdir(), 'runlog-e2e-'));
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); rmSync(dir, { recursive: true, force: true }); });

const CLI = 'tests/web/fixtures/cli-mlp.jsonl';
const TWIN = 'tests/web/fixtures/twin-gpt.jsonl';
const DEEP = 'tests/web/fixtures/cli-deep.jsonl';  // a plain 8-layer mlp: its first blocks' gradients vanish
const cliLines = readFileSync(CLI, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const deepLines = readFileSync(DEEP, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

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

  it('draws a CLI log\'s gradient heatmap beside the run\'s, and any step of it in the per-block charts', async () => {
    const { page } = await H.open('index.html#preset=mlp-spiral&panels=loss,heatmap,profile,rms,update');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await stepN(page, 3);
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    await importByMenu(page, DEEP);
    await page.locator('.rp-msg[data-tag^="log:"]').waitFor();
    // the log's map, drawn: its description is set in the same task that draws it
    const canvas = page.locator('.rp-log-heat[data-log="cli-deep.jsonl"] canvas.heatmap');
    await page.waitForFunction(() => document.querySelector('.rp-log-heat canvas.heatmap')?.getAttribute('aria-label')?.includes('steps 0–200'));
    expect(await canvas.getAttribute('aria-label')).toBe('Gradient norm heatmap log cli-deep.jsonl: blocks 1–8 (rows, first at the top), steps 0–200 (columns)');
    // read by the log worker, not on the page's thread
    expect(workers.some((u) => /runlogWorker/.test(u))).toBe(true);
    // what the map holds: every step of the log, block by block (no averaging under 4,096 steps)
    const cols = await app(page, 'app.parts.logHeat[0].map.last.s.endStep.length') as number;
    expect(cols).toBe(200);
    // the pixels: the plot is filled (not the grey of "no data"), block 1 (vanishing) darker than block 8
    const px = await canvas.evaluate((c: HTMLCanvasElement) => {
      const ctx = c.getContext('2d')!, dpr = c.width / c.clientWidth;
      const top = 8, bottom = 34, left = 46, right = 58, h = c.clientHeight - top - bottom, w = c.clientWidth - left - right;
      const x0 = Math.round(left * dpr), y0 = Math.round(top * dpr), pw = Math.round(w * dpr);
      const img = ctx.getImageData(x0, y0, pw, Math.round(h * dpr)).data;  // one read of the plot
      const rowLum = (b: number) => {  // mean luminance along block b's row (1-based), over the plot's width
        const y = Math.round((b - 0.5) * h / 8 * dpr);
        let sum = 0, grey = 0;
        for (let i = y * pw * 4; i < (y + 1) * pw * 4; i += 4) {
          sum += 0.2126 * img[i] + 0.7152 * img[i + 1] + 0.0722 * img[i + 2];
          if (img[i] === 0xf3 && img[i + 1] === 0xf4 && img[i + 2] === 0xf6) grey++;
        }
        return { lum: sum / pw, grey: grey / pw };
      };
      return [rowLum(1), rowLum(8)];
    });
    expect(px[0].grey).toBeLessThan(0.02);
    expect(px[1].grey).toBeLessThan(0.02);
    expect(px[0].lum).toBeLessThan(px[1].lum);
    // the pointer over block 1 near step 100: the log's value there, as the CLI wrote it
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const x = 46 + (box.width - 46 - 58) * (99.5 / 200), y = 8 + (box.height - 8 - 34) * (0.5 / 8);
    await page.mouse.move(box.x + x, box.y + y);
    await page.waitForFunction(() => document.querySelector('[data-readout="heatmap"]')?.textContent?.startsWith('log cli-deep.jsonl: block 1'));
    const ro = await page.locator('[data-readout="heatmap"]').textContent();
    const m = /^log cli-deep\.jsonl: block 1 · step (\d+) · grad norm (\S+)$/.exec(ro ?? '');
    expect(m, ro ?? '').not.toBeNull();
    const step = Number(m![1]);
    expect(Math.abs(step - 100)).toBeLessThanOrEqual(1);
    expect(m![2]).toBe(fmtValue(Math.fround(deepLines[step - 1].block_grad_norm[0])));
    // the run's map says which is which once a log is beside it
    await page.locator('[data-panel="heatmap"]').scrollIntoViewIfNeeded();
    await H.shot(page, 'runlog-heatmap-en');
    // the per-block charts: the log's last step, then step 50 from the slider, block by block
    const logCol = (p: string) => app(page, `Array.from(app.parts.${p}.data[2])`) as Promise<number[]>;
    const f32 = (a: number[]) => a.map(Math.fround);
    expect(await logCol('profile')).toEqual(f32(deepLines[199].block_grad_norm));
    const slider = page.locator('[data-panel="rms"] input[data-action="log-step"]');
    expect(await slider.isVisible()).toBe(true);
    await slider.fill('50');
    await page.waitForFunction(() => document.querySelector('[data-panel="rms"] .rp-log-step-value')?.textContent === '50 of 1–200');
    await page.waitForFunction((want) => JSON.stringify(Array.from((window as any).__resnorm.apps[0].parts.rms.data[2])) === want, JSON.stringify(f32(deepLines[49].block_act_rms)));
    expect(await logCol('profile')).toEqual(f32(deepLines[49].block_grad_norm));
    expect(await logCol('update')).toEqual(f32(deepLines[49].update_ratio));
    // every slider moved together; the read-out names the log's step
    expect(await page.locator('[data-panel="profile"] .rp-log-step-value').textContent()).toBe('50 of 1–200');
    const over = page.locator('[data-panel="rms"] .u-over');
    const ob = (await over.boundingBox())!;
    await page.mouse.move(ob.x + ob.width * (2 / 7), ob.y + ob.height * 0.5);  // block 3 of 1..8
    await page.waitForFunction(() => document.querySelector('[data-readout="rms"]')?.textContent?.includes('log cli-deep.jsonl'));
    expect(await page.locator('[data-readout="rms"]').textContent()).toMatch(/^block 3 · /);
    expect(await page.locator('[data-readout="rms"]').textContent()).toContain(`log cli-deep.jsonl: ${fmtValue(Math.fround(deepLines[49].block_act_rms[2]))} (step 50)`);
    await page.locator('[data-panel="rms"]').scrollIntoViewIfNeeded();
    await H.shot(page, 'runlog-history-en');
    await page.close();
  });

  it('reads a big log in the worker, its progress shown (in Chinese), then draws its map', async () => {
    // ~24 MB: the CLI log's lines again and again, renumbered
    const big = join(dir, 'big.jsonl');
    const rows: string[] = [];
    for (let i = 0; i < 36000; i++) {
      const l = { ...deepLines[i % deepLines.length], step: i + 1 };
      rows.push(JSON.stringify(l));
    }
    writeFileSync(big, rows.join('\n'));
    const { page } = await H.open('index.html#preset=mlp-spiral&lang=zh&panels=loss,heatmap,profile');
    expect(await waitBuilt(page)).toEqual(['ready']);
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    // every notice the page shows, recorded as it is added (a short-lived one is not missed)
    await page.evaluate(() => {
      const seen: string[] = ((window as any).__notices = []);
      new MutationObserver((rs) => { for (const r of rs) r.addedNodes.forEach((n) => { if (n instanceof HTMLElement && n.dataset.tag) seen.push(`${n.dataset.tag}|${n.textContent}`); }); })
        .observe(document.querySelector('.rp-app')!, { childList: true, subtree: true });
    });
    await importByMenu(page, big);
    await page.locator('.rp-msg[data-tag^="log:"]').waitFor();
    expect(await page.locator('.rp-msg[data-tag^="log:"]').textContent()).toContain('36,000 步，1–36,000');
    expect(await page.locator('.rp-msg[data-tag^="log-read:"]').count()).toBe(0);  // the progress is gone
    const notices = await page.evaluate(() => (window as any).__notices as string[]);
    const progress = notices.filter((n) => n.startsWith('log-read:big.jsonl|'));
    expect(progress[0]).toMatch(/^log-read:big\.jsonl\|正在读取训练日志 big\.jsonl…… 0%/);
    expect(progress.length).toBeGreaterThan(0);
    expect(workers.some((u) => /runlogWorker/.test(u))).toBe(true);
    // its map: the log's per-block series as the page keeps them (merged columns past 4,096 steps)
    await page.waitForFunction(() => document.querySelector('.rp-log-heat canvas.heatmap')?.getAttribute('aria-label')?.includes('36000'));
    const ref = new BlockSeries(8);
    for (let i = 0; i < 36000; i++) ref.push(i + 1, deepLines[i % deepLines.length].block_grad_norm);
    const got = await app(page, '(() => { const s = app.io.logs[0].metrics.gradBlocks; return { end: s.endStep, first: Array.from(s.column(0)), last: Array.from(s.column(s.columns - 1)) }; })()') as { end: number[]; first: number[]; last: number[] };
    expect(got.end).toEqual(ref.endStep);
    expect(got.first).toEqual(Array.from(ref.column(0)));
    expect(got.last).toEqual(Array.from(ref.column(ref.columns - 1)));
    await page.locator('[data-panel="heatmap"]').scrollIntoViewIfNeeded();
    await H.shot(page, 'runlog-big-zh');
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
