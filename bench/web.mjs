#!/usr/bin/env node
// Responsiveness of the playground in headless Chromium (a benchmark, not a test): main-thread
// long tasks (> 50 ms, PerformanceObserver 'longtask') and chart redraws per second while four
// compare runs train, training throughput, and first paint of the example post from a local
// server. Writes bench/results/web.json.   Usage: npm run bench:web  (or node bench/web.mjs after a build)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { serve } from '../scripts/serve.mjs';
import { launch, watch } from '../tests/web/browser.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
// BENCH_ONLY=name,name runs only those scenarios (for side-by-side and bisection runs); such a partial
// run prints its figures but writes bench/results/web.json only when BENCH_OUT names another file.
const SCENARIOS = ['compare4_mlp_residual_deep', 'compare4_mlp_spiral', 'compare4_mlp_residual_deep_loss_chart_only', 'single_gpt_tiny', 'blog_first_paint'];
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null;
const unknown = (ONLY ?? []).filter((n) => !SCENARIOS.includes(n));
if (unknown.length) { console.error(`BENCH_ONLY: no scenario ${unknown.join(', ')} (there are ${SCENARIOS.join(', ')})`); process.exit(2); }
const wanted = (name) => !ONLY || ONLY.includes(name);
const OUT = process.env.BENCH_OUT ?? (ONLY ? null : 'bench/results/web.json');
// BENCH_DIST=dir serves another build of the page (a copy of web/dist from another commit), for A/B runs.
const DIST = process.env.BENCH_DIST ?? 'web/dist';
if (!existsSync(`${DIST}/index.html`)) { console.error(`${DIST}/index.html is missing: build the page first (npm run build)`); process.exit(2); }
const { server, url } = await serve({ dir: DIST, csp: 'strict' });
const origin = url.replace(/\/$/, '');
const browser = await launch({ width: 1400, height: 1000 });
const results = {
  when: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_before: os.loadavg().map((x) => +x.toFixed(2)) },
  browser: browser.context.browser()?.version() ?? 'chromium',
  seconds_measured: SECONDS,
  scenarios: {},
};

// Long tasks are collected from the very start of each page (before any of our scripts run).
await browser.context.addInitScript(() => {
  window.__longtasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, ms: e.duration }); })
    .observe({ type: 'longtask', buffered: true });
  window.__frames = 0;
  const tick = () => { window.__frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
});

async function trainScenario(name, hash, { runs }) {
  if (!wanted(name)) return;
  const page = await browser.context.newPage();
  const problems = watch(page, origin);
  await page.goto(`${url}index.html#${hash}`);
  await page.waitForFunction((n) => {
    const s = window.__resnorm?.apps?.[0]?.session;
    return s && s.runs.length === n && s.runs.every((r) => r.status === 'ready');
  }, runs, { timeout: 120_000 });
  await page.selectOption('select.rp-speed', '0');            // as fast as the engines go
  await page.locator('.rp-play').click();
  await page.waitForTimeout(3000);                            // warm-up (JIT, first evaluations)
  const snap = () => page.evaluate(() => {
    const app = window.__resnorm.apps[0];
    return { t: performance.now(), draws: app.drawCount, frames: window.__frames, steps: app.session.steps, long: window.__longtasks.length,
      ms: app.session.runs.map((r) => r.metrics.recentMs(50)) };
  });
  const a = await snap();
  await page.waitForTimeout(SECONDS * 1000);
  const b = await snap();
  const long = await page.evaluate((from) => window.__longtasks.slice(from), a.long);
  await page.locator('.rp-play').click();
  const dt = (b.t - a.t) / 1000;
  const r = {
    hash,
    runs,
    chart_updates_per_s: +((b.draws - a.draws) / dt).toFixed(1),
    frames_per_s: +((b.frames - a.frames) / dt).toFixed(1),
    steps_per_s_each_run: +((b.steps - a.steps) / dt).toFixed(1),
    ms_per_step_each_run: b.ms.map((x) => +x.toFixed(2)),
    long_tasks_over_50ms: long.length,
    long_task_max_ms: long.length ? Math.max(...long.map((x) => x.ms)) : 0,
    long_task_total_ms: +long.reduce((s, x) => s + x.ms, 0).toFixed(0),
    console_problems: problems,
  };
  await page.screenshot({ path: `test-results/bench-${name}.png`, fullPage: true });
  await page.close();
  results.scenarios[name] = r;
  console.log(name, JSON.stringify(r));
}

