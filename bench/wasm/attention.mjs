// `node bench/wasm/attention.mjs [--base DIR] [--rounds N]`: the attention op alone at gpt-tiny's shape
// (B 12, T 64, C 128, H 4), forward and backward, one thread, in wasm (Node), native-sse and native
// -march=native, for this checkout and optionally another one (issue 24 item 2, before vs after). Links
// bench/wasm/attention_bench.cpp against each tree's already built core (build/{wasm,native-sse,native}/
// libresnorm_core.a: `bash scripts/build-wasm.sh`, `cmake --build --preset native-sse|native`), then runs
// the binaries in rounds that interleave all of them (order rotated each round), so that load on a shared
// machine falls on all alike. Median over rounds of each binary's median; writes bench/results/attention.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { median } from './measure.mjs';
import { commitLabel } from './native.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2)
  if (!['--base', '--rounds'].includes(args[i])) throw new Error(`attention: unknown option "${args[i]}" (known: --base DIR, --rounds N)`);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const rounds = Number(opt('--rounds', '9'));
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`attention: --rounds needs a positive integer, got "${opt('--rounds')}"`);
const base = opt('--base', null) && resolve(opt('--base'));
const trees = { this: repo, ...(base ? { base } : {}) };
const out = join(repo, 'build/attention-bench');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'package.json'), '{"type": "commonjs"}\n');  // Emscripten's .js glue is CommonJS; the repo's is "module"
const src = join(repo, 'bench/wasm/attention_bench.cpp');

const builds = {  // flags as the core's own build of each preset (CMakePresets.json, cpp/wasm/wasm.cmake)
  // wasm: linked at -Oz with bulk memory, as the engine (resnorm_wasm) is; the core's objects keep their -O3
  wasm: { cxx: 'em++', flags: ['-Oz', '-msimd128', '-mbulk-memory', '-fexceptions', '-sALLOW_MEMORY_GROWTH=1'], ext: '.js' },
  'native-sse': { cxx: 'g++', flags: ['-O3', '-msse4.1', '-ffp-contract=off', '-pthread'], ext: '' },
  native: { cxx: 'g++', flags: ['-O3', '-march=native', '-pthread'], ext: '' },
};
const variants = [];
for (const [tag, root] of Object.entries(trees))
  for (const [preset, b] of Object.entries(builds)) {
    const lib = join(root, `build/${preset}/libresnorm_core.a`);
    if (!existsSync(lib)) throw new Error(`attention: ${lib} is missing (build the ${preset} preset in ${root} first)`);
    const bin = join(out, `attention_bench-${tag}-${preset}${b.ext}`);
    execFileSync(b.cxx, [...b.flags, '-std=c++17', `-I${join(root, 'cpp/core')}`, '-I/usr/include/eigen3', src, lib, '-o', bin],
      { stdio: 'inherit', env: { ...process.env, NODE_PATH: '/usr/share/nodejs' } });
    const run = preset === 'wasm' ? ['node', ['--no-experimental-fetch', bin]] : [bin, []];
    variants.push([`${preset} (${tag})`, () => JSON.parse(execFileSync(run[0], [...run[1], '12', '64', '128', '4', '15', '10'],
      { encoding: 'utf8' }).trim().split('\n').at(-1))]);
  }

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const samples = Object.fromEntries(variants.map(([k]) => [k, { forward_ms: [], backward_ms: [] }]));
const loads = [loadavg()];
const sums = {};
for (let r = 0; r < rounds; ++r) {
  console.error(`[attention] round ${r + 1}/${rounds}, load ${loadavg()}`);
  for (let i = 0; i < variants.length; ++i) {
    const [name, run] = variants[(i + r) % variants.length];
    const res = run();
    samples[name].forward_ms.push(res.forward_ms);
    samples[name].backward_ms.push(res.backward_ms);
    (sums[name] ??= res.checksum);
  }
  loads.push(loadavg());
}
const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => {
  const f = median(v.forward_ms), b = median(v.backward_ms);
  return [k, { forward_ms: f, backward_ms: b, total_ms: f + b }];
}));
const ratios = {};
for (const tag of Object.keys(trees)) {
  ratios[`wasm / native (${tag})`] = med[`wasm (${tag})`].total_ms / med[`native (${tag})`].total_ms;
  ratios[`wasm / native-sse (${tag})`] = med[`wasm (${tag})`].total_ms / med[`native-sse (${tag})`].total_ms;
}
if (base) for (const p of Object.keys(builds)) ratios[`${p}: this / base`] = med[`${p} (this)`].total_ms / med[`${p} (base)`].total_ms;
const results = {
  date: new Date().toISOString(),
  commit: commitLabel(repo),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version,
    avx512: readFileSync('/proc/cpuinfo', 'utf8').includes('avx512f'), loadavg_per_round: loads },
  note: 'attention_forward + attention_backward at gpt-tiny shape (B 12, T 64, C 128, H 4), ms per call, one thread: median over rounds of per-binary medians (15 repetitions of 10 calls). Shared machine.',
  base, rounds, median_ms: med, ratios, checksums: sums, samples_ms: samples,
};
writeFileSync(join(repo, 'bench/results/attention.json'), `${JSON.stringify(results, null, 1)}\n`);
console.log(`\n### attention at gpt-tiny shape, ms per call (median of ${rounds} rounds)\n\n| build | forward | backward | total |\n|---|---:|---:|---:|`);
for (const [k, v] of Object.entries(med)) console.log(`| ${k} | ${v.forward_ms.toFixed(3)} | ${v.backward_ms.toFixed(3)} | ${v.total_ms.toFixed(3)} |`);
console.log('\n### Ratios\n');
for (const [k, v] of Object.entries(ratios)) console.log(`- ${k}: ${v.toFixed(3)}`);
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores; load ${loads[0]} -> ${loads.at(-1)}; wrote bench/results/attention.json)`);
