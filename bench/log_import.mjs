// Importing a big training log: how long the page's thread is blocked (issue 13's "no main-thread task
// over 50 ms"). Builds a ~61 MiB log from the CLI fixture tests/web/fixtures/cli-deep.jsonl (its lines
// renumbered), imports it through the Export menu of the playground served with the strict CSP, and
// records the long tasks (PerformanceObserver 'longtask', > 50 ms) and the frames drawn from the choice
// of the file until the "log loaded" notice. Side by side when given a second build:
//   node bench/log_import.mjs [--rounds 3] [--before DIST] [--out bench/results/log-import.json]
// DIST: a web/dist built from an older commit (rounds alternate between the two).
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../scripts/serve.mjs';
import { launch } from '../tests/web/browser.mjs';

const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const rounds = Number(arg('--rounds', '3'));
const before = arg('--before', '');
const out = arg('--out', '');
const load0 = loadavg();

const dir = mkdtempSync(join(tmpdir(), 'log-import-'));
const file = join(dir, 'big.jsonl');
const lines = readFileSync('tests/web/fixtures/cli-deep.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const rows = [];
let bytes = 0;
for (let i = 0; bytes < 61 * 1048576; i++) {
  const r = JSON.stringify({ ...lines[i % lines.length], step: i + 1 });
  rows.push(r);
  bytes += r.length + 1;
}
writeFileSync(file, rows.join('\n') + '\n');
console.log(`log: ${rows.length} steps, ${(bytes / 1048576).toFixed(1)} MiB`);

const builds = [{ name: 'this', dir: 'web/dist' }, ...(before ? [{ name: 'before', dir: before }] : [])];
for (const b of builds) Object.assign(b, await serve({ dir: b.dir, csp: 'strict' }));
const browser = await launch({ width: 1400, height: 1000 });

async function once(b) {
  const page = await browser.context.newPage();
  await page.goto(`${b.url}index.html#preset=mlp-spiral&panels=loss,heatmap,profile,rms,update`);
  await page.waitForFunction(() => window.__resnorm?.apps?.[0]?.session?.runs?.length > 0 && window.__resnorm.apps[0].session.runs.every((r) => r.status !== 'building'), null, { timeout: 120_000 });
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ start: e.startTime, ms: e.duration }); }).observe({ type: 'longtask' });
    window.__frames = 0;
    const tick = () => { window.__frames++; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  await page.locator('[data-action="export-menu"]').click();
  await page.locator('.rp-menu-list').waitFor();
  const t0 = await page.evaluate(() => { window.__t0 = performance.now(); window.__f0 = window.__frames; return window.__t0; });
  await page.locator('[data-action="import-log"]').setInputFiles(file);
  await page.locator('.rp-msg[data-tag^="log:"]').waitFor({ timeout: 120_000 });
  const r = await page.evaluate(() => {
    const t = performance.now(), long = window.__long.filter((e) => e.start >= window.__t0);
    return { ms: t - window.__t0, frames: window.__frames - window.__f0, long: long.length, longest: Math.max(0, ...long.map((e) => e.ms)), longSum: long.reduce((a, e) => a + e.ms, 0) };
  });
  await page.close();
  void t0;
  return r;
}

const results = Object.fromEntries(builds.map((b) => [b.name, []]));
for (let k = 0; k < rounds; k++) {
  for (const b of builds) {
    const r = await once(b);
    results[b.name].push(r);
    console.log(`${b.name} round ${k + 1}: import ${r.ms.toFixed(0)} ms, ${r.frames} frames, long tasks ${r.long} (longest ${r.longest.toFixed(0)} ms, sum ${r.longSum.toFixed(0)} ms)`);
  }
}
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const summary = Object.fromEntries(Object.entries(results).map(([k, rs]) => [k, {
  import_ms: med(rs.map((r) => r.ms)), longest_task_ms: med(rs.map((r) => r.longest)), long_tasks: med(rs.map((r) => r.long)), frames: med(rs.map((r) => r.frames)),
}]));
console.log('medians', JSON.stringify(summary));
if (out) {
  writeFileSync(out, JSON.stringify({
    what: 'import of a ~61 MiB CLI log in headless Chromium (strict CSP), main-thread long tasks from the file choice to the loaded notice',
    cpu: cpus()[0]?.model, cores: cpus().length, loadavg_start: load0, loadavg_end: loadavg(), before: before || null, date: new Date().toISOString(),
    steps: rows.length, mib: Number((bytes / 1048576).toFixed(1)), rounds, medians: summary, runs: results,
  }, null, 2) + '\n');
}
await browser.close();
for (const b of builds) await new Promise((r) => b.server.close(r));
rmSync(dir, { recursive: true, force: true });
