// Builds and runs bench/peak/simd_peak.cpp, the machine's own 128-bit f32x4 mul + add throughput (issue 24,
// item 4): natively with g++ -msse4.1 (native-sse's instruction set) and -march=native (the same 128-bit
// vectors, VEX/EVEX-encoded), and to wasm with em++ -msimd128. All with -ffp-contract=off: a mul and an add,
// never an FMA, as in the core's 128-bit GEMM. Used by bench/peak/run.mjs (npm run bench:peak) and by
// bench/wasm/gemm_linear.mjs (npm run bench:gemm), which reports the GEMM as a fraction of this peak.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { loadWasmModule } from '../../web/src/engine/node-loader.mjs';

const flagsOf = { 'native SSE4.1': ['-msse4.1'], 'native -march=native': ['-march=native'] };

/** Compiles the three builds into build/bench-peak/ (again only when the source is newer). */
export function buildPeak(repo) {
  const src = join(repo, 'bench/peak/simd_peak.cpp'), dir = join(repo, 'build/bench-peak');
  mkdirSync(dir, { recursive: true });
  const stale = (out) => !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;
  const bins = {};
  for (const [variant, flags] of Object.entries(flagsOf)) {
    const out = join(dir, `simd_peak_${flags[0].replace(/\W/g, '')}`);
    if (stale(out)) execFileSync('g++', ['-std=c++17', '-O3', ...flags, '-ffp-contract=off', src, '-o', out], { stdio: 'inherit' });
    bins[variant] = out;
  }
  const wasm = join(dir, 'simd_peak.wasm');
  if (stale(wasm)) {
    // Debian's emcc needs Node to find its acorn (TOOLCHAIN.md).
    const env = { ...process.env, NODE_PATH: `/usr/share/nodejs${process.env.NODE_PATH ? `:${process.env.NODE_PATH}` : ''}` };
    execFileSync('em++', ['-std=c++17', '-O3', '-msimd128', '-ffp-contract=off', '--bind', '-sMODULARIZE=1', '-sEXPORT_ES6=1',
      '-sEXPORT_NAME=createPeak', '-sENVIRONMENT=web,worker,node', '-sFILESYSTEM=0', src, '-o', join(dir, 'simd_peak.mjs')],
    { stdio: 'inherit', env });
  }
  // The figure is only a 128-bit mul + add peak if the code is made of those instructions: check.
  const count = (text, re) => (text.match(re) ?? []).length;
  for (const [variant, bin] of Object.entries(bins)) {
    const dis = execFileSync('objdump', ['-d', '--no-show-raw-insn', bin], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (count(dis, /\bv?mulps\s+[^\n]*%xmm/g) < 50 || count(dis, /\bv?addps\s+[^\n]*%xmm/g) < 50 || /vfmadd|%ymm|%zmm/.test(dis))
      throw new Error(`${bin} (${variant}): expected 128-bit mulps/addps and no FMA or 256/512-bit vectors`);
  }
  const wdis = spawnSync('wasm-objdump', ['-d', wasm], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout ?? '';
  if (count(wdis, /f32x4\.mul/g) < 50 || count(wdis, /f32x4\.add/g) < 50)
    throw new Error(`${wasm}: expected f32x4.mul and f32x4.add instructions (is wasm-objdump from wabt installed?)`);
  return { bins, wasm };
}

/** A runner per variant: (ms per batch, batches) -> { by_chains, peak_gflops[, cpu_time_by_chains, peak_gflops_cpu_time] }. */
export async function peakRunners(repo) {
  const { bins, wasm } = buildPeak(repo);
  const mod = await loadWasmModule(wasm);
  const run = { 'wasm SIMD (Node)': (ms, reps) => JSON.parse(mod.runPeak(ms, reps)) };
  for (const [variant, bin] of Object.entries(bins))
    run[variant] = (ms, reps) => JSON.parse(execFileSync(bin, [String(ms), String(reps)], { encoding: 'utf8' }));
  return run;
}
