// `npm run docs:bench`: writes every benchmark table of docs/benchmarks.md from bench/results/*.json, between
// the markers <!-- bench:NAME --> and <!-- /bench:NAME -->, so no figure in the guide can drift from its data.
//   node scripts/docs-bench.mjs            rewrite the tables in docs/benchmarks.md
//   node scripts/docs-bench.mjs --check    exit 1 (naming the table) if a table differs from what the JSON gives
//   node scripts/docs-bench.mjs --out F    read and write F instead (the check's own test uses this)
// Each table opens with the machine, CPU flags, date, commit and load the JSON records; what a JSON does not
// record is written as "not recorded", never guessed. A marker in the doc with no generator, a generator whose
// markers are missing, or a JSON file that is missing or malformed is an error naming it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');

// ---- formatting -------------------------------------------------------------------------------------------
const NR = 'not recorded';
function num(x, digits) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const ms = (x) => num(x, x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3);
const ratio = (x, d = 2) => (typeof x === 'number' ? `${num(x, d)}×` : '–');
const load = (v) => (Array.isArray(v) ? v.map((x) => num(x, 2)).join(' / ') : typeof v === 'number' ? num(v, 2) : v ?? NR);
function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}
// The line above each table: what the JSON says about where and when it was measured.
function meta({ file, machine, flags, date, commit, loadText }) {
  return [
    `*\`bench/results/${file}\`* · machine: ${machine ?? NR} · CPU flags: ${flags ?? NR} · date: ${date ?? NR} · ` +
      `commit: ${commit ?? NR} · load average: ${loadText ?? NR}`,
    '',
    '',
  ].join('\n');
}
function read(file) {
  const p = path.join(RESULTS, file);
  let text;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch {
    throw new Error(`docs-bench: bench/results/${file} is missing (a table in docs/benchmarks.md is generated from it)`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`docs-bench: bench/results/${file} is not valid JSON (${e.message})`);
  }
}
const cores = (n) => (n ? `, ${n} cores` : '');

