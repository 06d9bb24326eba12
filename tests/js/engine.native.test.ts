// wasm against the native CLI (build/native/resnorm, built by `npm run build:native`): the same named errors
// for bad configs, and the same losses over 50 training steps for the same config and seed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTrainer, sharedModule } from '../../web/src/engine/node';
import type { ResnormConfig } from '../../web/src/engine/types';
import type { ResnormModule } from '../../web/src/engine/wasm';
import { requireNative } from './engine-helpers';

let cli: string;
let mod: ResnormModule;
let dir: string;
beforeAll(async () => {
  cli = requireNative();
  mod = await sharedModule();
  dir = mkdtempSync(join(tmpdir(), 'resnorm-parity-'));
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/** What `resnorm show --config FILE` says about a config: the message after "resnorm: FILE: ". */
function nativeRefusal(json: string): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, json);
  const r = spawnSync(cli, ['show', '--config', file], { encoding: 'utf8' });
  expect(r.status, `native accepted ${json}`).toBe(1);
  const prefix = `resnorm: ${file}: `;
  const line = r.stderr.trim();
  expect(line.startsWith(prefix), line).toBe(true);
  return line.slice(prefix.length);
}

function wasmRefusal(json: string): string {
  try { mod.normalizeConfig(json); } catch (e) { return (e as Error).message; }
  throw new Error(`wasm accepted ${json}`);
}

const badConfigs = [
  '{"model":{"depth":0}}',
  '{"model":{"depth":2.5}}',
  '{"model":{"kind":"transformer"}}',
  '{"model":{"kind":"gpt","width":64,"heads":5}}',
  '{"model":{"residual":"skip"}}',
  '{"model":{"norm":"groupnorm"}}',
  '{"model":{"kind":"gpt","norm":"batchnorm"}}',
  '{"model":{"kind":"cnn","residual":"deepnorm"}}',
  '{"model":{"kind":"cnn","placement":"sandwich"}}',
  '{"model":{"kind":"cnn"},"data":{"resolution":21}}',
  '{"model":{"kind":"cnn"},"data":{"name":"spiral"}}',
  '{"model":{"placement":7}}',
  '{"model":{"eps":-1}}',
  '{"data":{"name":"mnist"}}',
  '{"data":{"noise":-1}}',
  '{"optim":{"lr":"fast"}}',
  '{"optim":{"name":"lion"}}',
  '{"optim":{"schedule":"cosine","lr":0.001,"min_lr":0.01}}',
  '{"optim":{"batch":0}}',
  '{"eval":{"every":-1}}',
  '{"seed":-5}',
  '{"unknown":1}',
  '{"model":{"depht":3}}',
  '{"model":[]}',
  '[]',
  '{"model": {"depth": 4,}}',
  '{"model": {"depth": 4}',
];

describe('bad configs: the same named errors as native', () => {
  it.each(badConfigs)('%s', async (json) => {
    const native = nativeRefusal(json);
    expect(wasmRefusal(json)).toBe(native);
    // and Trainer creation (what EngineClient.create does) refuses with the very same message
    let parsed: ResnormConfig | undefined;
    try { parsed = JSON.parse(json) as ResnormConfig; } catch { return; }  // not JSON at all: only the string path applies
    await expect(createTrainer(parsed, { text: 'ab' })).rejects.toThrowError(native);
  });
});

