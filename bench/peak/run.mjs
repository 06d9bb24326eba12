// `npm run bench:peak` (issue 24, item 4): the machine's own 128-bit f32x4 mul + add throughput
// (bench/peak/simd_peak.cpp; how FLOPs are counted is explained there) in wasm under Node and headless
// Chromium and natively
// (g++ -msse4.1, g++ -march=native), in --rounds rounds that alternate the three so that load on a shared
// machine falls on all alike; the median over rounds of each round's best chain count. Natively also by
// thread CPU time, which leaves out the time the thread waited for a core on a loaded machine.
// Then whether the toolchain can produce a relaxed-SIMD FMA that Node and Chromium accept
// (bench/peak/relaxed_fma.c). Writes bench/results/simd-peak.json. Options: --rounds N (5), --ms M (50).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { median } from '../wasm/measure.mjs';
import { peakRunners } from './peak.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const fail = (msg) => { console.error(msg); process.exit(2); };  // one line, no stack trace
for (let i = 0; i < args.length; i += 2)
  if (!['--rounds', '--ms'].includes(args[i])) fail(`bench:peak: unknown option "${args[i]}" (known: --rounds N, --ms M)`);
const num = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!(v >= 1) || !Number.isInteger(v)) fail(`bench:peak: ${name} needs a positive integer, got "${args[i + 1]}"`);
  return v;
};
const rounds = num('--rounds', 5), ms = num('--ms', 50);
const log = (...a) => console.error('[bench:peak]', ...a);
const uptime = () => readFileSync('/proc/loadavg', 'utf8').trim();
const flags = [...new Set((readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/))];

const results = {
  date: new Date().toISOString(),
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, simd_flags: flags.filter((f) => /^(sse4_1|avx2?|fma|avx512f|avx512vl)$/.test(f)), loadavg_at_start: uptime() },
  note: 'GFLOP/s of independent f32x4 mul and add chains (4 flops per vector mul or add; a GEMM counts 2 M N K the same way). Wall-clock figures are per-round medians over short batches on a shared machine; natively also per thread CPU time.',
  rounds, ms_per_batch: ms, samples: {}, median_peak_gflops: {}, median_peak_gflops_cpu_time: {},
};
const run = await peakRunners(repo);
// Headless Chromium (its V8 and wasm tiers): the same module on a page, a round's batches right after Node's.
const { chromium } = await import('playwright-core');
const { serveStatic } = await import('../../tests/js/engine-server.mjs');
const server = await serveStatic({ '/peak/': join(repo, 'build/bench-peak'), '/': join(repo, 'bench/peak') }, { csp: null });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
page.setDefaultTimeout(600_000);
await page.goto(`${server.url}/page.html`);
results.machine.chromium = browser.version();
const chromiumPeak = (ms, reps) => page.evaluate(async ([m, k]) => {
  window.peakModule ??= await (await import('/peak/simd_peak.mjs')).default({ locateFile: (p) => `/peak/${p}` });
  return JSON.parse(window.peakModule.runPeak(m, k));
}, [ms, reps]);
const variants = Object.keys(run);
variants.splice(1, 0, 'wasm SIMD (Chromium)');
run['wasm SIMD (Chromium)'] = chromiumPeak;
for (let r = 0; r < rounds; ++r) {
  log(`round ${r + 1}/${rounds}`);
  for (const variant of variants) (results.samples[variant] ??= []).push(await run[variant](ms, 3));
}
for (const [variant, xs] of Object.entries(results.samples)) {
  results.median_peak_gflops[variant] = median(xs.map((x) => x.peak_gflops));
  if (xs[0].peak_gflops_cpu_time) results.median_peak_gflops_cpu_time[variant] = median(xs.map((x) => x.peak_gflops_cpu_time));
}
results.machine.loadavg_at_end = uptime();

