// Where a gpt-tiny train step spends its time (issue 24, item 1), in wasm and natively, so that the work
// on attention and on fewer passes starts from data. Writes bench/results/profile-gpt.json and prints a
// summary: per build, the top functions by self time (% of the samples inside train steps), and the step
// split into the parts the issue names (attention's per-head products through Eigen, layer norms, residual
// adds, the per-step statistics, ...), each counted by the innermost op on the sample's call stack.
//   wasm:   the engine relinked with --profiling-funcs (function names kept; the code is the published
//           build's: same compile flags, same -O3/-Oz), build/wasm-prof/; gpt-tiny trained in a child
//           `node --cpu-prof` as the engine's worker does (step(1) per step, statistics unpacked).
//   native: `resnorm bench --preset gpt-tiny` under `perf record -e cpu-clock --call-graph fp` (this VM
//           has no hardware counters; cpu-clock sampling works), for the -march=native and the native-sse
//           builds, both relinked with -fno-omit-frame-pointer (build/native-prof, build/native-sse-prof) so
//           that Eigen's 1 MB stack blocks do not cut the call stacks. The frame pointer costs one register.
// Options: --steps N (60 profiled steps per build), --warmup N (10), --no-native, --no-wasm (these two write
// build/profile-<preset>-partial.json instead), --preset gpt-tiny|cnn-digits (cnn-digits writes
// bench/results/profile-cnn.json; its parts add the convolutions, BatchNorm, ReLU and pooling).
// Run on a shared machine: samples are of this process only, so other load stretches the wall time but
// not the split (except for cache sharing).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const P = (p) => join(repo, p);
const args = process.argv.slice(2);
const fail = (msg) => { console.error(msg); process.exit(2); };  // one line, no stack trace
const log = (...a) => console.error('[profile-gpt]', ...a);
const known = new Set(['--steps', '--warmup', '--no-native', '--no-wasm', '--child', '--preset']);
for (let i = 0; i < args.length; ++i) {
  if (!known.has(args[i])) fail(`profile_gpt: unknown option "${args[i]}" (known: ${[...known].filter((k) => k !== '--child').join(', ')})`);
  if (['--steps', '--warmup', '--child', '--preset'].includes(args[i])) ++i;
}
const num = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!(v >= 1) || !Number.isInteger(v)) fail(`profile_gpt: ${name} needs a positive integer, got "${args[i + 1]}"`);
  return v;
};
const steps = num('--steps', 60), warmup = num('--warmup', 10);
const preset = args.includes('--preset') ? args[args.indexOf('--preset') + 1] : 'gpt-tiny';
if (!['gpt-tiny', 'cnn-digits'].includes(preset)) fail(`profile_gpt: --preset: "${preset}" is not gpt-tiny or cnn-digits`);
const cnn = preset === 'cnn-digits';
const dataFile = P(cnn ? 'web/public/data/digits.bin' : 'web/public/data/tinyshakespeare.txt');
if (!existsSync(dataFile)) fail(`profile_gpt: ${dataFile} is missing (node scripts/make-digits.mjs builds the digits)`);

// --- the child: gpt-tiny steps in wasm, as the engine's worker takes them -------------------------------
if (args.includes('--child')) {
  const { loadWasmModule } = await import('../../web/src/engine/node-loader.mjs');
  const { unpackSteps } = await import('../../web/src/engine/steps.mjs');
  const mod = await loadWasmModule(args[args.indexOf('--child') + 1]);
  const cfg = JSON.parse(mod.presetJson(preset));
  const text = cnn ? new Uint8Array(readFileSync(dataFile)) : readFileSync(dataFile, 'utf8');
  const t = new mod.Trainer(JSON.stringify({ ...cfg, optim: { ...cfg.optim, steps: 1000000 } }), text, '');
  // Named functions: the parent keeps only samples under profiledStep (not load, compile, warm-up).
  function warmupStep() { return unpackSteps(t.step(1), (i) => mod.stepMessage(i)); }
  function profiledStep() { return unpackSteps(t.step(1), (i) => mod.stepMessage(i)); }
  for (let i = 0; i < warmup; ++i) warmupStep();
  const ms = [];
  for (let i = 0; i < steps; ++i) {
    const t0 = performance.now();
    profiledStep();
    ms.push(performance.now() - t0);
  }
  t.delete();
  ms.sort((a, b) => a - b);
  console.log(JSON.stringify({ median_ms: ms[ms.length >> 1] }));
  process.exit(0);
}

