// The message protocol between EngineClient (page) and the engine worker: requests carry an id and get
// exactly one reply; events (step statistics, evaluations, stops, crashes) flow from the worker unasked.
import type { EvalStats, FeatureMaps, ModelInfo, ResnormConfig, StepStats } from './types';

export type OptimConfig = NonNullable<ResnormConfig['optim']>;

/** Requests, page -> worker. */
export type Request =
  /** The bytes a create with the same fields would take (checked against the page's budget first). */
  | { id: number; type: 'estimate'; config: ResnormConfig; text?: string; dataUrl?: string; digitsUrl?: string; wasmUrl?: string; threads?: number; inspect?: string }
  /** inspect: a gpt checkpoint's vocabulary; the model is built for inspection only (no text, no training). */
  | { id: number; type: 'create'; config: ResnormConfig; text?: string; dataUrl?: string; digitsUrl?: string; wasmUrl?: string; threads?: number; inspect?: string }
  | { id: number; type: 'run'; evalEvery?: number }
  | { id: number; type: 'pause' }
  | { id: number; type: 'step'; n: number }
  | { id: number; type: 'setOptim'; optim: OptimConfig }
  | { id: number; type: 'evaluate' }
  | { id: number; type: 'grid'; res: number; lo: number; hi: number }
  | { id: number; type: 'sample'; prompt: string; tokens: number; temperature: number; topK: number; seed: number }
  | { id: number; type: 'attention'; text: string; layer: number }
  | { id: number; type: 'probs'; images: Float32Array }
  | { id: number; type: 'features'; image: Float32Array; block: number }
  | { id: number; type: 'save' }
  | { id: number; type: 'load'; bytes: Uint8Array }
  /** The core's thread count from now on (1 .. the count the engine loaded with; higher is lowered to it):
   *  the session's split of the machine across compare mode's runs (./threadSplit.ts). The same bits for any count. */
  | { id: number; type: 'threads'; n: number }
  | { id: number; type: 'debugTrap' };

export type RequestType = Request['type'];

/** What each request resolves to. */
export interface ResultOf {
  estimate: number;
  create: ModelInfo;
  run: null;
  pause: null;
  step: StepStats[];
  setOptim: ResnormConfig;
  evaluate: EvalStats;
  grid: Float32Array;
  sample: string;
  attention: { heads: number; T: number; data: Float32Array };
  probs: Float32Array;
  features: FeatureMaps;
  save: Uint8Array;
  load: null;
  /** The count in effect after the request. */
  threads: number;
  debugTrap: null;
}

/** Messages, worker -> page. */
export type WorkerMessage =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  /** One message per run slice (>= SLICE_MS of training): every step's stats and any evaluations. */
  | { type: 'tick'; stats: StepStats[]; evals: EvalStats[] }
  | { type: 'stopped'; reason: 'diverged' | 'done' | 'paused'; message: string }
  | { type: 'crashed'; message: string };

/** Minimum training time per streamed message: caps the stream at ~1000 / SLICE_MS messages a second. */
export const SLICE_MS = 50;
