// The contract between the page and the training engine (a wasm Trainer inside a Web Worker).
// The page imports only these types and EngineClient; it never touches wasm directly.
// Field names mirror the C++ StepStats / EvalStats (cpp/core/trainer.h) in camelCase.

/** The project's JSON config (see cpp/core/config.h); partial: missing keys take defaults. */
export interface ResnormConfig {
  model?: {
    kind?: 'mlp' | 'gpt' | 'cnn'; depth?: number; width?: number; heads?: number; context?: number;
    activation?: 'relu' | 'tanh' | 'gelu'; residual?: 'none' | 'identity' | 'rezero' | 'deepnorm' | 'doubled';
    norm?: 'none' | 'layernorm' | 'rmsnorm' | 'batchnorm'; placement?: 'pre' | 'post' | 'sandwich'; eps?: number;
  };
  data?: { name?: string; noise?: number; samples?: number; test_fraction?: number; resolution?: number };
  optim?: {
    name?: 'adamw' | 'sgd'; lr?: number; beta1?: number; beta2?: number; eps?: number; weight_decay?: number;
    momentum?: number; warmup?: number; schedule?: 'constant' | 'cosine'; min_lr?: number; clip?: number;
    batch?: number; steps?: number;
  };
  eval?: { every?: number; batches?: number };
  seed?: number;
}

export interface StepStats {
  step: number; loss: number; lr: number; gradNorm: number; ms: number;
  diverged: boolean; divergence: string;
  blockGradNorm: Float32Array;  // [depth]
  blockActRms: Float32Array;    // [depth]
  updateRatio: Float32Array;    // [depth]
  attnEntropy: Float32Array;    // gpt: [depth*heads], else empty
}

/** cnn: the feature maps after one block for one image, [channels, h, h] channel-major. */
export interface FeatureMaps { channels: number; h: number; data: Float32Array }

export interface EvalStats { step: number; trainLoss: number; valLoss: number; trainAccuracy: number; accuracy: number }

export interface ModelInfo {
  /** depth: blocks (cnn: 3 stages x model.depth), one row of the per-block diagnostics each. */
  kind: 'mlp' | 'gpt' | 'cnn'; params: number; depth: number; heads: number; context: number;
  /** Threads the engine's core started with: > 1 only with the pthreads build on a cross-origin isolated page.
   *  The most EngineClient.setThreads can set later (the pthreads build's pool is fixed at load). */
  threads: number;
  vocab: string;            // gpt: the characters; mlp: ''
  config: ResnormConfig;    // the full validated config, defaults filled in
  /** cnn: the held-out digits, x [n, side*side] normalised, y [n] labels. */
  digits?: { x: Float32Array; y: Int32Array; side: number };
  points?: { xTrain: Float32Array; yTrain: Int32Array; xTest: Float32Array; yTest: Int32Array };  // mlp data
  /** gpt opened for inspection only (EngineOptions.inspect): it samples and shows attention, and does not train. */
  inspectOnly?: true;
}

/** Events streamed from a running engine. Stats arrive batched, at most ~20 messages a second. */
export interface EngineEvents {
  stats: (batch: StepStats[]) => void;
  eval: (e: EvalStats) => void;
  /** Training stopped: 'diverged' (NaN/Inf; message says where), 'done' (reached optim.steps), 'paused'. */
  stopped: (reason: 'diverged' | 'done' | 'paused', message: string) => void;
  /** The worker crashed (wasm trap, out of memory); call restart() to get a fresh engine. */
  crashed: (message: string) => void;
}