// --- attribution ------------------------------------------------------------------------------------------
// A sample goes to the innermost frame on its stack that names one of these (checked leaf to root);
// samples with none of them go to 'other' (the step's own bookkeeping, the JS side, libc).
const parts = [
  ['statistics: per-slice gradient/weight/update norms, block RMS, attention entropy', /sum_squares|block_rms|attention_entropy|collect_update_ratios/],
  ['attention (per-head QK^T, softmax, .V and their backward)', /attention_(forward|backward)/],
  ['linear layers (GEMM)', /linear_(forward|backward)|resnorm::gemm\(/],
  ['BatchNorm', /batchnorm_(forward|backward)/],  // before the layer norms, whose pattern it also matches
  ['layer norms', /norm_(forward|backward)|layernorm_|rmsnorm_/],
  ['residual adds', /residual_(forward|backward)|backward_whole|\bresidual\b/],
  [cnn ? 'ReLU' : 'GELU', /activation_(forward|backward)/],
  ['cross-entropy (softmax over the vocabulary)', /cross_entropy_/],
  ['embedding', /embedding_(forward|backward)/],
  ['AdamW update', /Optimizer::update|optimizer_update|adamw_range|sgd_range/],
  ['zeroing gradients and activation grads', /zero_grad|Model::backward\(\)::|memset|vector<float.*>::assign/],
  ['batch sampling', /fill_batch/],
  // cnn-digits
  ['convolutions (im2col, GEMM, col2im)', /conv2d_(forward|backward)|im2col|col2im/],
  ['global average pooling', /global_avgpool/],
];
// Attention's functions are often inlined (into Model::forward / sub_backward, and by binaryen in wasm), so
// a sample in Eigen's GEMM with no linear layer below it is attention's per-head product: in wasm and
// native-sse the linear layers use the core's own GEMM (resnorm::gemm), never Eigen; in -march=native they
// use Eigen too, but then linear_forward/backward are on the stack (checked: they are not inlined).
const eigenGemm = /Eigen::internal::(gebp_kernel|gemm_pack_(lhs|rhs)|general_matrix_matrix_product|gemm_functor|parallelize_gemm|generic_product_impl)/;
const attnEigen = 'attention: per-head products through Eigen (QK^T, att.V and their backward)';
const attnOwn = 'attention: own loops (mask, softmax, scaling, head split)';

// In wasm, binaryen inlines functions that have one caller: attention_forward/backward and the embedding
// into Model::forward/backward, attention_entropy and the statistics' combination into the binding's step
// lambda (Trainer::step inlined). Samples executing in those callers' own code are named for what was
// inlined into them (natively, with no cross-file inlining, the same work keeps its own frames).
const inlinedInWasm = [
  [/^resnorm::Model::(forward|backward)\(/, 'wasm: Model::forward/backward own code (inlined: attention mask/softmax/head loops, embedding)'],
  [/^\(anonymous namespace\)::step\(resnorm::Trainer&, int\)|^resnorm::Trainer::step\(\)$/,
    'Trainer::step own code (wasm: with what binaryen inlined into it, e.g. the AdamW loop, attention entropy, statistics sums, clipping)'],
];
const libm = /^(lrintf|expf|logf|exp|log|tanhf|memset|memcpy|__\w+)$/;  // leaf helpers: look at their caller

function attribute(stack /* leaf first */) {
  const own = stack.find((n) => !libm.test(n)) ?? stack[0];
  if (!stack.slice(0, stack.indexOf(own)).some((n) => /memset/.test(n)))
    for (const [re, part] of inlinedInWasm) if (re.test(own)) return part;
  // A convolution's product runs through linear_forward/backward: it counts as the convolution's.
  const conv = parts.find(([p]) => p.startsWith('convolutions'));
  if (stack.some((n) => conv[1].test(n))) return conv[0];
  for (const name of stack) {
    for (const [part, re] of parts) {
      if (!re.test(name)) continue;
      if (part.startsWith('attention')) return stack.some((n) => eigenGemm.test(n)) ? attnEigen : attnOwn;
      return part;
    }
  }
  if (stack.some((n) => eigenGemm.test(n))) return attnEigen;
  return 'other (step bookkeeping, JS glue and statistics unpacking, libc)';
}

const short = (name) => {
  // Drop argument lists and template arguments for the table; keep the full name in the JSON.
  let out = '', depth = 0;
  for (const ch of name.replace(/\(anonymous namespace\)/g, '{anon}').replace(/operator\(\)/g, 'operator{call}')) {
    if (ch === '<' || ch === '(') ++depth;
    if (depth === 0) out += ch;
    if ((ch === '>' || ch === ')') && depth > 0) --depth;
  }
  return out.replace(/\s+const$/, '').replace(/operator\{call\}/g, 'operator()').trim() || name.slice(0, 80);
};

function summarise(stacks /* array of leaf-first name arrays */) {
  const self = new Map(), split = new Map(), detail = new Map();
  for (const st of stacks) {
    self.set(st[0], (self.get(st[0]) ?? 0) + 1);
    const part = attribute(st);
    split.set(part, (split.get(part) ?? 0) + 1);
    if (!detail.has(part)) detail.set(part, new Map());
    const leaves = detail.get(part), leaf = short(st[0]);
    leaves.set(leaf, (leaves.get(leaf) ?? 0) + 1);
  }
  const n = stacks.length;
  const pct = (c) => Math.round((1000 * 100 * c) / n) / 1000;
  return {
    samples: n,
    top15_self: [...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, c]) => ({ function: short(name), self_pct: pct(c), full_name: name })),
    split_pct: Object.fromEntries([...split].sort((a, b) => b[1] - a[1]).map(([k, c]) => [k, pct(c)])),
    // What each part's samples were executing (self), its five largest: e.g. what 'other' is made of.
    split_leaves_pct: Object.fromEntries([...detail].map(([k, m]) => [k,
      Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([f, c]) => [f, pct(c)]))])),
  };
}

