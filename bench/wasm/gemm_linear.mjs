// `npm run bench:gemm` (issue 13, goal 3): a linear layer's three products (y = x W^T, dx += dy W,
// dW += dy^T x) at the presets' shapes, through Eigen and through the core's 128-bit GEMM
// (cpp/core/ops/gemm.h, what wasm and native-sse builds use), in wasm under Node and natively (SSE4.1 and
// -march=native builds, compiled with the flags of each preset's linear.cpp). Each binary alternates the
// two in --rounds rounds (median GFLOP/s); the variants run one after another, never at once.
// Writes bench/results/gemm-linear.json and prints a table. Options: --rounds N (7), --ms M (60 per batch).
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadWasmModule } from '../../web/src/engine/node-loader.mjs';
import { nativeGemmBinary } from './native.mjs';

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
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, load_1min_at_start: loadavg()[0] },
  note: 'GFLOP/s of a linear layer\'s three products together (6 N IC OC flops), median of alternating rounds; one thread.',
  rounds, gflops: {},
};
const put = (variant, rows) => { for (const r of rows) results.gflops[r.shape] = { ...results.gflops[r.shape], [`${variant}: Eigen`]: r.eigen_gflops, [`${variant}: core GEMM`]: r.core_gemm_gflops }; };

console.error('[bench:gemm] wasm SIMD (Node)');
put('wasm SIMD (Node)', JSON.parse((await loadWasmModule(join(repo, 'build/wasm/gemm_bench.wasm'))).runLinear(ms, rounds)));
for (const [variant, preset] of [['native SSE4.1', 'native-sse'], ['native -march=native', 'native']]) {
  console.error(`[bench:gemm] ${variant}`);
  put(variant, JSON.parse(execFileSync(nativeGemmBinary(repo, preset), [String(ms), String(rounds), 'linear'], { encoding: 'utf8' })));
}
results.machine.load_1min_at_end = loadavg()[0];
writeFileSync(join(repo, 'bench/results/gemm-linear.json'), `${JSON.stringify(results, null, 1)}\n`);

const cols = [...new Set(Object.values(results.gflops).flatMap((r) => Object.keys(r)))];
console.log(`\n### A linear layer's three products, GFLOP/s (median of ${rounds} rounds)\n`);
console.log(`| shape | ${cols.join(' | ')} | wasm: core / Eigen |`);
console.log(`|---|${cols.map(() => '---:').join('|')}|---:|`);
for (const [shape, r] of Object.entries(results.gflops))
  console.log(`| ${shape} | ${cols.map((c) => r[c].toFixed(1)).join(' | ')} | ${(r['wasm SIMD (Node): core GEMM'] / r['wasm SIMD (Node): Eigen']).toFixed(2)}× |`);
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores, Node ${process.version}; load ${results.machine.load_1min_at_start} -> ${results.machine.load_1min_at_end}; wrote bench/results/gemm-linear.json)`);