// ---- one generator per table: name -> () => markdown ------------------------------------------------------
const GEN = {
  'cpu-vs-torch': () => {
    const d = read('cpu_vs_torch.json');
    const c = d.resnorm?.commit ? d.resnorm.commit.slice(0, 7) + (d.resnorm.working_tree_dirty ? ' (working tree dirty)' : '') : undefined;
    return (
      meta({ file: 'cpu_vs_torch.json', machine: d.machine?.cpu + cores(d.machine?.logical_cpus), date: d.date, commit: c,
        loadText: d.machine?.load_average_1min_before_after ? `${load(d.machine.load_average_1min_before_after)} (before / after)` : undefined }) +
      table(['preset', 'resnorm ms', 'PyTorch ms', 'speed-up', 'goal'],
        d.results.map((r) => [r.preset, ms(r.resnorm_ms), ms(r.torch_ms), ratio(r.speedup),
          `≥ ${num(r.goal_speedup, 0)}× — ${r.speedup >= r.goal_speedup ? 'met' : '**not met**'}`]))
    );
  },
  'wasm-size': () => {
    const d = read('wasm.json');
    return (
      meta({ file: 'wasm.json', machine: d.machine?.cpu + cores(d.machine?.cores), date: d.date,
        loadText: `${load(d.machine?.load_1min_at_start)} → ${load(d.machine?.load_1min_at_end)}` }) +
      table(['single-thread engine', '.wasm bytes', 'glue bytes', 'gzipped together', 'budget then'],
        [['resnorm.wasm + resnorm.mjs', num(d.size.wasm_bytes, 0), num(d.size.glue_bytes, 0), `${num(d.size.gzip_bytes, 0)} B`,
          `${num(d.size.budget_bytes, 0)} B`]])
    );
  },
  'wasm-train': () => {
    // Only the presets step.json has not measured again since: each figure from its latest measurement.
    const d = read('wasm.json'), later = read('step.json').median_ms;
    const cols = ['native -march=native', 'native SSE4.1', 'wasm SIMD (Node)', 'wasm SIMD (Chromium)', 'wasm scalar (Chromium)'];
    return (
      meta({ file: 'wasm.json', machine: d.machine?.cpu + cores(d.machine?.cores), date: d.date,
        loadText: `${load(d.machine?.load_1min_at_start)} → ${load(d.machine?.load_1min_at_end)}` }) +
      table(['train step, ms', ...cols, 'wasm SIMD / native', 'wasm SIMD / SSE4.1'],
        Object.entries(d.train).filter(([k]) => !(k in later)).map(([k, v]) => [k, ...cols.map((c) => ms(v[c])),
          ratio(d.ratios.train_wasm_simd_over_native[k]), ratio(d.ratios.train_wasm_simd_over_native_sse[k])]))
    );
  },
  'gemm-linear': () => {
    const d = read('gemm-linear.json');
    const cols = ['wasm SIMD (Node): Eigen', 'wasm SIMD (Node): core GEMM', 'native SSE4.1: Eigen', 'native SSE4.1: core GEMM',
      'native -march=native: Eigen', 'native -march=native: core GEMM'];
    return (
      meta({ file: 'gemm-linear.json', machine: d.machine?.cpu + cores(d.machine?.cores), date: d.date, commit: d.commit,
        loadText: `${load(d.machine?.load_1min_at_start)} → ${load(d.machine?.load_1min_at_end)}` }) +
      `GFLOP/s of a linear layer's three products, median of ${d.rounds} alternating rounds.\n\n` +
      table(['shape', ...cols, 'wasm: core / Eigen'],
        Object.entries(d.gflops).map(([k, v]) => [k, ...cols.map((c) => num(v[c], 1)),
          ratio(v[cols[1]] / v[cols[0]])])) +
      // Issue 24's goal: the wasm core GEMM at >= 70% of the machine's own 128-bit peak (older files lack it).
      (d.wasm_core_gemm_fraction_of_native_128bit_peak && d.fraction_of_128bit_peak
        ? `\n\nThe wasm core GEMM as a fraction of 128-bit f32x4 mul + add peaks measured in the same rounds ` +
          `(wasm's own: ${num(d.peak_gflops?.['wasm SIMD (Node)'], 1)} GFLOP/s; the machine's best native: ` +
          `${num(d.peak_gflops?.['machine (best native 128-bit)'], 1)} GFLOP/s). Goal: at least 70% of the machine's.\n\n` +
          table(['shape', 'of wasm\'s own peak', 'of the machine\'s 128-bit peak', 'goal ≥ 70%'],
            Object.entries(d.wasm_core_gemm_fraction_of_native_128bit_peak).map(([k, v]) => [k,
              `${num(100 * d.fraction_of_128bit_peak[k]?.['wasm SIMD (Node): core GEMM'], 0)}%`, `${num(100 * v, 0)}%`,
              v >= 0.7 ? 'met' : 'not met']))
        : '')
    );
  },
  'step': () => {
    const d = read('step.json');
    const cols = ['native -march=native', 'native SSE4.1', 'wasm (Node)', 'wasm (Chromium)', 'wasm before (Node)', 'wasm before (Chromium)'];
    return (
      meta({ file: 'step.json', machine: d.machine?.cpu + cores(d.machine?.cores), date: d.date,
        loadText: `${load(d.machine?.load_1min_at_start)} → ${load(d.machine?.load_1min_at_end)}` }) +
      `ms per train step, one thread, median over ${d.rounds} rounds ("before": the build the run compared against).\n\n` +
      table(['train step, ms', ...cols, 'wasm Node / native'],
        Object.entries(d.median_ms).map(([k, v]) => [k, ...cols.map((c) => ms(v[c])), ratio(d.ratios[k]['wasm (Node) / native -march=native'])]))
    );
  },
  'tfjs': () => {
    const d = read('step.json');
    return (
      meta({ file: 'step.json', machine: d.machine?.cpu + cores(d.machine?.cores), date: d.date,
        loadText: `${load(d.machine?.load_1min_at_start)} → ${load(d.machine?.load_1min_at_end)}` }) +
      'TF.js 4.22 held to one thread; ours one thread. Ratio: TF.js best backend / our best runtime.\n\n' +
      table(['train step, ms', 'ours, Node', 'ours, Chromium', 'TF.js wasm, Node', 'TF.js wasm, Chromium', 'TF.js cpu, Chromium',
        'TF.js best / ours best', 'goal ≥ 10×'],
        Object.entries(d.tfjs).map(([k, t]) => {
          const r = d.ratios[k]['TF.js best / resnorm wasm best'];
          return [k, ms(d.median_ms[k]['wasm (Node)']), ms(d.median_ms[k]['wasm (Chromium)']), ms(t['TF.js wasm (Node)']),
            ms(t['TF.js wasm (Chromium)']), ms(t['TF.js cpu (Chromium)']), ratio(r, 1), r >= 10 ? 'met' : '**not met**'];
        }))
    );
  },
  'cnn': () => {
    const d = read('cnn.json');
    const m = d.machine ?? {};
    const rounds = d.rounds ?? [];
    return (
      meta({ file: 'cnn.json', machine: m.cpu + cores(m.cores), date: d.date,
        loadText: `${load(m.load_1min_at_start)} → ${load(m.load_1min_at_end)}` }) +
      `${d.preset}, ms per train step, one thread, median of ${rounds.length} interleaved rounds (each round's own median in the last column).\n\n` +
      table(['runtime', 'median ms', 'rounds'],
        [...Object.entries(d.median_ms).map(([k, v]) => [k, ms(v), rounds.map((r) => ms(r[k])).join(', ')]),
          ...Object.entries(d.errors ?? {}).map(([k, v]) => [k, 'fails', `\`${String(v).replace(/^page\.evaluate: Error: /, '').slice(0, 70)}\``])]) +
      '\n\n' +
      table(['ratio (median of per-round ratios)', 'value'],
        Object.entries(d.ratios_within_rounds_median).map(([k, v]) => [k.replace(/_/g, ' '), ratio(v)]))
    );
  },
  'avx2': () => {
    // gpt_step.mjs --builds native,native-avx2,wasm [--preset cnn-digits]: the wasm step against this machine's
    // AVX-512 build and its AVX2 build (x86-64-v3), which stands in for an AVX2-only machine's native code.
    const files = ['gpt-step-native-native-avx2-wasm.json', 'cnn-digits-step-native-native-avx2-wasm.json'];
    const ds = files.map(read);
    const m = ds[0].machine ?? {};
    const goal = { 'gpt-tiny': 3, 'cnn-digits': 2 };
    return (
      meta({ file: files.join('`, `'), machine: m.cpu + cores(m.cores), date: ds[0].date, commit: ds[0].commit,
        loadText: (m.loadavg_per_round ?? []).length ? `${m.loadavg_per_round[0]} → ${m.loadavg_per_round.at(-1)}` : undefined }) +
      `ms per train step, one thread, median of ${ds[0].rounds} interleaved rounds.\n\n` +
      table(['preset', 'native -march=native', 'native AVX2 (x86-64-v3)', 'wasm (Node)', 'wasm / native', 'wasm / AVX2', 'issue 24 goal on AVX2'],
        ds.map((d) => {
          const p = d.preset ?? 'gpt-tiny', med = d.median_ms;
          const r = d.ratios['wasm / native AVX2 x86-64-v3 (this)'];
          return [p, ms(med['native -march=native (this)']), ms(med['native AVX2 x86-64-v3 (this)']), ms(med['wasm Node (this)']),
            ratio(d.ratios['wasm / native -march=native (this)']), ratio(r), `≤ ${goal[p]}× — ${r <= goal[p] ? 'met' : '**not met**'}`];
        }))
    );
  },
  'conv': () => {
    const d = read('conv.json');
    const t = (s) => [ms(s.step_total_ms.fwd.im2col[1]), ms(s.step_total_ms.fwd.direct[1]), ms(s.step_total_ms.bwd.im2col[1]),
      ms(s.step_total_ms.bwd.direct[1])];
    return (
      meta({ file: 'conv.json', machine: d.cpu, date: d.date, loadText: `${d.load_average_at_end} (at the end)` }) +
      'CPU ms per cnn-digits step in its convs (batch 64), fastest of the timed calls.\n\n' +
      table(['build', 'forward im2col', 'forward direct', 'backward im2col', 'backward direct'],
        [['native (g++ 12, -march=native)', ...t(d.native)], ['wasm SIMD (Node)', ...t(d.wasm_node)]])
    );
  },
  'threads': () => {
    const n = read('threads-native.json'), w = read('threads-web.json'), v = read('threads-toval-web.json');
    const c2 = read('threads-compare-web-2runs.json'), c4 = read('threads-compare-web-4runs.json'), mem = read('threads-memory-web.json');
    const nr = n.runs.find((r) => r.preset === 'gpt-tiny');
    return (
      meta({ file: 'threads-*.json', machine: `${n.cpu}${cores(n.cores)}; Chromium ${w.browser}`, loadText:
        `native ${n.load_before} → ${n.load_after}; web ${load(w.load_before)} → ${load(w.load_after)}` }) +
      table(['figure', '1 thread (or whole)', '2 threads (or split)', 'ratio', 'same losses'],
        [[`${nr.preset} step, native (\`threads-native.json\`)`, `${ms(nr.median_ms_1)} ms`, `${ms(nr.median_ms)} ms`, ratio(nr.ratio), String(nr.losses_identical)],
          [`${w.preset} step, Chromium pthreads build (\`threads-web.json\`)`, `${ms(w.single_ms)} ms`, `${ms(w.threaded_ms)} ms`, ratio(w.ratio), String(w.losses_identical)],
          [`${v.preset} to validation loss ${v.target} in Chromium (\`threads-toval-web.json\`; reached ${num(v.final_val, 3)} at step ${v.reached_at_step})`,
            `${num(v.single_s, 1)} s`, `${num(v.threaded_s, 1)} s`, ratio(v.ratio, 3), '–'],
          [`compare mode, ${c2.runs} ${c2.preset} runs, a lockstep round (\`threads-compare-web-2runs.json\`)`, `${ms(c2.whole_ms)} ms`, `${ms(c2.split_ms)} ms`, ratio(c2.ratio), String(c2.losses_identical)],
          [`compare mode, ${c4.runs} ${c4.preset} runs, a lockstep round (\`threads-compare-web-4runs.json\`)`, `${ms(c4.whole_ms)} ms`, `${ms(c4.split_ms)} ms`, ratio(c4.ratio), String(c4.losses_identical)],
          [`${mem.preset} step, pthreads build: growing memory vs fixed ${mem.fixed_mb} MB (\`threads-memory-web.json\`)`, `${ms(mem.growth.step_ms)} ms`, `${ms(mem.fixed.step_ms)} ms`, ratio(mem.step_ratio_fixed_over_growth), String(mem.losses_identical)]])
    );
  },
  'toval-playground': () => {
    // One row per playground run (each file its own run, CLI reference and load); the CLI row from the main file.
    const files = ['toval-playground.json', 'toval-playground-speed-page.json', 'toval-playground-eval250.json', 'toval-playground-eval250-speed-page.json'];
    const [d, ...more] = files.map(read);
    const c = d.cli_run;
    const at = (r) => (r?.reached_at_step == null ? `not reached${r?.why ? ` (${r.why})` : ''}` : `${r.reached_at_step} (${num(r.val, 4)})`);
    const steps = (r) => (typeof r?.step_s_total === 'number' ? `${num(r.step_s_total, 1)} s (median ${ms(r.step_ms_median)} ms)` : '–');
    const prev = (r) => (r?.previous_eval ? `${r.previous_eval.step} (${num(r.previous_eval.val, 4)}) at ${num(r.previous_eval.t_s, 1)} s` : '–');
    const wall = (x) => (x == null ? '–' : `${num(x, 1)} s`);
    const page = (x, file) => {
      const b = x.browser_run;
      return [`playground, speed ${x.speed_setting === 0 ? 'max' : `${x.speed_setting}/s cap`}, eval every ${x.eval_every} (\`${file}\`, ` +
        `${x.commit}, load ${load(x.load_before)} → ${load(x.load_after)}; CLI then ${x.cli_run ? wall(x.cli_run.wall_s) : '–'})`,
      String(x.threads ?? NR), at(b), prev(b), wall(b.wall_s), wall(b.wall_s_one_eval), steps(b), num(b.steps_per_s, 2),
      x.goal_met == null ? '–' : `≤ ${x.goal_s} s — ${x.goal_met ? 'met' : 'not met'}`];
    };
    const rows = [page(d, files[0]), ...more.map((x, i) => page(x, files[i + 1]))];
    if (c) rows.push([`native CLI (\`resnorm train\`, -march=native), after the first row`, String(d.threads ?? NR), at(c), prev(c),
      wall(c.wall_s), '–', steps(c), num(c.steps_per_s, 2), '–']);
    const b = d.browser_run;
    return (
      meta({ file: 'toval-playground*.json', machine: `${d.cpu}${cores(d.nproc)}; Chromium ${d.browser}`, flags: d.simd, date: d.when, commit: d.commit,
        loadText: `page ${load(d.load_before)} → ${load(d.load_after)}` + (c ? `; CLI ${load(c.load_before)} → ${load(c.load_after)}` : '') + ' (first row; the others in their rows)' }) +
      `${d.preset} (seed ${d.seed}) to validation loss ${d.target}; evaluations of ${d.eval_batches} batches (the preset evaluates every 250 steps); ` +
      `the status line read “${d.status_line ?? NR}”; page config = CLI config: ${d.config_matches_cli ?? NR}; in the first row ` +
      `${b.evals_done} evaluations took ${num(b.eval_s_total, 1)} s (median ${ms(b.eval_ms_median)} ms).\n\n` +
      table(['run', 'threads', 'first val ≤ target: step (val)', 'evaluation before', 'wall from Play', 'with one evaluation', 'in steps (engine timing)', 'steps/s', 'goal'], rows)
    );
  },
  'twin-cpu': () => {
    const d = read('twin_cpu_scaling.json');
    return (
      meta({ file: 'twin_cpu_scaling.json', machine: d.cpu, date: d.date, loadText: d.note }) +
      `${d.preset}, ${d.runs} runs of ${d.steps_per_run} steps (first dropped), gloo, one thread a process.\n\n` +
      table(['processes', 'tokens/s per run', 'median', 'vs 1 process'],
        [['1', d.tokens_per_s['1_process'].map((x) => num(x, 0)).join(', '), num(d.median_tokens_per_s['1_process'], 0), '1.00×'],
          ['2', d.tokens_per_s['2_process'].map((x) => num(x, 0)).join(', '), num(d.median_tokens_per_s['2_process'], 0), ratio(d.speedup_2_vs_1)]])
    );
  },
  'degradation': () => {
    const d = read('degradation.json');
    const depths = Object.keys(d.table.plain).map(Number).sort((a, b) => a - b);
    const cell = (x) => `${num(x.ours_median, 3)} (${num(x.pytorch_reference, 3)})`;
    return (
      meta({ file: 'degradation.json', machine: d.cpu + cores(d.cores), date: d.date, commit: d.commit,
        loadText: `${load(d.load_average_at_end)} (at the end)` }) +
      `${d.metric}; seeds ${d.seeds.join(', ')}; PyTorch 1.13's reference in brackets.\n\n` +
      table(['cnn', ...depths.map((k) => `${k} layers`)],
        ['plain', 'residual'].map((kind) => [kind, ...depths.map((k) => cell(d.table[kind][k]))])) +
      '\n\n' +
      Object.entries(d.checks).map(([k, v]) => `- ${k.replace(/_/g, ' ')}: ${v ? 'yes' : '**no**'}`).join('\n')
    );
  },
  'experiments': () => {
    const d = read('experiments_seeds.json');
    const c = d.cpu ?? {};
    const flags = [c.avx2 ? 'AVX2' : null, c.fma ? 'FMA' : null, c.avx512 ? `AVX-512 (${(c.avx512_flags ?? []).join(' ')})` : 'no AVX-512']
      .filter(Boolean).join(', ');
    const range = (xs, f) => {
      const v = xs.filter((x) => typeof x === 'number');
      return v.length ? `${f(Math.min(...v))}–${f(Math.max(...v))}` : '–';
    };
    const rows = [];
    for (const [exp, runs] of Object.entries(d.experiments))
      for (const [run, r] of Object.entries(runs)) {
        const s = Object.values(r.seeds);
        const set = Object.entries(r.set ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
        rows.push([exp, run, `${r.preset}${set ? ` (${set})` : ''}`, String(s.length),
          range(s.map((x) => x.val_loss), (x) => num(x, 3)), range(s.map((x) => x.accuracy), (x) => `${num(100 * x, 1)}%`)]);
      }
    return (
      meta({ file: 'experiments_seeds.json', machine: c.model + cores(c.cores), flags, date: d.date, commit: d.commit }) +
      `Seeds ${d.seeds.join(', ')}; ranges over them (min–max).\n\n` +
      table(['experiment', 'run', 'preset', 'seeds', 'validation loss', 'test accuracy'], rows)
    );
  },
  'log-import': () => {
    const d = read('log-import.json');
    const row = (name, m) => [name, `${num(m.longest_task_ms, 0)} ms`, String(m.long_tasks), String(m.frames), `${num(m.import_ms / 1000, 2)} s`];
    return (
      meta({ file: 'log-import.json', machine: d.cpu + cores(d.cores), date: d.date, loadText: `${load(d.loadavg_end)} (at the end)` }) +
      `${d.what}; ${num(d.steps, 0)} steps, ${d.mib} MiB, medians of ${d.rounds} rounds; "before": ${d.before}.\n\n` +
      table(['build', 'longest main-thread task', 'long tasks (> 50 ms)', 'frames drawn during the import', 'import time'],
        [row('before (parsed on the page\'s thread)', d.medians.before), row('this (parsed in a worker)', d.medians.this)])
    );
  },
  'web': () => {
    const d = read('web.json');
    const rows = Object.entries(d.scenarios).filter(([, s]) => s.runs !== undefined).map(([k, s]) => [k, String(s.runs),
      String(s.long_tasks_over_50ms), `${num(s.long_task_max_ms, 0)} ms`, num(s.chart_updates_per_s, 1), num(s.frames_per_s, 1),
      num(s.steps_per_s_each_run, 1)]);
    const fp = d.scenarios.blog_first_paint?.loads ?? [];
    const fcp = fp.map((l) => l.first_contentful_paint_ms).sort((a, b) => a - b);
    return (
      meta({ file: 'web.json', machine: d.machine?.model + cores(d.machine?.cpus), date: d.when,
        loadText: `${load(d.machine?.loadavg_before)} → ${load(d.machine?.loadavg_after)}` }) +
      `Headless Chromium ${d.browser}, ${d.seconds_measured} s per scenario.\n\n` +
      table(['scenario', 'runs', 'tasks > 50 ms', 'longest', 'chart updates/s', 'frames/s', 'steps/s each run'], rows) +
      (fcp.length ? `\n\nFirst contentful paint of the example post over ${fcp.length} loads: median ${num(fcp[Math.floor(fcp.length / 2)], 0)} ms` +
        ` (cold: ${num(fp.find((l) => l.cold)?.first_contentful_paint_ms, 0)} ms; goal < 1 s).` : '')
    );
  },
};

// ---- the doc --------------------------------------------------------------------------------------------
export function render(doc) {
  const seen = new Set();
  const out = doc.replace(/<!-- bench:([a-z0-9-]+) -->\n[\s\S]*?<!-- \/bench:\1 -->/g, (whole, name) => {
    if (!GEN[name]) throw new Error(`docs-bench: docs/benchmarks.md has a table marker "bench:${name}" with no generator in scripts/docs-bench.mjs`);
    if (seen.has(name)) throw new Error(`docs-bench: the table "bench:${name}" appears twice in docs/benchmarks.md`);
    seen.add(name);
    return `<!-- bench:${name} -->\n${GEN[name]()}\n<!-- /bench:${name} -->`;
  });
  const missing = Object.keys(GEN).filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`docs-bench: no markers for ${missing.map((n) => `bench:${n}`).join(', ')} in docs/benchmarks.md (every table must be placed)`);
  return out;
}

