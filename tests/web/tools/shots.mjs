#!/usr/bin/env node
// Screenshots for looking at the design: serves a built site with the strict CSP, opens each page
// in headless Chromium, optionally clicks play, waits, and saves PNGs to test-results/shots/.
//   node tests/web/tools/shots.mjs <dist-dir> <name>=<path>[@<width>][!play][~<ms>][^][%<selector>] ...
// (^: the viewport only; %selector: one element)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../../../scripts/serve.mjs';
import { launch, watch } from '../browser.mjs';

const [dir, ...specs] = process.argv.slice(2);
const { server, url } = await serve({ dir });
const out = 'test-results/shots';
mkdirSync(out, { recursive: true });
const browser = await launch();
for (const spec of specs) {
  const m = /^([\w-]+)=([^@!~^%]*)(?:@(\d+))?(!play)?(?:~(\d+))?(\^)?(?:%(.+))?$/.exec(spec);
  if (!m) { console.error('bad spec', spec); continue; }
  const [, name, path, width, play, wait, viewportOnly, element] = m;
  const w = Number(width ?? 1400);
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: w, height: w < 600 ? 900 : 1000 });
  const problems = watch(page, url.replace(/\/$/, ''));
  await page.goto(url + path);
  await page.waitForTimeout(800);
  if (play && !element) await page.keyboard.press('Space');
  await page.waitForTimeout(Number(wait ?? 1500));
  if (element) {
    // e.g. %resnorm-playground>>nth=1 : one element, scrolled into view (and so started) first
    const loc = page.locator(element);
    await loc.scrollIntoViewIfNeeded();
    if (play) { await page.waitForTimeout(1500); await loc.locator('.rp-play').click(); }
    await page.waitForTimeout(Number(wait ?? 1500));
    await loc.screenshot({ path: join(out, `${name}.png`) });
  } else await page.screenshot({ path: join(out, `${name}.png`), fullPage: !viewportOnly });
  console.log('saved', join(out, `${name}.png`), problems.length ? `\n  ${problems.join('\n  ')}` : '');
  await page.close();
}
await browser.close();
server.close();
