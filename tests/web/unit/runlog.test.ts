// The playground's log import (issue 12): logs written by the CLI and by the PyTorch twin
// (tests/web/fixtures, see its README) read into metrics the charts draw; bad lines are named.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRunLog, readLogStream, reviveLog, RunLogReader, type LogProblem, type RunLog } from '../../../web/src/runlog';
import { readLogFile, type LogReply, type LogWorkerLike } from '../../../web/src/runlogRead';
import { fileKind, logProblemText } from '../../../web/src/fileio';
import { blocksAt, logHeat, logStepRange } from '../../../web/src/chartData';
import { logRange } from '../../../web/src/charts/heatmap';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const problem = (text: string): LogProblem => {
  const r = parseRunLog(text, 'x.jsonl');
  if (!('problem' in r)) throw new Error('no problem found');
  return r.problem;
};

describe('parseRunLog', () => {
  it('reads a CLI log: every step, the evaluations, the per-block values of the last step', () => {
    const text = fixture('cli-mlp.jsonl');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const r = parseRunLog(text, 'cli-mlp.jsonl');
    if (!('log' in r)) throw new Error(JSON.stringify(r.problem));
    const m = r.log.metrics;
    expect(r.log.name).toBe('cli-mlp.jsonl');
    expect(m.step.length).toBe(60);
    expect(Array.from(m.step.view())).toEqual(lines.map((l) => l.step));
    expect(Array.from(m.loss.view())).toEqual(lines.map((l) => l.loss));
    expect(m.evals.map((e) => e.step)).toEqual([20, 40, 60]);
    expect(m.evals[2].valLoss).toBe(lines[59].val_loss);
    expect(m.evals[2].accuracy).toBe(lines[59].accuracy);
    expect(m.depth).toBe(4);
    expect(Array.from(m.gradBlocks.latest)).toEqual(lines[59].block_grad_norm.map(Math.fround));
    expect(Array.from(m.updBlocks.latest)).toEqual(lines[59].update_ratio.map(Math.fround));
    expect(r.log.blocks).toEqual({ grad: true, rms: true, update: true });
  });

  it('reads a log of the PyTorch twin (gpt: attn_entropy, no accuracy)', () => {
    const text = fixture('twin-gpt.jsonl');
    const r = parseRunLog(text, 'twin-gpt.jsonl');
    if (!('log' in r)) throw new Error(JSON.stringify(r.problem));
    expect(r.log.metrics.step.length).toBe(30);
    expect(r.log.metrics.depth).toBe(2);
    expect(r.log.metrics.evals.map((e) => [e.step, e.accuracy])).toEqual([[10, -1], [20, -1], [30, -1]]);
  });

  it('takes null for a value that was not finite, a resumed run, CRLF and blank lines; a log without per-block keys', () => {
    const r = parseRunLog('\r\n{"step":41,"loss":null}\r\n\n{"step":42,"loss":1.5,"val_loss":null}\n', 'r.jsonl');
    if (!('log' in r)) throw new Error(JSON.stringify(r.problem));
    expect(Array.from(r.log.metrics.step.view())).toEqual([41, 42]);
    expect(r.log.metrics.loss.data[0]).toBeNaN();
    expect(r.log.metrics.offset).toBe(40);
    expect(r.log.metrics.evals.map((e) => [e.step, e.valLoss])).toEqual([[42, NaN]]);  // an evaluation that was not finite
    expect(r.log.blocks).toEqual({ grad: false, rms: false, update: false });
  });

  it('names the first bad line (1-based) and what is wrong with it', () => {
    const ok = '{"step":1,"loss":1,"block_grad_norm":[1,2]}\n';
    expect(problem('')).toEqual({ kind: 'empty' });
    expect(problem('\n \n')).toEqual({ kind: 'empty' });
    expect(problem(ok + '{"step":2,"loss":1\n')).toEqual({ kind: 'json', line: 2 });
    expect(problem(ok + '[1,2]\n')).toEqual({ kind: 'json', line: 2 });
    expect(problem(ok + '\n{"loss":1}\n')).toEqual({ kind: 'step', line: 3, value: 'none' });
    expect(problem('{"step":1.5,"loss":1}')).toEqual({ kind: 'step', line: 1, value: '1.5' });
    expect(problem(ok + '{"step":1,"loss":1}')).toEqual({ kind: 'order', line: 2, step: 1, prev: 1 });
    expect(problem(ok + '{"step":4,"loss":1}')).toEqual({ kind: 'order', line: 2, step: 4, prev: 1 });
    expect(problem(ok + '{"step":2}')).toEqual({ kind: 'field', line: 2, key: 'loss' });
    expect(problem(ok + '{"step":2,"loss":"0.5"}')).toEqual({ kind: 'field', line: 2, key: 'loss' });
    expect(problem(ok + '{"step":2,"loss":1,"val_loss":true}')).toEqual({ kind: 'field', line: 2, key: 'val_loss' });
    expect(problem(ok + '{"step":2,"loss":1,"block_grad_norm":[1,"x"]}')).toEqual({ kind: 'field', line: 2, key: 'block_grad_norm' });
    expect(problem(ok + '{"step":2,"loss":1,"block_grad_norm":[1,2,3]}')).toEqual({ kind: 'depth', line: 2, key: 'block_grad_norm', n: 3, depth: 2 });
    expect(problem('{"step":1,"loss":1}\n{"step":2,"loss":1,"update_ratio":[1]}')).toEqual({ kind: 'depth', line: 2, key: 'update_ratio', n: 1, depth: 0 });
  });

  it('says each problem in English and Chinese with the line number', () => {
    const p = problem('{"step":1,"loss":1}\n{"step":3,"loss":1}');
    expect(logProblemText('en', 'big.jsonl', p)).toMatch(/big\.jsonl.*line 2.*step 3.*step 1/);
    expect(logProblemText('zh', 'big.jsonl', p)).toMatch(/big\.jsonl.*第 2 行/);
    expect(logProblemText('en', 'big.jsonl', { kind: 'size', bytes: 70 * 1024 * 1024 })).toMatch(/70\.0 MiB.*64 MiB/);
  });
});

