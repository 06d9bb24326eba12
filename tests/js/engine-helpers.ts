// Shared helpers of the engine tests: small configs, the native CLI's location, and wasm loading in Node.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { ResnormConfig } from '../../web/src/engine/types';

export const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const nativeCli = resolve(repo, 'build/native/resnorm');
/** The SSE4.1 build without FMA contraction: the same arithmetic as the wasm build (CMakePresets.json). */
export const nativeSseCli = resolve(repo, 'build/native-sse/resnorm');

export function requireNative(which: 'native' | 'native-sse' = 'native'): string {
  const cli = which === 'native' ? nativeCli : nativeSseCli;
  if (!existsSync(cli)) {
    throw new Error(`${cli} is missing: build it first (cmake --preset ${which} && cmake --build --preset ${which})`);
  }
  return cli;
}

/** A gpt small enough to train a few steps in a test. */
export const tinyGpt: ResnormConfig = {
  model: { kind: 'gpt', depth: 2, width: 32, heads: 2, context: 16 },
  data: { name: 'tinyshakespeare' },
  optim: { batch: 4, steps: 100, warmup: 0, lr: 0.003 },
  eval: { every: 0, batches: 2 },
  seed: 7,
};

export const spiral = (over: Partial<NonNullable<ResnormConfig['optim']>> = {}, seed = 1337): ResnormConfig => ({
  model: { kind: 'mlp', depth: 4, width: 32, residual: 'identity', norm: 'layernorm', placement: 'pre' },
  data: { name: 'spiral', noise: 0.1, samples: 1000 },
  optim: { lr: 0.01, warmup: 20, batch: 32, steps: 1000, ...over },
  seed,
});
