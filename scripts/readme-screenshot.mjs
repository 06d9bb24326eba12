#!/usr/bin/env node
// The README's screenshot (docs/playground.png): the built playground (web/dist) served with the strict CSP,
// opened in headless Chromium on the plain-vs-residual experiment (#exp=), played (Space) for SECONDS, captured.
// Usage: npm run build && SHOT_HEIGHT=1720 node scripts/readme-screenshot.mjs 15 /tmp/shot.png   ([SECONDS=20] [OUT=docs/playground.png])
// Then shrink it: /usr/bin/python3 scripts/png-quantize.py /tmp/shot.png docs/playground.png 0.75 (how the committed
// one was made: 1280x1720 -> 960x1290, 256 colours, 109 KB). SHOT_HEIGHT=1720 sets the viewport's height.
import { existsSync } from 'node:fs';
import { serve } from './serve.mjs';
import { launch, watch } from '../tests/web/browser.mjs';

const seconds = Number(process.argv[2] ?? 20);
const out = process.argv[3] ?? 'docs/playground.png';
if (!Number.isFinite(seconds) || seconds < 0) { console.error(`readme-screenshot: SECONDS must be a number >= 0, got "${process.argv[2]}"`); process.exit(2); }
if (!existsSync('web/dist/index.html')) { console.error('readme-screenshot: web/dist/index.html is missing: run npm run build first'); process.exit(2); }
const { server, url } = await serve({ dir: 'web/dist', csp: 'strict' });
const browser = await launch({ width: 1280, height: Number(process.env.SHOT_HEIGHT ?? 1500) });
try {
  const page = await browser.context.newPage();
  const problems = watch(page, url.replace(/\/$/, ''));
  await page.goto(`${url}#exp=plain-vs-residual`);
  await page.waitForTimeout(2000);
  await page.keyboard.press('Space');  // play (the page's keyboard map)
  await page.waitForTimeout(seconds * 1000);
  await page.screenshot({ path: out });
  console.log(`readme-screenshot: ${out} after ${seconds} s${problems.length ? `; page problems: ${problems.join('; ')}` : ''}`);
} finally {
  await browser.close();
  server.close();
}
