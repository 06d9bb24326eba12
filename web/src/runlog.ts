// A training log to plot beside the browser's runs (issue 12): the JSON Lines that `resnorm train
// --log` (cpp/tools/resnorm.cpp) and the PyTorch twin (python/resnorm_torch/train.py) write, one
// object per step: step, loss, lr, grad_norm, block_grad_norm, block_act_rms, update_ratio, ms
// (attn_entropy for gpt); evaluation steps add train_loss, val_loss and, for mlp, accuracy. Both write
// null for a value that is not finite. The log becomes a read-only RunMetrics, so the charts draw it
// as they draw a run. It never goes into the link (a link reproduces browser runs only).
import { RunMetrics } from './metrics';

/**
 * The biggest log the page reads: a 12-layer, 12-head gpt writes ~2.7 KB a step (its 144 attention
 * entropies), so ~25,000 of its steps; an mlp's steps are ~0.4 KB. Read on the main thread: a
 * 78 MB log parsed in ~2.2 s in Node 20 on this project's 2-core EPYC under a load average of 9.
 */
export const MAX_LOG_BYTES = 64 * 1024 * 1024;
/** The most logs shown at once beside the runs. */
export const MAX_LOGS = 4;

export interface RunLog {
  /** The file's name: the legend's label. */
  name: string;
  metrics: RunMetrics;
  /** Which per-block series the log has (a log without them shows in the loss chart only). */
  blocks: { grad: boolean; rms: boolean; update: boolean };
}

export type LogProblem =
  | { kind: 'json'; line: number }                     // not a JSON object
  | { kind: 'step'; line: number; value: string }      // no integer step >= 1
  | { kind: 'order'; line: number; step: number; prev: number }  // not the step after the line before's
  | { kind: 'field'; line: number; key: string }       // a known key with a value of the wrong type
  | { kind: 'depth'; line: number; key: string; n: number; depth: number }  // per-block lists of another length
  | { kind: 'empty' }                                  // no step at all
  | { kind: 'size'; bytes: number };                   // over MAX_LOG_BYTES

const BLOCK_KEYS = { block_grad_norm: 'grad', block_act_rms: 'rms', update_ratio: 'update' } as const;
type BlockKey = keyof typeof BLOCK_KEYS;

/** A number of the log: a JSON number, or null for a value that was not finite (NaN here). */
function value(v: unknown): number | undefined {
  if (v === null) return NaN;
  return typeof v === 'number' ? v : undefined;
}

/**
 * Reads a log's text. Blank lines are skipped; every other line must be one JSON object with an
 * integer `step`, each the one after the line before's (a log holds one run; a resumed run may start
 * past step 1). The first bad line is named (1-based, as an editor counts).
 */
export function parseRunLog(text: string, name: string): { log: RunLog } | { problem: LogProblem } {
  let metrics: RunMetrics | null = null;
  let depth = -1;
  const has = { grad: false, rms: false, update: false };
  let prev = 0;
  let line = 0;
  for (let pos = 0; pos < text.length;) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const raw = text.slice(pos, nl).trim();
    pos = nl + 1;
    line++;
    if (!raw) continue;
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch {
      return { problem: { kind: 'json', line } };
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return { problem: { kind: 'json', line } };
    const r = o as Record<string, unknown>;
    const step = r.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 1) return { problem: { kind: 'step', line, value: JSON.stringify(step) ?? 'none' } };
    if (prev && step !== prev + 1) return { problem: { kind: 'order', line, step, prev } };
    const num = (key: string, need: boolean): number | null | LogProblem => {
      if (!(key in r)) return need ? { kind: 'field', line, key } : null;
      const v = value(r[key]);
      return v === undefined ? { kind: 'field', line, key } : v;
    };
    const loss = num('loss', true);
    if (typeof loss === 'object') return { problem: loss! };
    const blocks: Partial<Record<BlockKey, number[]>> = {};
    for (const key of Object.keys(BLOCK_KEYS) as BlockKey[]) {
      if (!(key in r)) continue;
      const a = r[key];
      if (!Array.isArray(a)) return { problem: { kind: 'field', line, key } };
      const vs = a.map(value);
      if (vs.some((v) => v === undefined)) return { problem: { kind: 'field', line, key } };
      if (depth < 0) depth = metrics ? 0 : vs.length;  // lists that start after the first line: refused below
      if (vs.length !== depth) return { problem: { kind: 'depth', line, key, n: vs.length, depth } };
      blocks[key] = vs as number[];
      has[BLOCK_KEYS[key]] = true;
    }
    const extra: Record<string, number | null> = {};
    for (const key of ['lr', 'grad_norm', 'ms', 'train_loss', 'val_loss', 'accuracy']) {
      const v = num(key, false);
      if (v !== null && typeof v === 'object') return { problem: v };
      extra[key] = v;
    }
    if (!metrics) {
      metrics = new RunMetrics(Math.max(0, depth));
      metrics.offset = step - 1;
    }
    const nan = (v: number | null) => (v === null ? NaN : v);
    const d = metrics.depth;
    const fill = (v: number[] | undefined) => (v ? Float32Array.from(v) : new Float32Array(d).fill(NaN));
    metrics.add([{
      step, loss: loss as number, lr: nan(extra.lr), gradNorm: nan(extra.grad_norm), ms: nan(extra.ms),
      blockGradNorm: fill(blocks.block_grad_norm), blockActRms: fill(blocks.block_act_rms), updateRatio: fill(blocks.update_ratio),
      attnEntropy: new Float32Array(0), diverged: r.diverged === true, divergence: typeof r.divergence === 'string' ? r.divergence : '',
    }]);
    if (extra.val_loss !== null) {
      metrics.addEval({ step, trainLoss: nan(extra.train_loss), valLoss: extra.val_loss, trainAccuracy: -1, accuracy: extra.accuracy ?? -1 });
    }
    prev = step;
  }
  if (!metrics) return { problem: { kind: 'empty' } };
  return { log: { name, metrics, blocks: has } };
}
