// Compare mode shares the cores (issue 13) in headless Chromium, on the cross-origin isolated site
// (scripts/serve.mjs sends COOP/COEP): each gpt engine loads the pthreads build with the whole count
// (navigator.hardwareConcurrency, capped at 8), the session lowers each to its share
// (web/src/engine/threadSplit.ts), each run's chip says so, and removing a run gives its share back; a single
// run says it on the status line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { threadsPerRun } from '../../../web/src/engine/threadSplit';
import { MAX_THREADS } from '../../../web/src/engine/wasm';
import { start, waitBuilt, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

type Seen = { hc: number; isolated: boolean; loaded: number[]; threads: number[]; chips: string[] };
const seen = (page: Page): Promise<Seen> => page.evaluate(() => {
  const s = (window as any).__resnorm.apps[0].session;
  return {
    hc: navigator.hardwareConcurrency, isolated: globalThis.crossOriginIsolated === true,
    loaded: s.runs.map((r: any) => r.engine.info.threads), threads: s.runs.map((r: any) => r.threads),
    chips: [...document.querySelectorAll('.rp-run .rp-run-stat')].map((e) => e.textContent ?? ''),
  };
});
/** What a chip says about n threads (web/src/i18n/en.ts), or '' where the engine has one thread only. */
const says = (n: number, loaded: number) => (loaded <= 1 ? '' : n === 1 ? '1 thread' : `${n} threads`);

/** Waits until every chip shows its run's thread count (or none, on a one-thread engine). */
async function chipsSettled(page: Page, runs: number): Promise<Seen> {
  await page.waitForFunction((n) => {
    const s = (window as any).__resnorm.apps[0].session;
    const chips = [...document.querySelectorAll('.rp-run .rp-run-stat')].map((e) => e.textContent ?? '');
    return s.runs.length === n && chips.length === n && s.runs.every((r: any, i: number) =>
      r.engine.info.threads <= 1 ? !/thread/.test(chips[i]) : chips[i].includes(r.threads === 1 ? '1 thread' : `${r.threads} threads`));
  }, runs, { timeout: 60_000 });
  return seen(page);
}

describe('compare mode shares the cores', () => {
  it('two gpt runs take a share each, and one run alone takes the machine', async () => {
    const { page, problems } = await H.open('index.html#exp=postln-vs-preln');
    expect(await waitBuilt(page, 120_000)).toEqual(['ready', 'ready']);
    const two = await chipsSettled(page, 2);
    expect(two.isolated).toBe(true);
    const whole = Math.min(MAX_THREADS, two.hc);
    expect(two.loaded).toEqual([whole, whole]);
    const share = threadsPerRun(two.hc, ['gpt', 'gpt']).map((n) => Math.min(n, whole));
    expect(two.threads).toEqual(share);
    two.chips.forEach((c, i) => expect(c).toContain(says(share[i], whole)));
    await H.shot(page, 'threads-compare-two');

    await page.locator('[data-run="b"] .rp-run-x').click();
    expect(await waitBuilt(page, 120_000)).toEqual(['ready']);
    const one = await chipsSettled(page, 1);
    const alone = Math.min(threadsPerRun(one.hc, ['gpt'])[0], whole);
    expect(one.threads).toEqual([alone]);
    expect(one.chips[0]).toContain(says(alone, whole));
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a single gpt run shows its count on the status line, an mlp run none', async () => {
    const { page, problems } = await H.open('index.html#kind=gpt');
    expect(await waitBuilt(page, 120_000)).toEqual(['ready']);
    const { hc, loaded } = await seen(page);
    const want = says(Math.min(threadsPerRun(hc, ['gpt'])[0], loaded[0]), loaded[0]);
    expect(loaded).toEqual([Math.min(MAX_THREADS, hc)]);
    await page.waitForFunction((w) => {
      const t = document.querySelector('.rp-params')?.textContent ?? '';
      return /parameters/.test(t) && (w ? t.includes(w) : !/thread/.test(t));
    }, want, { timeout: 60_000 });
    await H.shot(page, 'threads-single-gpt');
    await page.close();

    const mlp = await H.open('index.html#preset=mlp-spiral');
    expect(await waitBuilt(mlp.page)).toEqual(['ready']);
    expect((await seen(mlp.page)).loaded).toEqual([1]);  // an mlp engine loads without a pool
    await mlp.page.waitForFunction(() => /parameters/.test(document.querySelector('.rp-params')?.textContent ?? ''));
    expect(await mlp.page.locator('.rp-params').textContent()).not.toMatch(/thread/);
    expect([...problems, ...mlp.problems]).toEqual([]);
    await mlp.page.close();
  });
});
