// Reading a training log off the page's thread: a module Worker (runlogWorker.ts, bundled by Vite as
// the engine's worker is, same origin, so the strict CSP's script-src is unchanged) streams the file and
// parses it; the page gets progress and then the log, rebuilt around the transferred arrays. Where no
// Worker exists (Node, the unit tests) the same reader runs here.
import { readLogStream, reviveLog, type LogProblem, type LogProgress, type RunLog } from './runlog';
import { startModuleWorker } from './engine/startWorker';
import logWorkerUrl from './runlogWorker.ts?worker&url';

/** What the log worker posts. */
export type LogReply =
  | { type: 'progress'; bytes: number; total: number }
  | { type: 'log'; log: RunLog }
  | { type: 'problem'; problem: LogProblem }
  | { type: 'error'; message: string };

export type LogResult = { log: RunLog } | { problem: LogProblem } | { error: string };

/** The part of a Worker used here (tests may pass their own). */
export interface LogWorkerLike {
  onmessage: ((e: MessageEvent<LogReply>) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  postMessage(m: unknown): void;
  terminate(): void;
}

function defaultWorker(): LogWorkerLike | null {
  if (typeof Worker === 'undefined') return null;
  return startModuleWorker(logWorkerUrl, 'resnorm-log') as LogWorkerLike;
}

/** Reads `file` as a training log in a worker (else here), calling `progress` as it goes. */
export function readLogFile(file: File, progress: LogProgress, worker: () => LogWorkerLike | null = defaultWorker): Promise<LogResult> {
  let w: LogWorkerLike | null;
  try {
    w = worker();
  } catch {
    w = null;  // a page that cannot start one: read here, as before
  }
  const here = () => readLogStream(file.stream(), file.size, file.name, progress)
    .catch((e: unknown): LogResult => ({ error: e instanceof Error ? e.message : String(e) }));
  if (!w) return here();
  const wk = w;
  return new Promise<LogResult>((resolve) => {
    let heard = false;
    const stop = () => { wk.onmessage = null; wk.onerror = null; wk.terminate(); };
    const done = (r: LogResult) => { stop(); resolve(r); };
    wk.onmessage = (e) => {
      heard = true;
      const m = e.data;
      if (m.type === 'progress') progress(m.bytes, m.total);
      else if (m.type === 'log') done({ log: reviveLog(m.log) });
      else if (m.type === 'problem') done({ problem: m.problem });
      else done({ error: m.message });
    };
    wk.onerror = (e) => {
      e.preventDefault?.();
      // a worker that never started (its script refused, e.g. a page whose CSP has no worker-src for it): read here
      if (!heard) { stop(); void here().then(resolve); return; }
      done({ error: e.message || 'the log reader stopped' });
    };
    wk.postMessage({ file });
  });
}
