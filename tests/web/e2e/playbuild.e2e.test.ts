// Play pressed while the widget still says "Building…" (issue 20): the press is remembered, the button
// shows that training is starting, and training starts when the build ends. The press comes at the
// earliest moment the button exists: an init script watches the DOM and clicks (or sends Space) in the
// same microtask checkpoint that the button appears in, before any engine is built.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Harness } from './harness';

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

/** Installed before the page's scripts: presses Play as soon as the button exists (a click in embed.html,
 *  Space on the document on the main page), and records what the page looked like right then and right
 *  after. Self-contained: Playwright sends its source text. */
function pressAtOnce(): void {
  const how = location.pathname.endsWith('embed.html') ? 'click' : 'space';
  const w = window as any;
  const mo = new MutationObserver(() => {
    const btn = document.querySelector<HTMLButtonElement>('.rp-play');
    if (!btn || w.__pressed) return;
    mo.disconnect();
    const app = w.__resnorm?.apps?.[0];
    w.__pressed = {
      built: app ? app.session.runs.filter((r: any) => r.status === 'ready').length : 0,
      steps: app ? app.session.steps : 0,
    };
    if (how === 'click') btn.click();
    else document.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }));
    w.__pressed.after = {
      label: btn.getAttribute('aria-label'),
      starting: btn.classList.contains('starting'),
      status: document.querySelector('[data-stat="status"]')?.textContent ?? '',
    };
  });
  mo.observe(document, { childList: true, subtree: true });
}

const CASES = [
  { name: 'mlp', path: 'embed.html?preset=mlp-spiral&height=460', steps: 20 },
  { name: 'gpt', path: 'embed.html?preset=gpt-tiny&height=460', steps: 2 },
  { name: 'cnn', path: 'embed.html?preset=cnn-digits&height=460', steps: 2 },
  { name: 'mlp, Space on the main page', path: 'index.html#preset=mlp-residual-deep', steps: 5 },
];

describe('Play while building', () => {
  for (const c of CASES) {
    it(`${c.name}: the press is remembered and training starts when the build ends`, async () => {
      const { page } = await H.open(c.path, { width: 900, height: 700, init: pressAtOnce });
      await page.waitForFunction(() => (window as any).__pressed, null, { timeout: 30_000 });
      const pressed = await page.evaluate(() => (window as any).__pressed);
      // pressed before any engine was ready, and shown as starting at once
      expect(pressed.built).toBe(0);
      expect(pressed.steps).toBe(0);
      expect(pressed.after.starting).toBe(true);
      expect(pressed.after.status).toBe('Starting…');
      // ... and it trains without another press
      await page.waitForFunction((n) => (window as any).__resnorm.apps[0].session.steps >= n, c.steps, { timeout: 120_000 });
      const s = await page.evaluate(() => { const a = (window as any).__resnorm.apps[0]; return { playing: a.session.playing, starting: document.querySelector('.rp-play')!.classList.contains('starting') }; });
      expect(s).toEqual({ playing: true, starting: false });
      await page.close();
    });
  }

  it('a second press before the build ends cancels the start', async () => {
    const { page } = await H.open('embed.html?preset=gpt-tiny&height=460', { width: 900, height: 700, init: pressAtOnce });
    await page.waitForFunction(() => (window as any).__pressed, null, { timeout: 30_000 });
    await page.evaluate(() => (document.querySelector('.rp-play') as HTMLButtonElement).click());
    await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.runs.every((r: any) => r.status === 'ready'), null, { timeout: 120_000 });
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as any).__resnorm.apps[0].session.playing)).toBe(false);
    expect(await page.evaluate(() => (window as any).__resnorm.apps[0].session.steps)).toBe(0);
    await page.close();
  });
});