/** A stream of `bytes` in pieces of `size` (a multi-byte character may be cut between two). */
function pieces(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= bytes.length) { c.close(); return; }
      c.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}
const logOf = (r: ReturnType<typeof parseRunLog>): RunLog => {
  if (!('log' in r)) throw new Error(JSON.stringify(r.problem));
  return r.log;
};
/** What the charts read of a log, as plain arrays (to compare two reads of one log). */
const seen = (l: RunLog) => {
  const m = l.metrics;
  const cols = (s: typeof m.gradBlocks) => Array.from({ length: s.columns }, (_, c) => Array.from(s.column(c)));
  return {
    name: l.name, blocks: l.blocks, depth: m.depth, offset: m.offset, steps: m.steps,
    step: Array.from(m.step.view()), loss: Array.from(m.loss.view()), lr: Array.from(m.lr.view()), ms: Array.from(m.ms.view()),
    evals: m.evals, diverged: m.diverged,
    grad: cols(m.gradBlocks), rms: cols(m.rmsBlocks), upd: cols(m.updBlocks), end: m.gradBlocks.endStep, span: m.gradBlocks.span,
    latest: [Array.from(m.gradBlocks.latest), Array.from(m.rmsBlocks.latest), Array.from(m.updBlocks.latest)],
  };
};

