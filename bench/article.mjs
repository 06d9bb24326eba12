#!/usr/bin/env node
// Is a long post with many widgets still smooth while one of them trains? (issue 20, item 6; a
// benchmark, not a test.) In headless Chromium: open the post, scroll to every widget so that each is
// built (they build when first seen), come back to the first one, press play and count the main
// thread's long tasks (> 50 ms, PerformanceObserver 'longtask') and animation frames while it trains.
// The same in the one-widget-at-a-time example blog post, and the same page idle, side by side in one
// run, ROUNDS rounds alternating. Writes bench/results/article.json.
// Usage: npm run build && node bench/article.mjs   (BENCH_SECONDS=15 ROUNDS=3)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { serve } from '../scripts/serve.mjs';
import { launch, watch } from '../tests/web/browser.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const OUT = process.env.BENCH_OUT ?? 'bench/results/article.json';
if (!existsSync('web/dist/examples/article-zh.html')) { console.error('web/dist/examples/article-zh.html is missing: run `npm run build` first'); process.exit(2); }
const { server, url } = await serve({ dir: 'web/dist', csp: 'strict' });
const origin = url.replace(/\/$/, '');
const browser = await launch({ width: 1280, height: 900 });
await browser.context.addInitScript(() => {
  window.__longtasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, ms: e.duration }); })
    .observe({ type: 'longtask', buffered: true });
  window.__frames = 0;
  const tick = () => { window.__frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
});

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };

/** One measurement: the post's widgets all built, widget 0 training (or, idle, none) for SECONDS. */
async function measure(path, { train }) {
  const page = await browser.context.newPage();
  const problems = watch(page, origin);
  await page.goto(url + path);
  const n = await page.locator('resnorm-playground').count();
  for (let i = 0; i < n; i++) {
    await page.locator('resnorm-playground').nth(i).scrollIntoViewIfNeeded();
    await page.waitForFunction((k) => {
      const s = document.querySelectorAll('resnorm-playground')[k].app?.session;
      return s && s.runs.length > 0 && s.runs.every((r) => r.status !== 'building');
    }, i, { timeout: 180_000 });
  }
  const first = page.locator('resnorm-playground').first();
  await first.scrollIntoViewIfNeeded();
  if (train) {
    await first.locator('.rp-play').click();
    await page.waitForFunction(() => document.querySelector('resnorm-playground').app.session.steps > 20, null, { timeout: 60_000 });
  }
  await page.waitForTimeout(2000);  // warm-up (JIT, first evaluations)
  const snap = () => page.evaluate(() => ({ t: performance.now(), frames: window.__frames, long: window.__longtasks.length,
    steps: document.querySelector('resnorm-playground').app.session.steps }));
  const a = await snap();
  await page.waitForTimeout(SECONDS * 1000);
  const b = await snap();
  const long = await page.evaluate((from) => window.__longtasks.slice(from), a.long);
  if (train) await first.locator('.rp-play').click();
  await page.close();
  const s = (b.t - a.t) / 1000;
  return { widgets: n, long_tasks: long.length, long_ms: long.map((l) => +l.ms.toFixed(1)), fps: +((b.frames - a.frames) / s).toFixed(1),
    steps_per_s: +((b.steps - a.steps) / s).toFixed(1), problems };
}

const scenarios = [
  ['article_zh_training', 'examples/article-zh.html', true],
  ['article_en_training', 'examples/article-en.html', true],
  ['blog_post_training', 'examples/blog-post.html', true],
  ['article_zh_idle', 'examples/article-zh.html', false],
];
const results = {
  when: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_before: os.loadavg().map((x) => +x.toFixed(2)) },
  browser: browser.context.browser()?.version() ?? 'chromium',
  seconds_measured: SECONDS, rounds: ROUNDS,
  note: 'widget 1 of each post (plain-vs-residual, an mlp comparison) trains at the playground speed while every other widget of the post is built and paused',
  scenarios: {},
};
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, path, train] of scenarios) {
    const m = await measure(path, { train });
    (results.scenarios[name] ??= { rounds: [] }).rounds.push(m);
    console.log(`round ${r + 1} ${name}: ${m.widgets} widgets, long tasks ${m.long_tasks} ${JSON.stringify(m.long_ms)}, ${m.fps} frames/s, ${m.steps_per_s} steps/s, load ${os.loadavg()[0].toFixed(2)}${m.problems.length ? `, problems: ${m.problems.join('; ')}` : ''}`);
  }
}
for (const s of Object.values(results.scenarios)) {
  s.median_long_tasks = median(s.rounds.map((m) => m.long_tasks));
  s.median_fps = median(s.rounds.map((m) => m.fps));
  s.median_steps_per_s = median(s.rounds.map((m) => m.steps_per_s));
}
const z = results.scenarios.article_zh_training, b = results.scenarios.blog_post_training;
results.ratio_fps_article_zh_vs_blog_post = +(z.median_fps / b.median_fps).toFixed(3);
results.machine.loadavg_after = os.loadavg().map((x) => +x.toFixed(2));
console.log(`medians: ${Object.entries(results.scenarios).map(([k, v]) => `${k}: long tasks ${v.median_long_tasks}, ${v.median_fps} frames/s, ${v.median_steps_per_s} steps/s`).join('; ')}`);
console.log(`frames/s article-zh / blog-post: ${results.ratio_fps_article_zh_vs_blog_post}; load before ${results.machine.loadavg_before.join(' ')}, after ${results.machine.loadavg_after.join(' ')}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${OUT}`);
await browser.close();
server.close();