/** Losses per step of a native build for a preset (its --log JSONL, numbers written to round-trip exactly). */
function nativeLosses(bin: string, preset: string, steps: number): { loss: number; grad_norm: number }[] {
  const log = join(dir, `${preset}-${steps}.jsonl`);
  execFileSync(bin, ['train', '--preset', preset, '--steps', String(steps), '--log', log, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

async function wasmLosses(preset: string, steps: number): Promise<number[]> {
  const config = JSON.parse(mod.presetJson(preset)) as ResnormConfig;
  config.optim = { ...config.optim, steps };  // as the CLI's --steps (it sets the cosine horizon too)
  const t = await createTrainer(config);
  const out = t.step(steps).map((s) => s.loss);
  t.dispose();
  return out;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

// Tier 1, bit for bit: wasm against build/native-sse. Both run Eigen's 128-bit SSE code (wasm through
// Emscripten's SSE-to-SIMD mapping) with 16 vector registers, so the same GEMM kernels and blocking;
// neither contracts a*b+c into an FMA (wasm has none, native-sse has -ffp-contract=off); the only
// vectorised transcendental that differed (sqrt from the CPU's rsqrt estimate) is not used
// (optimizer.cpp). Same operations in the same order give the same bits, on any x86-64 CPU, AVX2 or
// AVX-512, because neither build uses more than SSE4.1. Every step is compared, not only the first.
const exact: [string, number][] = [
  ['mlp-spiral', 50],
  ['mlp-plain-deep', 50],
  ['mlp-residual-deep', 50],
  ['gpt-tiny', 10],
  ['cnn-digits', 5],  // the convolutions: im2col products, and a weight gradient summed over 12,544 positions
];

describe('tier 1: wasm and native-sse give the same losses to the last bit', () => {
  it.each(exact)('%s: %s steps', async (preset, steps) => {
    const native = nativeLosses(requireNative('native-sse'), preset, steps).map((r) => r.loss);
    const wasm = await wasmLosses(preset, steps);
    expect(wasm).toHaveLength(native.length);
    const first = wasm.findIndex((w, i) => w !== native[i]);
    const show = (i: number) => `step ${i + 1}: wasm ${wasm[i].toPrecision(17)}, native-sse ${native[i].toPrecision(17)}`;
    expect(first, first < 0 ? '' : show(first)).toBe(-1);
  });
});

// Tier 2, a float32-derived tolerance against build/native (-march=native): that build contracts
// a*b+c into FMAs and, on AVX2 or AVX-512 CPUs, uses 256- or 512-bit packets and 16 or 32 registers, so
// GEMM blocking and reduction orders differ; each result differs from the exact one by rounding, and
// the two builds' roundings are unrelated. Bound on the first step (same parameters, same batch): a
// dot product of length K accumulates rounding of about sqrt(K) * u (u = 2^-24, Higham's probabilistic
// bound, "Accuracy and Stability of Numerical Algorithms" ch. 3), and a forward pass chains D such
// products; the loss (a mean of log-softmax values) carries that relative error, so
//     |loss_native - loss_wasm| / loss  <=  8 * D * sqrt(K) * u
// with a factor 8 for the two independent roundings and the softmax/log conditioning. For mlp-spiral
// (D = 6, K = 32) that is 1.6e-5; measured 1.6e-8 on AVX-512 and below it on AVX2 (this is the figure
// that, as a 1e-8 bar, failed on AVX-512). Later steps: AdamW's first update moves every weight by ~lr
// whatever the gradient's size, so tiny differences grow; stable presets are held to 1e-4 over 50 steps,
// and the chaotic one (mlp-residual-deep spikes near step 22 and any difference grows to O(1): its losses
// at step 50 differ by ~16%) is compared by its outcome: trained for its 600 steps, both builds reach
// the test accuracy the experiment promises (>= 0.9, README). Past step 50 the two runs are as unrelated
// as two seeds, so they agree within the seeds' own spread: 0.900-0.955 over five seeds on this project's
// machine (bench/results/experiments_seeds.json), a bar of 8 points. (It was 4 points until a measured
// 0.92 vs 0.97, two valid runs, after the wasm build's GEMM changed in issue 13.)
const tiers: { preset: string; D: number; K: number; steps: number; chaotic: boolean }[] = [
  { preset: 'mlp-spiral', D: 4 + 2, K: 32, steps: 50, chaotic: false },
  { preset: 'mlp-plain-deep', D: 32 + 2, K: 64, steps: 50, chaotic: false },
  { preset: 'gpt-tiny', D: 4 * 5 + 1, K: 4 * 128, steps: 50, chaotic: false },
  { preset: 'mlp-residual-deep', D: 32 + 2, K: 64, steps: 50, chaotic: true },
];

describe('tier 2: wasm against native -march=native within a float32-derived tolerance', () => {
  it.each(tiers)('$preset', async ({ preset, D, K, steps, chaotic }) => {
    const native = nativeLosses(requireNative('native'), preset, steps).map((r) => r.loss);
    const wasm = await wasmLosses(preset, steps);
    expect(wasm).toHaveLength(native.length);
    const bound = 8 * D * Math.sqrt(K) * 2 ** -24;
    const diffs = wasm.map((w, i) => rel(w, native[i]));
    console.log(`tier 2 ${preset}: step 1 relative difference ${diffs[0].toExponential(2)} (bound ${bound.toExponential(2)}), ` +
      `worst over ${steps} steps ${Math.max(...diffs).toExponential(2)}`);
    expect(diffs[0]).toBeLessThan(bound);
    if (!chaotic) {
      expect(Math.max(...diffs)).toBeLessThan(1e-4);
      return;
    }
    const config = JSON.parse(mod.presetJson(preset)) as ResnormConfig;
    const full = config.optim?.steps ?? 600;
    const log = nativeLosses(requireNative('native'), preset, full) as unknown as { accuracy?: number }[];
    const nativeAcc = log[log.length - 1].accuracy ?? NaN;
    const t = await createTrainer(config);
    t.step(full);
    const wasmAcc = t.evaluate().accuracy;
    t.dispose();
    console.log(`tier 2 ${preset}: test accuracy after ${full} steps: native ${nativeAcc}, wasm ${wasmAcc}`);
    expect(nativeAcc).toBeGreaterThanOrEqual(0.9);
    expect(wasmAcc).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(nativeAcc - wasmAcc)).toBeLessThanOrEqual(0.08);
  }, 120_000);
});
