// Issue 12: a gpt checkpoint from a bigger machine (here: the model of a run whose batch of 4096 sequences
// of 1024 characters is far over this page's memory cap, as a PyTorch-twin run can be) opens for
// inspection: samples and attention maps, a notice that says why it cannot train here, and Play explains
// instead of failing. The checkpoint is made at test time by the wasm engine in Node.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResnormNode } from '../../../web/src/engine/node';
import { SHOTS, app, start, steps, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

async function bigCheckpoint(): Promise<string> {
  const mod = await loadResnormNode();
  const text = readFileSync(resolve('web/public/data/tinyshakespeare.txt'), 'utf8');
  const model = { kind: 'gpt', depth: 2, width: 32, heads: 2, context: 1024 };
  const small = { model, data: { name: 'tinyshakespeare' }, optim: { batch: 2, steps: 100 }, seed: 3 };
  const trainer = new mod.Trainer(JSON.stringify(small), text, '');
  trainer.step(2);
  // an inspector with the big run's config takes the weights; its save carries that config
  const insp = mod.Trainer.inspector(JSON.stringify({ ...small, optim: { batch: 4096, steps: 100 } }), trainer.vocab());
  insp.load(trainer.save());
  const bytes = insp.save();
  trainer.delete();
  insp.delete();
  mkdirSync(SHOTS, { recursive: true });
  const file = `${SHOTS}/big-gpt.safetensors`;
  writeFileSync(file, bytes);
  return file;
}

describe('a checkpoint too big to train in the page', () => {
  it('opens for inspection: samples and attention, a notice naming why, and Play does not train', async () => {
    const file = await bigCheckpoint();
    const { page, problems } = await H.open('index.html#kind=gpt&panels=loss,samples,attention');
    expect(await waitBuilt(page)).toEqual(['ready']);
    await page.locator('[data-action="upload"]').setInputFiles(file);
    const notice = page.locator('.rp-msg.info[data-tag="load"]');
    await notice.waitFor({ timeout: 60_000 });
    expect(await notice.textContent()).toMatch(/Opened big-gpt\.safetensors \(gpt, step 2\) for inspection only: .*over the (memory )?cap/);
    expect(await app(page, 'app.session.runs[0].status')).toBe('inspect');
    await page.waitForFunction(() => document.querySelector('[data-stat="status"]')?.textContent?.includes('Inspection only'));
    await page.waitForFunction(() => {
      const r = (window as any).__resnorm.apps[0].session.runs[0];
      return r.samples.length > 0 && r.attention;
    }, null, { timeout: 60_000 });
    expect(await app(page, 'app.state.config.context')).toBe(1024);
    // Play: a notice, no steps, no error
    const before = await steps(page);
    await page.locator('.rp-play').click();
    await page.locator('.rp-msg.info[data-tag="inspect"]').waitFor();
    await page.waitForTimeout(300);
    expect(await steps(page)).toBe(before);
    await H.shot(page, 'inspect-big-checkpoint', { fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