// --- wasm under node --cpu-prof ---------------------------------------------------------------------------
function profileWasm() {
  const wasm = P('build/wasm-prof/resnorm.wasm');
  if (!existsSync(wasm))
    fail('build/wasm-prof/resnorm.wasm is missing: NODE_PATH=/usr/share/nodejs cmake --preset wasm -B build/wasm-prof ' +
      '-DRESNORM_BUILD_TESTS=OFF -DRESNORM_WASM_PUBLISH_DIR= -DRESNORM_WASM_EXTRA_LINK=--profiling-funcs && NODE_PATH=/usr/share/nodejs cmake --build build/wasm-prof --target resnorm_wasm');
  const dir = mkdtempSync(join(tmpdir(), 'gpt-cpuprof-'));
  try {
    const out = execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '500',
      fileURLToPath(import.meta.url), '--child', wasm, '--steps', String(steps), '--warmup', String(warmup), '--preset', preset], { encoding: 'utf8' });
    const prof = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))), 'utf8'));
    const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
    const parent = new Map();
    for (const nd of prof.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
    const stacks = [];
    for (const id of prof.samples) {
      const st = [];
      for (let k = id; k !== undefined; k = parent.get(k)) st.push(byId.get(k).callFrame.functionName || '(anonymous)');
      if (st.includes('profiledStep')) stacks.push(st);
    }
    return { median_step_ms_while_profiled: JSON.parse(out.trim().split('\n').pop()).median_ms, ...summarise(stacks) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- native under perf ------------------------------------------------------------------------------------
function profileNative(buildDir, cmakePreset, flags) {
  const bin = P(`${buildDir}/resnorm`);
  if (!existsSync(bin))
    fail(`${buildDir}/resnorm is missing: cmake --preset ${cmakePreset} -G Ninja -B ${buildDir} "-DCMAKE_CXX_FLAGS=${flags}" ` +
      `-DRESNORM_BUILD_TESTS=OFF && cmake --build ${buildDir} --target resnorm`);
  const dir = mkdtempSync(join(tmpdir(), 'gpt-perf-'));
  try {
    const data = join(dir, 'perf.data');
    const rec = spawnSync('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '2000', '--call-graph', 'fp', '-o', data, bin, 'bench',
      '--preset', preset, '--threads', '1', '--steps', String(steps), '--warmup', String(warmup), '--json'], { encoding: 'utf8', cwd: repo });
    if (rec.error) fail(`profile_gpt: cannot run perf (${rec.error.code}); Debian: apt-get install linux-perf, or --no-native`);
    if (rec.status !== 0) fail(`profile_gpt: perf record failed (exit ${rec.status}): ${(rec.stderr || '').trim().split('\n').pop()}; --no-native skips it`);
    const bench = JSON.parse(rec.stdout.trim().split('\n').pop());
    const script = execFileSync('perf', ['script', '-i', data, '-F', 'ip,sym', '--demangle'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const stacks = [];
    for (const block of script.split(/\n\s*\n/)) {
      const st = block.split('\n').map((l) => l.trim().replace(/^[0-9a-f]+\s+/, '')).filter(Boolean).map((s) => s.replace(/\+0x[0-9a-f]+$/, ''));
      // Train steps only (the CLI's bench calls Trainer::step for warm-up and timed steps alike): not the
      // vocabulary scan, model set-up and config parsing before them.
      if (st.some((s) => s.includes('resnorm::Trainer::step'))) stacks.push(st);
    }
    return { median_step_ms_while_profiled: bench.median_ms, ...summarise(stacks) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim();
const cpuFlags = (readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/);
const results = {
  date: new Date().toISOString(),
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version,
    simd_flags: [...new Set(cpuFlags.filter((f) => /^(sse4_1|avx|avx2|fma|avx512f|avx512vl|avx512bw)$/.test(f)))], loadavg_at_start: loadavg() },
  preset: cnn ? 'cnn-digits (one thread)' : 'gpt-tiny (4 layers, width 128, 4 heads, context 64, batch 12; one thread)', steps, warmup,
  note: 'self_pct: % of the samples taken inside train steps whose innermost frame is that function; split_pct: each sample ' +
    'counted once, for the innermost op on its stack (see bench/wasm/profile_gpt.mjs). Shared, loaded machine: the step times ' +
    'are wall clock under load and under the profiler, not benchmark figures.',
  builds: {},
};
if (!args.includes('--no-wasm')) {
  log('wasm (Node, --cpu-prof)');
  results.builds['wasm SIMD (Node 20, --profiling-funcs)'] = profileWasm();
}
if (!args.includes('--no-native')) {
  log('native -march=native (perf)');
  results.builds['native -march=native (perf, frame pointers)'] = profileNative('build/native-prof', 'native', '-fno-omit-frame-pointer');
  log('native-sse (perf)');
  results.builds['native-sse (perf, frame pointers)'] = profileNative('build/native-sse-prof', 'native-sse', '-msse4.1 -ffp-contract=off -fno-omit-frame-pointer');
}
// The fractions the issue asks about, in one sentence per build.
const pick = (b, re) => Object.entries(results.builds[b].split_pct).filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);
results.summary = Object.keys(results.builds).map((b) => `${b}: linear-layer GEMMs ${pick(b, /^linear/).toFixed(1)}%, ` +
  `attention's per-head products through Eigen ${pick(b, /per-head products/).toFixed(1)}% ` +
  `(attention's own loops ${pick(b, /own loops/).toFixed(1)}%${/wasm/.test(b) ? ', in wasm inlined into Model::forward/backward, which hold ' + pick(b, /^wasm: Model/).toFixed(1) + '% with the embedding' : ''}), ` +
  `layer norms ${pick(b, /^layer norms/).toFixed(1)}%, residual adds ${pick(b, /^residual/).toFixed(1)}%, ` +
  `statistics/diagnostics ${pick(b, /^statistics/).toFixed(1)}%${/wasm/.test(b) ? ` (+ part of Trainer::step's inlined own code, ${pick(b, /^Trainer::step/).toFixed(1)}%)` : ''}, ` +
  `GELU ${pick(b, /^GELU/).toFixed(1)}%, zeroing ${pick(b, /^zeroing/).toFixed(1)}%, AdamW ${pick(b, /^AdamW/).toFixed(1)}%.`);
results.machine.loadavg_at_end = loadavg();
// A partial run (--no-wasm, --no-native) does not overwrite the committed comparison.
const partial = args.includes('--no-wasm') || args.includes('--no-native');
const stem = cnn ? 'profile-cnn' : 'profile-gpt';
const outFile = partial ? `build/${stem}-partial.json` : `bench/results/${stem}.json`;
mkdirSync(dirname(P(outFile)), { recursive: true });
writeFileSync(P(outFile), `${JSON.stringify(results, null, 1)}\n`);

const names = Object.keys(results.builds);
console.log(`\n### ${preset} train step: where the time goes (% of samples in train steps)\n`);
console.log(`| part | ${names.join(' | ')} |\n|---|${names.map(() => '---:').join('|')}|`);
const allParts = [...new Set(names.flatMap((b) => Object.keys(results.builds[b].split_pct)))];
for (const part of allParts) console.log(`| ${part} | ${names.map((b) => `${(results.builds[b].split_pct[part] ?? 0).toFixed(1)}%`).join(' | ')} |`);
console.log(`| (median step while profiled, ms) | ${names.map((b) => results.builds[b].median_step_ms_while_profiled.toFixed(1)).join(' | ')} |`);
for (const b of names) {
  console.log(`\n#### ${b}: top 15 by self time (${results.builds[b].samples} samples)\n`);
  for (const f of results.builds[b].top15_self) console.log(`- ${f.self_pct.toFixed(1)}% ${f.function}`);
}
console.log(`\n${results.summary.map((l) => `- ${l}`).join('\n')}`);
console.log(`\n(${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.simd_flags.join(' ')}; load ${results.machine.loadavg_at_start} -> ${results.machine.loadavg_at_end}; commit ${results.commit}; wrote ${outFile})`);
