// gpt-tiny (or, with --preset, cnn-digits) train step, this checkout against another build (issue 24:
// attention through the core's GEMM; issue 22: the one train step),
// side by side in one run: native -march=native, native SSE4.1 (the wasm build's bit-exact twin) and wasm
// SIMD in Node, one thread everywhere. Rounds interleave every variant (their order rotates each round),
// so load on a shared machine falls on all of them alike; each round's figure is a median of single
// steps (native: `resnorm bench`'s own clock; wasm: bench/wasm/measure.mjs timeTrainer, as the engine's
// worker steps), the result the median over rounds. Writes bench/results/gpt-step.json (gpt-step-<builds>.json
// with --builds) and prints a table.
// Usage: node bench/wasm/gpt_step.mjs [--base DIR] [--rounds N] [--builds wasm,native-sse,native,native-avx2] [--preset NAME]
//   native-avx2: the native-avx2 preset's build (-march=x86-64-v3), an AVX2-only machine's native code
//   --base DIR  the root of another checkout with build/native/resnorm, build/native-sse/resnorm and
//               web/public/wasm/resnorm.{mjs,wasm} built (e.g. `git archive` of the commit before a change)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadWasmModule } from '../../web/src/engine/node-loader.mjs';
import { median, timeTrainer } from './measure.mjs';
import { commitLabel } from './native.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const known = new Set(['--base', '--rounds', '--builds', '--preset']);
for (let i = 0; i < args.length; i += 2)
  if (!known.has(args[i])) throw new Error(`gpt_step: unknown option "${args[i]}" (known: --base DIR, --rounds N, --builds LIST, --preset NAME)`);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const rounds = Number(opt('--rounds', '7'));
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`gpt_step: --rounds needs a positive integer, got "${opt('--rounds')}"`);
const base = opt('--base', null) && resolve(opt('--base'));
const builds = opt('--builds', 'native,native-sse,wasm').split(',');
for (const b of builds)
  if (!['native', 'native-sse', 'native-avx2', 'wasm'].includes(b)) throw new Error(`gpt_step: --builds: unknown build "${b}" (known: native, native-sse, native-avx2, wasm)`);
const preset = opt('--preset', 'gpt-tiny');
if (!['gpt-tiny', 'cnn-digits'].includes(preset)) throw new Error(`gpt_step: --preset: "${preset}" is not gpt-tiny or cnn-digits`);
const log = (...a) => console.error('[gpt-step]', ...a);

const trees = { this: repo, ...(base ? { base } : {}) };
for (const [tag, root] of Object.entries(trees))
  for (const f of builds.map((b) => (b === 'wasm' ? 'web/public/wasm/resnorm.wasm' : `build/${b}/resnorm`)))
    if (!existsSync(join(root, f))) throw new Error(`gpt_step: ${tag} tree ${root} has no ${f} (build it first)`);

const dataFile = join(repo, preset === 'cnn-digits' ? 'web/public/data/digits.bin' : 'web/public/data/tinyshakespeare.txt');
if (!existsSync(dataFile)) throw new Error(`gpt_step: ${dataFile} is missing (node scripts/make-digits.mjs builds the digits)`);
const text = preset === 'cnn-digits' ? new Uint8Array(readFileSync(dataFile)) : readFileSync(dataFile, 'utf8');
const mods = {};
for (const [tag, root] of Object.entries(trees)) mods[tag] = await loadWasmModule(join(root, 'web/public/wasm/resnorm.wasm'));
const cfg = JSON.parse(mods.this.presetJson(preset));
const config = JSON.stringify({ ...cfg, optim: { ...cfg.optim, steps: 1000000 } });

const nativeMs = (root, build) => JSON.parse(execFileSync(join(root, `build/${build}/resnorm`),
  ['bench', '--preset', preset, '--steps', '30', '--warmup', '5', '--threads', '1', '--json',
    ...(preset === 'gpt-tiny' ? ['--data', dataFile] : [])], { cwd: root, encoding: 'utf8' })).median_ms;
