// `npm run bench:gemm` (issue 13, goal 3): a linear layer's three products (y = x W^T, dx += dy W,
// dW += dy^T x) at the presets' shapes, through Eigen and through the core's 128-bit GEMM
// (cpp/core/ops/gemm.h, what wasm and native-sse builds use), in wasm under Node and natively (SSE4.1 and
// -march=native builds, compiled with the flags of each preset's linear.cpp). Each binary alternates the
// two; the variants run one after another, never at once.
// Issue 24 (item 4): each round also measures the machine's own 128-bit f32x4 mul + add peak in the same
// runtime (bench/peak/simd_peak.cpp, right before that variant's GEMM), and the core GEMM is reported as a
// fraction of it: the median over rounds of (GEMM GFLOP/s / peak GFLOP/s) of the same round. For the
// -march=native build that is a fraction of the 128-bit peak only (its Eigen products use 256/512-bit
// vectors and FMA, so they can pass 100%). The wasm GEMM is also given as a fraction of the machine's own
// 128-bit peak: the better of the two native figures of the same round (wasm's peak is lower than the
// hardware's: V8's code for the kernel).
// Writes bench/results/gemm-linear.json and prints a table. Options: --rounds N (7), --ms M (60 per batch).
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadWasmModule } from '../../web/src/engine/node-loader.mjs';
import { peakRunners } from '../peak/peak.mjs';
import { median } from './measure.mjs';
import { commitLabel, nativeGemmBinary } from './native.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const known = new Set(['--rounds', '--ms']);
for (let i = 0; i < args.length; i += 2)
  if (!known.has(args[i])) throw new Error(`bench:gemm: unknown option "${args[i]}" (known: --rounds N, --ms M)`);
const num = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!(v >= 1) || !Number.isInteger(v)) throw new Error(`bench:gemm: ${name} needs a positive integer, got "${args[i + 1]}"`);
  return v;
};
const rounds = num('--rounds', 7), ms = num('--ms', 60);
for (const [f, how] of [['build/wasm/gemm_bench.wasm', 'bash scripts/build-wasm.sh'],
  ['build/native/libresnorm_core.a', 'cmake --preset native -G Ninja && cmake --build --preset native'],
  ['build/native-sse/libresnorm_core.a', 'cmake --preset native-sse && cmake --build --preset native-sse --target resnorm']])
  if (!existsSync(join(repo, f))) throw new Error(`${f} is missing: ${how}`);

const results = {
  date: new Date().toISOString(),
  commit: commitLabel(repo),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, load_1min_at_start: loadavg()[0] },
  note: 'GFLOP/s of a linear layer\'s three products together (6 N IC OC flops), median over rounds; one thread. ' +
    'peak: the 128-bit f32x4 mul + add peak of the same runtime (bench/peak/simd_peak.cpp), measured in each round right before the GEMMs; ' +
    'fraction_of_128bit_peak: median over rounds of core GEMM / peak of that round. Wall clock on a shared machine.',
  rounds, gflops: {}, peak_gflops: {}, fraction_of_128bit_peak: {}, wasm_core_gemm_fraction_of_native_128bit_peak: {},
};
const gemmBench = await loadWasmModule(join(repo, 'build/wasm/gemm_bench.wasm'));
const gemmRun = {
  'wasm SIMD (Node)': () => JSON.parse(gemmBench.runLinear(ms, 1)),
  ...Object.fromEntries([['native SSE4.1', 'native-sse'], ['native -march=native', 'native']].map(([variant, preset]) => {
    const bin = nativeGemmBinary(repo, preset);
    return [variant, () => JSON.parse(execFileSync(bin, [String(ms), '1', 'linear'], { encoding: 'utf8' }))];
  })),
};
const peakRun = await peakRunners(repo);
const samples = {};  // variant -> { peak: [], rows: [[...rows of a round]] }
for (let r = 0; r < rounds; ++r) {
  console.error(`[bench:gemm] round ${r + 1}/${rounds}`);
  for (const variant of Object.keys(gemmRun)) {
    const s = (samples[variant] ??= { peak: [], rows: [] });
    s.peak.push(peakRun[variant](ms, 1).peak_gflops);
    s.rows.push(gemmRun[variant]());
  }
}
for (const [variant, { peak, rows }] of Object.entries(samples)) {
  results.peak_gflops[variant] = median(peak);
  for (const [i, { shape }] of rows[0].entries()) {
    const col = (k) => rows.map((round) => round[i][k]);
    results.gflops[shape] = { ...results.gflops[shape], [`${variant}: Eigen`]: median(col('eigen_gflops')), [`${variant}: core GEMM`]: median(col('core_gemm_gflops')) };
    results.fraction_of_128bit_peak[shape] = { ...results.fraction_of_128bit_peak[shape],
      [`${variant}: core GEMM`]: median(col('core_gemm_gflops').map((g, k) => g / peak[k])),
      [`${variant}: Eigen`]: median(col('eigen_gflops').map((g, k) => g / peak[k])) };
  }
}
const machinePeak = samples['native SSE4.1'].peak.map((p, r) => Math.max(p, samples['native -march=native'].peak[r]));
results.peak_gflops['machine (best native 128-bit)'] = median(machinePeak);
for (const [i, { shape }] of samples['wasm SIMD (Node)'].rows[0].entries())
  results.wasm_core_gemm_fraction_of_native_128bit_peak[shape] =
    median(samples['wasm SIMD (Node)'].rows.map((round, r) => round[i].core_gemm_gflops / machinePeak[r]));
results.machine.load_1min_at_end = loadavg()[0];
writeFileSync(join(repo, 'bench/results/gemm-linear.json'), `${JSON.stringify(results, null, 1)}\n`);

const cols = [...new Set(Object.values(results.gflops).flatMap((r) => Object.keys(r)))];
console.log(`\n### A linear layer's three products, GFLOP/s (median of ${rounds} rounds)\n`);
console.log(`| shape | ${cols.join(' | ')} | wasm: core / Eigen |`);
console.log(`|---|${cols.map(() => '---:').join('|')}|---:|`);
for (const [shape, r] of Object.entries(results.gflops))
  console.log(`| ${shape} | ${cols.map((c) => r[c].toFixed(1)).join(' | ')} | ${(r['wasm SIMD (Node): core GEMM'] / r['wasm SIMD (Node): Eigen']).toFixed(2)}× |`);
console.log(`\n### Fraction of the same runtime's 128-bit f32x4 mul + add peak (goal: core GEMM in wasm >= 70%)\n`);
const vs = Object.keys(samples);
console.log(`| shape | ${vs.map((v) => `${v}: core GEMM | ${v}: Eigen`).join(' | ')} | wasm core GEMM / machine's 128-bit peak |`);
console.log(`|---|${vs.map(() => '---:|---:').join('|')}|---:|`);
const pc = (x) => `${(100 * x).toFixed(0)}%`;
for (const [shape, r] of Object.entries(results.fraction_of_128bit_peak))
  console.log(`| ${shape} | ${vs.map((v) => `${pc(r[`${v}: core GEMM`])} | ${pc(r[`${v}: Eigen`])}`).join(' | ')} | ${pc(results.wasm_core_gemm_fraction_of_native_128bit_peak[shape])} |`);
console.log(`| (peak, GFLOP/s) | ${vs.map((v) => `${results.peak_gflops[v].toFixed(1)} | `).join(' | ')} | ${results.peak_gflops['machine (best native 128-bit)'].toFixed(1)} |`);
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores, Node ${process.version}; load ${results.machine.load_1min_at_start} -> ${results.machine.load_1min_at_end}; wrote bench/results/gemm-linear.json)`);