function main(argv) {
  let check = false, file = path.join(ROOT, 'docs', 'benchmarks.md');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') check = true;
    else if (argv[i] === '--out' && argv[i + 1]) file = path.resolve(argv[++i]);
    else throw new Error(`docs-bench: unknown argument "${argv[i]}" (usage: node scripts/docs-bench.mjs [--check] [--out FILE])`);
  }
  const doc = fs.readFileSync(file, 'utf8');
  const next = render(doc);
  if (!check) {
    if (next !== doc) fs.writeFileSync(file, next);
    console.log(`docs-bench: ${path.relative(ROOT, file)} ${next !== doc ? 'rewritten' : 'already up to date'} (${Object.keys(GEN).length} tables)`);
    return 0;
  }
  if (next === doc) {
    console.log(`docs-bench: all ${Object.keys(GEN).length} tables in ${path.relative(ROOT, file)} match bench/results/*.json`);
    return 0;
  }
  const a = doc.split('\n'), b = next.split('\n');
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  let name = '?';
  for (let j = i; j >= 0; j--) { const m = /<!-- bench:([a-z0-9-]+) -->/.exec(a[j] ?? ''); if (m) { name = m[1]; break; } }
  console.error(`docs-bench: table "bench:${name}" in ${path.relative(ROOT, file)} differs from bench/results at line ${i + 1}:\n` +
    `  doc:       ${a[i]}\n  generated: ${b[i]}\nrun \`npm run docs:bench\` and commit the result`);
  return 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exitCode = 2;
  }
}