const variants = [];
for (const tag of Object.keys(trees)) {
  if (builds.includes('native')) variants.push([`native -march=native (${tag})`, () => nativeMs(trees[tag], 'native')]);
  if (builds.includes('native-sse')) variants.push([`native SSE4.1 (${tag})`, () => nativeMs(trees[tag], 'native-sse')]);
  if (builds.includes('native-avx2')) variants.push([`native AVX2 x86-64-v3 (${tag})`, () => nativeMs(trees[tag], 'native-avx2')]);
  if (builds.includes('wasm'))
    variants.push([`wasm Node (${tag})`, () => timeTrainer(mods[tag], config, text, { warmup: 5, steps: 20, blockMs: 0 }).median_ms]);
}

const uptime = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const samples = Object.fromEntries(variants.map(([k]) => [k, []]));
const loads = [uptime()];
for (let r = 0; r < rounds; ++r) {
  log(`round ${r + 1}/${rounds}, load ${uptime()}`);
  for (let i = 0; i < variants.length; ++i) {
    const [name, run] = variants[(i + r) % variants.length];
    samples[name].push(run());
  }
  loads.push(uptime());
}
const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const ratios = {};
const has = (k) => Number.isFinite(med[k]);
for (const tag of Object.keys(trees)) {
  if (!has(`wasm Node (${tag})`)) continue;
  if (has(`native -march=native (${tag})`))
    ratios[`wasm / native -march=native (${tag})`] = med[`wasm Node (${tag})`] / med[`native -march=native (${tag})`];
  if (has(`native SSE4.1 (${tag})`)) ratios[`wasm / native SSE4.1 (${tag})`] = med[`wasm Node (${tag})`] / med[`native SSE4.1 (${tag})`];
  if (has(`native AVX2 x86-64-v3 (${tag})`))
    ratios[`wasm / native AVX2 x86-64-v3 (${tag})`] = med[`wasm Node (${tag})`] / med[`native AVX2 x86-64-v3 (${tag})`];
}
if (base)
  for (const v of ['native -march=native', 'native SSE4.1', 'native AVX2 x86-64-v3', 'wasm Node'])
    if (has(`${v} (this)`)) ratios[`${v}: this / base`] = med[`${v} (this)`] / med[`${v} (base)`];

const results = {
  date: new Date().toISOString(),
  commit: commitLabel(repo),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version,
    avx512: readFileSync('/proc/cpuinfo', 'utf8').includes('avx512f'), loadavg_per_round: loads },
  preset,
  note: `${preset} train step, ms: median over rounds of per-round medians of single steps, one thread. Shared machine: other work ran at the same time.`,
  base, rounds, builds, median_ms: med, ratios, samples_ms: samples,
};
mkdirSync(join(repo, 'bench/results'), { recursive: true });
// The full comparison is bench/results/gpt-step.json; a run of some builds only gets its own file.
const stem = preset === 'gpt-tiny' ? 'gpt-step' : `${preset}-step`;
const full = builds.length === 3 && !builds.includes('native-avx2');
const outName = full ? `${stem}.json` : `${stem}-${[...builds].sort().join('-')}.json`;
writeFileSync(join(repo, 'bench/results', outName), `${JSON.stringify(results, null, 1)}\n`);
console.log(`\n### ${preset} train step, ms (median of ${rounds} rounds)\n\n| variant | ms |\n|---|---:|`);
for (const [k, v] of Object.entries(med)) console.log(`| ${k} | ${v.toFixed(1)} |`);
console.log('\n### Ratios\n');
for (const [k, v] of Object.entries(ratios)) console.log(`- ${k}: ${v.toFixed(3)}`);
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores, Node ${process.version}; load ${loads[0]} -> ${loads.at(-1)}; wrote bench/results/${outName})`);