// Relaxed SIMD: compile the prototype builtin, look at the opcode, and ask Node (with and without V8's
// flag) and headless Chromium whether they compile the module.
const tmp = mkdtempSync(join(tmpdir(), 'relaxed-'));
const fmaWasm = join(tmp, 'relaxed_fma.wasm');
const relaxed = (results.relaxed_simd_fma = { toolchain: execFileSync('em++', ['--version'], { encoding: 'utf8' }).split('\n')[0] });
try {
  const env = { ...process.env, NODE_PATH: '/usr/share/nodejs' };
  const cc = spawnSync('emcc', ['-O2', '-msimd128', '-mrelaxed-simd', '-sSTANDALONE_WASM', '--no-entry', '-sEXPORTED_FUNCTIONS=_madd,_madd_lane0',
    join(repo, 'bench/peak/relaxed_fma.c'), '-o', fmaWasm], { encoding: 'utf8', env });
  relaxed.compiles = cc.status === 0;
  if (!relaxed.compiles) relaxed.compile_error = cc.stderr.trim().split('\n')[0];
  else {
    const dis = spawnSync('wasm-objdump', ['-d', fmaWasm], { encoding: 'utf8' });
    const bytes = readFileSync(fmaWasm);
    // The body of madd: three local.get (20 0x), then the SIMD prefix 0xfd and the opcode (LEB128).
    const at = bytes.indexOf(Buffer.from([0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd]));
    relaxed.opcode_bytes = at >= 0 ? [...bytes.subarray(at + 6, at + 9)].map((b) => `0x${b.toString(16)}`).join(' ') : 'not found';
    relaxed.wasm_objdump = dis.status === 0 ? 'decodes it' : `fails: ${dis.stderr.trim().split('\n')[0]}`;
    // The same module with the prototype opcode (0xfd 0xaf, LEB128 af 01) rewritten to the standard
    // f32x4.relaxed_madd (0xfd 0x105, LEB128 85 02; same length, nothing else moves): does the runtime know
    // relaxed SIMD at all, and is the prototype numbering the only obstacle?
    const patched = join(tmp, 'relaxed_fma_std.wasm');
    // (A byte scan: fine for this two-function module, whose only fd af 01 bytes are the two fma ops.)
    const pb = Buffer.from(bytes);
    let rewritten = 0;
    for (let i = 0; i + 2 < pb.length; ++i)
      if (pb[i] === 0xfd && pb[i + 1] === 0xaf && pb[i + 2] === 0x01) { pb[i + 1] = 0x85; pb[i + 2] = 0x02; ++rewritten; }
    relaxed.opcodes_rewritten = rewritten;
    writeFileSync(patched, pb);
    // Compiles? Then instantiate and call madd_lane0(1, 2, 3): 5 = a * b + c.
    const probe = (f) => `const b=require('fs').readFileSync(${JSON.stringify(f)});WebAssembly.instantiate(b,{wasi_snapshot_preview1:{proc_exit(){}},env:{}})` +
      `.then(({instance})=>console.log('ok, madd_lane0(1, 2, 3) = '+instance.exports.madd_lane0(1,2,3)),e=>console.log(String(e)))`;
    for (const [file, tag] of [[fmaWasm, ''], [patched, ' (opcode patched to the standard 0xfd 0x105)']])
      for (const [k, extra] of [['node20', []], ['node20 --experimental-wasm-relaxed-simd', ['--experimental-wasm-relaxed-simd']]])
        relaxed[k + tag] = spawnSync(process.execPath, [...extra, '-e', probe(file)], { encoding: 'utf8' }).stdout.trim() || 'no output';
    relaxed.chromium_version = browser.version();
    for (const [file, tag] of [[fmaWasm, ''], [patched, ' (opcode patched to the standard 0xfd 0x105)']])
      relaxed['chromium' + tag] = await page.evaluate(async (s) => {
        const b = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        try {
          const { instance } = await WebAssembly.instantiate(b, { wasi_snapshot_preview1: { proc_exit() {} }, env: {} });
          return `ok, madd_lane0(1, 2, 3) = ${instance.exports.madd_lane0(1, 2, 3)}`;
        } catch (e) { return String(e); }
      }, readFileSync(file).toString('base64'));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
  await browser.close();
  await server.close();
}

mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/simd-peak.json'), `${JSON.stringify(results, null, 1)}\n`);
console.log(`\n### 128-bit f32x4 mul + add peak, GFLOP/s (median of ${rounds} rounds; loaded, shared machine)\n`);
console.log('| variant | wall clock | thread CPU time |\n|---|---:|---:|');
for (const [v, g] of Object.entries(results.median_peak_gflops))
  console.log(`| ${v} | ${g.toFixed(1)} | ${results.median_peak_gflops_cpu_time[v]?.toFixed(1) ?? '– (no CPU clock in wasm)'} |`);
console.log(`\nRelaxed-SIMD FMA (${relaxed.toolchain}): compiles ${relaxed.compiles}${relaxed.compile_error ? ` (${relaxed.compile_error})` : ''}; opcode ${relaxed.opcode_bytes ?? '–'}`);
for (const [k, v] of Object.entries(relaxed)) if (/^(node20|chromium)/.test(k) && k !== 'chromium_version') console.log(`- ${k.replace(/^chromium/, `chromium ${relaxed.chromium_version}`)}: ${v}`);
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.simd_flags.join(' ')}; load ${results.machine.loadavg_at_start} -> ${results.machine.loadavg_at_end}; wrote bench/results/simd-peak.json)`);
