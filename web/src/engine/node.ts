// Node entry of the engine (tests, benchmarks, scripts): loads the same ES-module glue + .wasm the browser
// uses, from web/public/wasm/ by default, and creates Trainers directly, without a worker.
import { readFile } from 'node:fs/promises';

import { defaultDigitsPath, defaultTextPath, defaultWasmPath, loadWasmModule } from './node-loader.mjs';
import { Trainer } from './trainer';
import type { ResnormConfig } from './types';
import type { ResnormModule } from './wasm';

export { defaultDigitsPath, defaultTextPath, defaultWasmPath };

/** Loads resnorm.mjs + resnorm.wasm (web/public/wasm/ by default) as a fresh module instance. */
export function loadResnormNode(wasmPath: string = defaultWasmPath): Promise<ResnormModule> {
  return loadWasmModule<ResnormModule>(wasmPath);
}

let shared: Promise<ResnormModule> | undefined;
/** One module per process is plenty: Trainers are independent objects inside it. */
export function sharedModule(): Promise<ResnormModule> {
  shared ??= loadResnormNode();
  return shared;
}

/** A Trainer in Node; gpt configs read web/public/data/tinyshakespeare.txt, cnn configs web/public/data/digits.bin,
 *  unless `text` is given. */
export async function createTrainer(config: ResnormConfig, opts: { text?: string | Uint8Array; vocab?: string } = {}): Promise<Trainer> {
  const mod = await sharedModule();
  let text = opts.text;
  if (text === undefined && config.model?.kind === 'gpt' && !opts.vocab) text = await readFile(defaultTextPath, 'utf8');
  if (text === undefined && config.model?.kind === 'cnn') text = new Uint8Array(await readFile(defaultDigitsPath));
  return Trainer.create(mod, config, { text, vocab: opts.vocab });
}

export { Trainer };