mkdirSync('test-results', { recursive: true });
mkdirSync('bench/results', { recursive: true });
await trainScenario('compare4_mlp_residual_deep',
  'mode=compare&runs=4&preset=mlp-residual-deep&steps=1000000&eval=0&b.norm=rmsnorm&c.placement=post&d.residual=rezero', { runs: 4 });
await trainScenario('compare4_mlp_spiral',
  'mode=compare&runs=4&preset=mlp-spiral&steps=1000000&eval=0&b.norm=rmsnorm&c.placement=post&d.residual=rezero', { runs: 4 });
// Control: the same four workers with only the loss chart drawn, to separate drawing from CPU contention.
await trainScenario('compare4_mlp_residual_deep_loss_chart_only',
  'mode=compare&runs=4&preset=mlp-residual-deep&steps=1000000&eval=0&b.norm=rmsnorm&c.placement=post&d.residual=rezero&panels=loss', { runs: 4 });
await trainScenario('single_gpt_tiny', 'preset=gpt-tiny&steps=1000000', { runs: 1 });

// First paint of the example post: a fresh page each time; the first load has a cold cache.
const paints = [];
for (let i = 0; wanted('blog_first_paint') && i < 5; i++) {
  const page = await browser.context.newPage();
  const problems = watch(page, origin);
  await page.goto(`${url}examples/blog-post.html`, { waitUntil: 'load' });
  await page.waitForTimeout(300);
  const p = await page.evaluate(() => {
    const get = (n) => performance.getEntriesByName(n)[0]?.startTime ?? null;
    const nav = performance.getEntriesByType('navigation')[0];
    return { first_paint_ms: get('first-paint'), first_contentful_paint_ms: get('first-contentful-paint'),
      dom_content_loaded_ms: nav?.domContentLoadedEventEnd ?? null, load_ms: nav?.loadEventEnd ?? null };
  });
  paints.push({ ...p, cold: i === 0, problems });
  await page.close();
}
if (paints.length) {
  const med = (k) => { const v = paints.map((x) => x[k]).filter((x) => x !== null).sort((a, b) => a - b); return v.length ? +v[Math.floor(v.length / 2)].toFixed(1) : null; };
  results.scenarios.blog_first_paint = {
    loads: paints.map((p) => ({ ...p, first_paint_ms: p.first_paint_ms && +p.first_paint_ms.toFixed(1), first_contentful_paint_ms: p.first_contentful_paint_ms && +p.first_contentful_paint_ms.toFixed(1) })),
    median_first_paint_ms: med('first_paint_ms'),
    median_first_contentful_paint_ms: med('first_contentful_paint_ms'),
    cold_first_contentful_paint_ms: paints[0].first_contentful_paint_ms && +paints[0].first_contentful_paint_ms.toFixed(1),
  };
  console.log('blog_first_paint', JSON.stringify(results.scenarios.blog_first_paint));
}

results.machine.loadavg_after = os.loadavg().map((x) => +x.toFixed(2));
const sc = results.scenarios;
if (sc.compare4_mlp_residual_deep && sc.compare4_mlp_spiral && sc.blog_first_paint) results.goals = {
  'no main-thread task over 50 ms while four compare runs train': results.scenarios.compare4_mlp_residual_deep.long_tasks_over_50ms === 0 && results.scenarios.compare4_mlp_spiral.long_tasks_over_50ms === 0,
  'charts update at least 10 times a second': results.scenarios.compare4_mlp_residual_deep.chart_updates_per_s >= 10 && results.scenarios.compare4_mlp_spiral.chart_updates_per_s >= 10,
  'first paint of the example post under 1 s': (results.scenarios.blog_first_paint.cold_first_contentful_paint_ms ?? 1e9) < 1000,
};
if (OUT) writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
console.log('goals', JSON.stringify(results.goals));
await browser.close();
server.close();