describe('reading a log in pieces (the worker streams it)', () => {
  const text = fixture('cli-mlp.jsonl');
  const whole = seen(logOf(parseRunLog(text, 'cli-mlp.jsonl')));

  it('gives the same log whatever the pieces, lines cut anywhere', () => {
    for (const size of [1, 7, 64, 333, 4096]) {
      const r = new RunLogReader('cli-mlp.jsonl');
      for (let i = 0; i < text.length; i += size) r.push(text.slice(i, i + size));
      expect(seen(logOf(r.finish())), `pieces of ${size}`).toEqual(whole);
    }
  });

  it('names the same bad line when the text comes in pieces, and stops there', () => {
    const lines = text.split('\n');
    lines[6] = lines[6].slice(0, 40);
    const bad = lines.join('\n');
    const r = new RunLogReader('x.jsonl');
    let ok = true;
    for (let i = 0; i < bad.length && ok; i += 50) ok = r.push(bad.slice(i, i + 50));
    expect(ok).toBe(false);
    expect(r.finish()).toEqual({ problem: { kind: 'json', line: 7 } });
  });

  it('decodes UTF-8 cut between pieces, reports progress up to the size, and refuses more bytes than the cap', async () => {
    const t = '{"step":1,"loss":1,"divergence":"损失不是有限值","diverged":true}\n{"step":2,"loss":0.5}';
    const bytes = new TextEncoder().encode(t);
    const seenBytes: number[] = [];
    const r = await readLogStream(pieces(bytes, 3), bytes.length, 'u.jsonl', (b, total) => { expect(total).toBe(bytes.length); seenBytes.push(b); });
    expect(logOf(r).metrics.diverged).toEqual({ step: 1, message: '损失不是有限值' });
    expect(seenBytes.at(-1)).toBe(bytes.length);
    expect(seenBytes).toEqual([...seenBytes].sort((a, b) => a - b));
    // a size that says less than the stream holds: the bytes read are what count
    expect(await readLogStream(pieces(bytes, 16), 10, 'u.jsonl', undefined, 64)).toEqual({ problem: { kind: 'size', bytes: 80 } });
    expect(await readLogStream(pieces(bytes, 16), 1000, 'u.jsonl', undefined, 64)).toEqual({ problem: { kind: 'size', bytes: 1000 } });
    // the CLI fixture through a stream: the same as the whole text
    const cli = new TextEncoder().encode(text);
    expect(seen(logOf(await readLogStream(pieces(cli, 1000), cli.length, 'cli-mlp.jsonl')))).toEqual(whole);
  });

  it('comes back from a worker whole: the structured clone revived into metrics the charts can use', () => {
    const log = logOf(parseRunLog(text, 'cli-mlp.jsonl'));
    const copy = reviveLog(structuredClone(log));
    expect(seen(copy)).toEqual(whole);
    expect(copy.metrics.step.last()).toBe(60);
    expect(copy.metrics.recentMs(10)).toBe(log.metrics.recentMs(10));
    copy.metrics.gradBlocks.push(61, [1, 2, 3, 4]);  // a live BlockSeries, not a bag of fields
    expect(Array.from(copy.metrics.gradBlocks.column(60))).toEqual([1, 2, 3, 4]);
  });

  it('readLogFile: progress and the log from a worker, its problem or its error; on this thread without one', async () => {
    const file = new File([text], 'cli-mlp.jsonl');
    const log = logOf(parseRunLog(text, 'cli-mlp.jsonl'));
    const fake = (replies: LogReply[]): (() => LogWorkerLike) => () => {
      const w: LogWorkerLike = {
        onmessage: null, onerror: null, terminate: () => { w.onmessage = null; },
        postMessage: (m) => {
          expect((m as { file: File }).file).toBe(file);
          queueMicrotask(() => { for (const r of replies) w.onmessage?.({ data: structuredClone(r) } as MessageEvent<LogReply>); });
        },
      };
      return w;
    };
    const progress: number[] = [];
    const r = await readLogFile(file, (b) => progress.push(b), fake([{ type: 'progress', bytes: 5, total: 9 }, { type: 'log', log }]));
    expect(progress).toEqual([5]);
    if (!('log' in r)) throw new Error('no log');
    expect(seen(r.log)).toEqual(whole);
    expect(await readLogFile(file, () => {}, fake([{ type: 'problem', problem: { kind: 'json', line: 3 } }]))).toEqual({ problem: { kind: 'json', line: 3 } });
    expect(await readLogFile(file, () => {}, fake([{ type: 'error', message: 'gone' }]))).toEqual({ error: 'gone' });
    const here = await readLogFile(file, () => {}, () => null);
    if (!('log' in here)) throw new Error('no log');
    expect(seen(here.log)).toEqual(whole);
    // a worker whose script never loads: read here instead; one that dies after it began: said so
    const broken = (after: LogReply[]): (() => LogWorkerLike) => () => {
      const w: LogWorkerLike = {
        onmessage: null, onerror: null, terminate: () => {},
        postMessage: () => queueMicrotask(() => {
          for (const r of after) w.onmessage?.({ data: r } as MessageEvent<LogReply>);
          w.onerror?.({ message: 'Script error', preventDefault() {} } as ErrorEvent);
        }),
      };
      return w;
    };
    const fallback = await readLogFile(file, () => {}, broken([]));
    if (!('log' in fallback)) throw new Error('no log');
    expect(seen(fallback.log)).toEqual(whole);
    expect(await readLogFile(file, () => {}, broken([{ type: 'progress', bytes: 1, total: 9 }]))).toEqual({ error: 'Script error' });
  });
});

