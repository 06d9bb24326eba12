// The playground's log import (issue 12): logs written by the CLI and by the PyTorch twin
// (tests/web/fixtures, see its README) read into metrics the charts draw; bad lines are named.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRunLog, type LogProblem } from '../../../web/src/runlog';
import { fileKind, logProblemText } from '../../../web/src/fileio';

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
