// The training-log reader's dedicated module Worker (issue 13's "no main-thread task over 50 ms"): a
// 64 MiB log takes ~2 s to parse, which on the page's thread froze it. The page posts the File; this
// streams it through runlog.ts's reader (the same checks and messages as ever), posts progress now and
// then, and posts the log (its arrays transferred) or what is wrong with it. One worker per import.
/// <reference lib="webworker" />
import { readLogStream } from './runlog';
import type { LogReply } from './runlogRead';

declare const self: DedicatedWorkerGlobalScope;

/** Progress at most this often (each post redraws a notice on the page). */
const PROGRESS_MS = 100;

self.onmessage = async (e: MessageEvent<{ file: File }>) => {
  const file = e.data.file;
  const post = (m: LogReply, transfer: Transferable[] = []) => self.postMessage(m, transfer);
  let last = 0;
  try {
    const r = await readLogStream(file.stream(), file.size, file.name, (bytes, total) => {
      const now = performance.now();
      if (now - last < PROGRESS_MS) return;
      last = now;
      post({ type: 'progress', bytes, total });
    });
    if ('problem' in r) return post({ type: 'problem', problem: r.problem });
    const m = r.log.metrics;
    const buffers = [...[m.step, m.loss, m.lr, m.gradNorm, m.ms].map((s) => s.data.buffer),
      ...[m.gradBlocks, m.rmsBlocks, m.updBlocks].map((s) => s.data.buffer)] as ArrayBuffer[];
    post({ type: 'log', log: r.log }, buffers);
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
