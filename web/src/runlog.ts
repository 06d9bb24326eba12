// A training log to plot beside the browser's runs (issue 12): the JSON Lines that `resnorm train
// --log` (cpp/tools/resnorm.cpp) and the PyTorch twin (python/resnorm_torch/train.py) write, one
// object per step: step, loss, lr, grad_norm, block_grad_norm, block_act_rms, update_ratio, ms
// (attn_entropy for gpt); evaluation steps add train_loss, val_loss and, for mlp, accuracy. Both write
// null for a value that is not finite. The log becomes a read-only RunMetrics, so the charts draw it
// as they draw a run. It never goes into the link (a link reproduces browser runs only).
import { BlockSeries, RunMetrics, Series } from './metrics';

/**
 * The biggest log the page reads: a 12-layer, 12-head gpt writes ~2.7 KB a step (its 144 attention
 * entropies), so ~25,000 of its steps; an mlp's steps are ~0.4 KB. Read in a worker
 * (runlogWorker.ts), streamed: a 78 MB log parsed in ~2.2 s in Node 20 on this project's 2-core EPYC
 * under a load average of 9, which on the main thread was one 2 s task.
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
 * Reads a log line by line, so a big file can be fed in chunks as it streams in (runlogWorker.ts)
 * and never held whole. Blank lines are skipped; every other line must be one JSON object with an
 * integer `step`, each the one after the line before's (a log holds one run; a resumed run may start
 * past step 1). The first bad line is named (1-based, as an editor counts); after it the reader
 * takes nothing more.
 */
export class RunLogReader {
  private metrics: RunMetrics | null = null;
  private depth = -1;
  private readonly has = { grad: false, rms: false, update: false };
  private prev = 0;
  private lineNo = 0;
  private rest = '';
  problem: LogProblem | null = null;

  constructor(readonly name: string) {}

  /** The next piece of the text (any length; a line may span pieces). False once a line was bad. */
  push(chunk: string): boolean {
    let pos = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0 && !this.problem; nl = chunk.indexOf('\n', pos)) {
      const piece = chunk.slice(pos, nl);
      this.line(this.rest ? this.rest + piece : piece);
      this.rest = '';
      pos = nl + 1;
    }
    if (!this.problem) this.rest += chunk.slice(pos);
    return !this.problem;
  }

  /** The end of the text: the log, or what is wrong with it. */
  finish(): { log: RunLog } | { problem: LogProblem } {
    if (!this.problem && this.rest) { this.line(this.rest); this.rest = ''; }
    if (this.problem) return { problem: this.problem };
    if (!this.metrics) return { problem: { kind: 'empty' } };
    return { log: { name: this.name, metrics: this.metrics, blocks: { ...this.has } } };
  }

  private line(text: string): void {
    const line = ++this.lineNo;
    const raw = text.trim();
    if (!raw) return;
    const fail = (p: LogProblem) => { this.problem = p; };
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch {
      return fail({ kind: 'json', line });
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return fail({ kind: 'json', line });
    const r = o as Record<string, unknown>;
    const step = r.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 1) return fail({ kind: 'step', line, value: JSON.stringify(step) ?? 'none' });
    if (this.prev && step !== this.prev + 1) return fail({ kind: 'order', line, step, prev: this.prev });
    const num = (key: string, need: boolean): number | null | LogProblem => {
      if (!(key in r)) return need ? { kind: 'field', line, key } : null;
      const v = value(r[key]);
      return v === undefined ? { kind: 'field', line, key } : v;
    };
    const loss = num('loss', true);
    if (typeof loss === 'object') return fail(loss!);
    const blocks: Partial<Record<BlockKey, number[]>> = {};
    for (const key of Object.keys(BLOCK_KEYS) as BlockKey[]) {
      if (!(key in r)) continue;
      const a = r[key];
      if (!Array.isArray(a)) return fail({ kind: 'field', line, key });
      const vs = a.map(value);
      if (vs.some((v) => v === undefined)) return fail({ kind: 'field', line, key });
      if (this.depth < 0) this.depth = this.metrics ? 0 : vs.length;  // lists that start after the first line: refused below
      if (vs.length !== this.depth) return fail({ kind: 'depth', line, key, n: vs.length, depth: this.depth });
      blocks[key] = vs as number[];
      this.has[BLOCK_KEYS[key]] = true;
    }
    const extra: Record<string, number | null> = {};
    for (const key of ['lr', 'grad_norm', 'ms', 'train_loss', 'val_loss', 'accuracy']) {
      const v = num(key, false);
      if (v !== null && typeof v === 'object') return fail(v);
      extra[key] = v;
    }
    if (!this.metrics) {
      this.metrics = new RunMetrics(Math.max(0, this.depth));
      this.metrics.offset = step - 1;
    }
    const metrics = this.metrics;
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
    this.prev = step;
  }
}

/** Reads a log's whole text (see RunLogReader). */
export function parseRunLog(text: string, name: string): { log: RunLog } | { problem: LogProblem } {
  const reader = new RunLogReader(name);
  reader.push(text);
  return reader.finish();
}

/** What readLogStream reports as it goes: bytes read of the file's size. */
export type LogProgress = (bytes: number, total: number) => void;

/**
 * Reads a log from a stream of bytes (File.stream()) in the pieces it arrives in: the memory held is
 * one piece, the line that spans two, and the metrics (whose per-block series are capped). UTF-8, as
 * both writers write. Over `max` bytes: refused, by the size given and again by the bytes read.
 */
export async function readLogStream(stream: ReadableStream<Uint8Array>, total: number, name: string,
  progress?: LogProgress, max = MAX_LOG_BYTES): Promise<{ log: RunLog } | { problem: LogProblem }> {
  if (total > max) return { problem: { kind: 'size', bytes: total } };
  const reader = new RunLogReader(name);
  const decoder = new TextDecoder('utf-8');
  const it = stream.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value: chunk } = await it.read();
      if (done) break;
      bytes += chunk.byteLength;
      if (bytes > max) return { problem: { kind: 'size', bytes } };
      if (!reader.push(decoder.decode(chunk, { stream: true }))) break;
      progress?.(bytes, total);
    }
    reader.push(decoder.decode());
  } finally {
    void it.cancel().catch(() => undefined);
  }
  return reader.finish();
}

/**
 * A log as a worker posts it: structured clone keeps the fields and drops the classes, so the page
 * puts them back (reviveLog) around the same arrays.
 */
export function reviveLog(plain: RunLog): RunLog {
  const p = plain.metrics;
  const m = new RunMetrics(p.depth, p.heads, p.gradBlocks.cap);
  const series = (s: Series) => Object.assign(new Series(), s);
  const blocks = (s: BlockSeries) => Object.assign(new BlockSeries(s.depth, s.cap), s);
  Object.assign(m, p, {
    step: series(p.step), loss: series(p.loss), lr: series(p.lr), gradNorm: series(p.gradNorm), ms: series(p.ms),
    gradBlocks: blocks(p.gradBlocks), rmsBlocks: blocks(p.rmsBlocks), updBlocks: blocks(p.updBlocks),
  });
  return { name: plain.name, metrics: m, blocks: { ...plain.blocks } };
}
