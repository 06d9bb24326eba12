// Hand-written TypeScript mirror of the embind module built from cpp/wasm/bindings.cpp (keep the two in
// step), and the browser loader of its ES-module glue. Node loads it through ./node.ts instead.
/// <reference types="emscripten" />

/** Evaluation as the wasm side returns it (the TS wrapper adds the step). */
export interface WasmEvalStats { trainLoss: number; valLoss: number; trainAccuracy: number; accuracy: number }

/** The embind class `Trainer`. Every method may throw an Error carrying the C++ message. */
export interface WasmTrainer {
  /**
   * n steps; their statistics packed in a Float64Array view onto wasm memory, valid only until the next
   * call into the module (layout in cpp/wasm/bindings.cpp; unpacked by ./steps.mjs).
   */
  step(n: number): Float64Array;
  evaluate(): WasmEvalStats;
  stepsDone(): number;
  numParams(): number;
  bytes(): number;
  configJson(): string;
  vocab(): string;
  dataset(): { xTrain: Float32Array; yTrain: Int32Array; xTest: Float32Array; yTest: Int32Array };
  /** Takes a whole config (JSON) and applies its optim section. */
  setOptim(configJson: string): void;
  grid(res: number, lo: number, hi: number): Float32Array;
  logits(text: string): Float32Array;
  attention(text: string, layer: number): Float32Array;
  sample(prompt: string, tokens: number, temperature: number, topK: number, seed: number): string;
  save(): Uint8Array;
  load(bytes: Uint8Array): void;
  /** cnn: the held-out digits, x [n, dim] (normalised), y [n] labels 0..9. */
  heldOut(): { x: Float32Array; y: Int32Array; dim: number };
  /** cnn: class probabilities [n, 10] of n images [n, dim], BatchNorm in eval mode. */
  imageProbs(images: Float32Array): Float32Array;
  /** cnn: the feature maps after block (0 .. 3*depth-1) for one image [dim], eval mode. */
  featureMaps(image: Float32Array, block: number): { channels: number; h: number; data: Float32Array };
  /** embind: frees the C++ object. */
  delete(): void;
  isDeleted(): boolean;
}

export interface ResnormModule {
  /** text: the gpt corpus, or for cnn the digits asset's bytes (embind takes a Uint8Array for std::string). */
  Trainer: {
    new (configJson: string, text: string | Uint8Array, vocab: string): WasmTrainer;
    /** gpt, inference only: the checkpoint's vocabulary, no text, one sequence of activations (not capped by the training batch). */
    inspector(configJson: string, vocab: string): WasmTrainer;
  };
  /** The divergence message of the i-th step of the last step(n) call ('' if it did not diverge). */
  stepMessage(i: number): string;
  presetNames(): string[];
  presetJson(name: string): string;
  /** Validates a config and returns it with the defaults filled in (what `resnorm show` prints). */
  normalizeConfig(json: string): string;
  checkpointInfo(bytes: Uint8Array): { config: string; vocab: string; step: number };
  /** Bytes a Trainer for this config (and, for gpt, this text) takes: what its bytes() will report. */
  estimateBytes(configJson: string, text: string): number;
  /** Bytes of Trainer.inspector(configJson, a vocabulary of vocabSize characters). */
  estimateInspectBytes(configJson: string, vocabSize: number): number;
  /** Sets the core's op pool (1..8 threads; results are the same bits for any count). Throws on the
   *  single-thread build for n > 1; the pthreads build (resnorm-mt) takes up to its poolSize + 1. */
  setThreads(n: number): void;
  threads(): number;
  /** Test hook: executes a wasm trap. */
  debugTrap(): void;
}

/** The glue's default export (-sMODULARIZE -sEXPORT_ES6 -sEXPORT_NAME=createResnorm). */
export type ResnormFactory = (overrides?: Partial<EmscriptenModule>) => Promise<ResnormModule>;

/** The glue module that sits next to a .wasm: resnorm.wasm -> resnorm.mjs. */
export function glueUrlFor(wasmUrl: string): string {
  return wasmUrl.replace(/\.wasm(?=$|[?#])/, '.mjs');
}

/** The pthreads variant published next to the single-thread engine: resnorm.wasm -> resnorm-mt.wasm. */
export function threadedUrlFor(wasmUrl: string): string {
  return wasmUrl.replace(/resnorm\.wasm(?=$|[?#])/, 'resnorm-mt.wasm');
}

/** The core's cap on its op pool (kMaxThreads in cpp/core/parallel.h). */
export const MAX_THREADS = 8;

/**
 * Browser / worker loader: imports the glue from its URL (lazily, at run time) and points it at the .wasm.
 * poolSize (pthreads build only): Web Workers the glue pre-spawns for the core's pool (threads - 1).
 */
export async function loadResnormFromUrl(wasmUrl: string, poolSize = 0): Promise<ResnormModule> {
  const glue = (await import(/* @vite-ignore */ glueUrlFor(wasmUrl))) as { default: ResnormFactory };
  const overrides = {
    // the .wasm where it was asked for; anything else (the pthreads build's worker.js) next to the glue
    locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? wasmUrl : prefix + path),
    poolSize,
  };
  return glue.default(overrides as Partial<EmscriptenModule>);
}

/**
 * Threads an engine may use here: `requested` (default navigator.hardwareConcurrency) capped at MAX_THREADS,
 * and 1 where the page is not cross-origin isolated: without COOP/COEP there is no SharedArrayBuffer, so
 * no pthreads (a blog that embeds the playground usually cannot send those headers).
 */
export function engineThreads(requested?: number): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  if (g.crossOriginIsolated !== true || typeof SharedArrayBuffer === 'undefined') return 1;
  const want = requested ?? g.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(MAX_THREADS, Math.floor(want)));
}

/**
 * The engine for this page: the pthreads build with engineThreads(requested) threads where that is more
 * than 1, else (or if the pthreads build fails to load) the single-thread build, without an error.
 * Both give the same bits for the same link (the core's pool never splits a sum).
 */
export async function loadEngine(wasmUrl: string, requested?: number): Promise<ResnormModule> {
  const threads = engineThreads(requested);
  if (threads > 1) {
    try {
      const mod = await loadResnormFromUrl(threadedUrlFor(wasmUrl), threads - 1);
      mod.setThreads(threads);
      return mod;
    } catch {
      // no resnorm-mt next to resnorm.wasm, or a browser that refuses it: one thread still works
    }
  }
  return loadResnormFromUrl(wasmUrl);
}