describe('a log in the charts: its gradient heatmap and its per-block history', () => {
  const text = fixture('cli-mlp.jsonl');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  const log = logOf(parseRunLog(text, 'cli-mlp.jsonl'));
  const f32 = (a: number[]) => a.map(Math.fround);

  it('the heatmap draws every step of the CLI log, block by block, over its own steps', () => {
    const d = logHeat(log, []);
    if (!d) throw new Error('no heatmap');
    expect(d.series.columns).toBe(60);
    expect(d.horizon).toBe(60);
    expect(d.mark).toBeNull();
    for (let c = 0; c < 60; c++) {
      expect(d.series.endStep[c]).toBe(lines[c].step);
      expect(Array.from(d.series.column(c))).toEqual(f32(lines[c].block_grad_norm));
    }
    const all = lines.flatMap((l) => l.block_grad_norm as number[]);
    expect(d.range.lo).toBeCloseTo(Math.log10(Math.min(...all)), 5);
    expect(d.range.hi).toBeCloseTo(Math.log10(Math.max(...all)), 5);
    // shared with a run's map: the wider of the two scales
    const wide = logOf(parseRunLog('{"step":1,"loss":1,"block_grad_norm":[1e-9,1e3,1,1]}', 'w.jsonl'));
    expect(logHeat(log, [wide.metrics.gradBlocks])!.range).toEqual(logRange([wide.metrics.gradBlocks, log.metrics.gradBlocks]));
  });

  it('no heatmap for a log without per-block gradient norms; a diverged log marks its step', () => {
    expect(logHeat(logOf(parseRunLog('{"step":1,"loss":1}\n{"step":2,"loss":1}', 'a.jsonl')), [])).toBeNull();
    expect(logHeat(logOf(parseRunLog('{"step":1,"loss":1,"block_act_rms":[1,2]}', 'b.jsonl')), [])).toBeNull();
    const div = logOf(parseRunLog('{"step":5,"loss":1,"block_grad_norm":[1]}\n{"step":6,"loss":null,"block_grad_norm":[null],"diverged":true}', 'c.jsonl'));
    expect(logHeat(div, [])).toMatchObject({ horizon: 6, mark: 6 });
  });

  it('the per-block charts: any step of the log, exactly, and the last step by default', () => {
    const m = log.metrics;
    for (const step of [1, 2, 30, 59]) {
      expect(blocksAt(m.rmsBlocks, m.steps, step)).toEqual({ values: new Float32Array(f32(lines[step - 1].block_act_rms)), from: step, to: step });
      expect(Array.from(blocksAt(m.updBlocks, m.steps, step).values)).toEqual(f32(lines[step - 1].update_ratio));
    }
    expect(blocksAt(m.gradBlocks, m.steps, null)).toEqual({ values: m.gradBlocks.latest, from: 60, to: 60 });
    expect(Array.from(blocksAt(m.gradBlocks, m.steps, 60).values)).toEqual(f32(lines[59].block_grad_norm));
    expect(logStepRange([log])).toEqual({ min: 1, max: 60 });
    expect(logStepRange([logOf(parseRunLog('{"step":3,"loss":1}', 'a.jsonl'))])).toBeNull();
  });

  it('a log longer than the kept columns: a step inside a merged column gives that column\'s mean and says which steps', () => {
    const n = 5000;  // over the 4096 columns kept: neighbours merged in pairs
    const rows = Array.from({ length: n }, (_, i) => `{"step":${i + 11},"loss":1,"block_grad_norm":[${i + 1},${2 * (i + 1)}]}`);
    const long = logOf(parseRunLog(rows.join('\n'), 'long.jsonl')).metrics;
    expect(long.gradBlocks.stride).toBe(2);
    expect(logStepRange([{ name: 'long', metrics: long, blocks: { grad: true, rms: false, update: false } }])).toEqual({ min: 11, max: n + 10 });
    // step 17 (the log's 7th, value 7) shares a column with step 18 (value 8)
    expect(blocksAt(long.gradBlocks, long.steps, 17)).toEqual({ values: new Float32Array([7.5, 15]), from: 17, to: 18 });
    expect(blocksAt(long.gradBlocks, long.steps, 18)).toEqual({ values: new Float32Array([7.5, 15]), from: 17, to: 18 });
    expect(blocksAt(long.gradBlocks, long.steps, 3)).toEqual({ values: new Float32Array([1.5, 3]), from: 11, to: 12 });  // before the first
    expect(Array.from(blocksAt(long.gradBlocks, long.steps, n + 10).values)).toEqual([n, 2 * n]);
  });
});

describe('fileKind', () => {
  const b = (...xs: number[]) => new Uint8Array(xs);
  const st = b(0x40, 0x01, 0, 0, 0, 0, 0, 0, 0x7b, 0x22);  // a safetensors header of 320 bytes, then '{"'
  it('goes by the extension first, case-insensitive', () => {
    expect(fileKind('run.jsonl', b())).toBe('log');
    expect(fileKind('RUN.NDJSON', b())).toBe('log');
    expect(fileKind('m.safetensors', b())).toBe('checkpoint');
    expect(fileKind('pts.CSV', b())).toBe('points');
    expect(fileKind('poems.txt', st)).toBe('text');
  });
  it('else by the first bytes: a safetensors header length then "{", or a JSON object', () => {
    expect(fileKind('model', st)).toBe('checkpoint');
    expect(fileKind('run.log', b(0x0a, 0x20, 0x7b, 0x22))).toBe('log');
    expect(fileKind('blob', b(0x89, 0x50, 0x4e, 0x47))).toBeNull();
    expect(fileKind('x.json5', b())).toBeNull();
  });
});
