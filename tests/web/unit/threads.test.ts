// Sharing the machine's threads among the runs that train at once (issue 13): the pure split
// (web/src/engine/threadSplit.ts), and the session telling each (fake) engine its share whenever the set
// of training runs changes.
import { describe, expect, it } from 'vitest';
import { RESERVE_ABOVE, threadsPerRun, type RunKind } from '../../../web/src/engine/threadSplit';
import { MAX_THREADS } from '../../../web/src/engine/wasm';
import { Session } from '../../../web/src/session';
import { runConfigs } from '../../../web/src/state';
import { parse } from '../../../web/src/url';
import { fakeFactory } from './fakeEngine';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('threadsPerRun', () => {
  it('gives one gpt or cnn run the machine, less one core above 4 cores, at most the cap', () => {
    expect(threadsPerRun(1, ['gpt'])).toEqual([1]);
    expect(threadsPerRun(2, ['gpt'])).toEqual([2]);
    expect(threadsPerRun(4, ['cnn'])).toEqual([4]);
    expect(threadsPerRun(6, ['gpt'])).toEqual([5]);
    expect(threadsPerRun(8, ['gpt'])).toEqual([7]);
    expect(threadsPerRun(9, ['gpt'])).toEqual([8]);
    expect(threadsPerRun(64, ['gpt'])).toEqual([MAX_THREADS]);
    expect(threadsPerRun(64, ['gpt'], [], 3)).toEqual([3]);
  });

  it('shares the cores among several runs instead of giving each the whole count', () => {
    expect(threadsPerRun(8, ['gpt', 'gpt'])).toEqual([4, 3]);
    expect(threadsPerRun(8, ['gpt', 'gpt', 'gpt', 'gpt'])).toEqual([2, 2, 2, 1]);
    expect(threadsPerRun(16, ['gpt', 'gpt', 'gpt', 'gpt'])).toEqual([4, 4, 4, 3]);
    expect(threadsPerRun(4, ['gpt', 'gpt'])).toEqual([2, 2]);
    // more runs than cores: every run still trains, on one thread
    expect(threadsPerRun(2, ['gpt', 'gpt', 'gpt', 'gpt'])).toEqual([1, 1, 1, 1]);
  });

  it('hands the threads left over to the costliest runs, ties to the earlier run', () => {
    expect(threadsPerRun(8, ['gpt', 'gpt', 'gpt', 'gpt'], [10, 10, 10, 50])).toEqual([2, 2, 1, 2]);
    expect(threadsPerRun(8, ['gpt', 'gpt'], [100, 400])).toEqual([3, 4]);
    expect(threadsPerRun(8, ['gpt', 'gpt'], [NaN, 1])).toEqual([3, 4]);
  });

  it('gives mlp runs one thread each and the gpt or cnn runs what is left', () => {
    expect(threadsPerRun(8, ['mlp'])).toEqual([1]);
    expect(threadsPerRun(8, ['mlp', 'mlp', 'mlp', 'mlp'])).toEqual([1, 1, 1, 1]);
    expect(threadsPerRun(8, ['mlp', 'gpt'])).toEqual([1, 6]);
    expect(threadsPerRun(8, ['mlp', 'mlp', 'cnn', 'gpt'])).toEqual([1, 1, 3, 2]);
    expect(threadsPerRun(2, ['mlp', 'gpt'])).toEqual([1, 1]);
    expect(threadsPerRun(8, [])).toEqual([]);
  });

  it('counts a missing or nonsensical core count as one core', () => {
    for (const hc of [NaN, 0, -4, Infinity, undefined as unknown as number]) expect(threadsPerRun(hc, ['gpt', 'gpt'])).toEqual([1, 1]);
    expect(threadsPerRun(3.7, ['gpt'])).toEqual([3]);
  });

  it('holds its rule for every mix of up to four runs on 1..40 cores', () => {
    const kinds: RunKind[] = ['mlp', 'gpt', 'cnn'];
    const mixes: RunKind[][] = [[]];
    for (let n = 0; n < 4; n++) for (const m of [...mixes]) if (m.length === n) for (const k of kinds) mixes.push([...m, k]);
    expect(mixes).toHaveLength(1 + 3 + 9 + 27 + 81);
    const bad: string[] = [];
    for (let hc = 1; hc <= 40; hc++) {
      for (const mix of mixes) {
        const t = threadsPerRun(hc, mix);
        const heavy = t.filter((_, i) => mix[i] !== 'mlp');
        const room = hc - (hc > RESERVE_ABOVE ? 1 : 0) - (mix.length - heavy.length);
        const why = [
          t.length === mix.length || 'one count per run',
          t.every((n, i) => Number.isInteger(n) && n >= 1 && n <= MAX_THREADS && (mix[i] !== 'mlp' || n === 1)) || '1..cap, mlp 1',
          // within the cores left, unless every run at one thread is already more
          !heavy.length || sum(heavy) <= Math.max(heavy.length, room) || 'over the cores left',
          // fair: shares differ by at most one thread
          !heavy.length || Math.max(...heavy) - Math.min(...heavy) <= 1 || 'unfair',
          // nothing left idle but what the cap keeps
          !heavy.length || sum(heavy) >= room || heavy.every((n) => n === MAX_THREADS) || 'cores left idle',
        ].filter((x) => x !== true);
        if (why.length) bad.push(`${hc} cores, ${mix.join('+')}: ${t.join(',')} (${why.join('; ')})`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('Session shares the threads', () => {
  // post-LN and pre-LN gpt runs; the fake engines "loaded with" `threads` threads
  const gpt = (n: number, steps = 40) => {
    const [a, b] = runConfigs(parse('exp=postln-vs-preln').state);
    return Array.from({ length: n }, (_, i) => ({ ...(i % 2 ? b : a), steps, eval: 0 }));
  };
  const playToEnd = (s: Session) => new Promise<void>((resolve) => { s.on('playing', (on) => { if (!on) resolve(); }); s.play(); });
  const settle = () => new Promise((r) => setTimeout(r, 0));

  it('sets each engine its share once the runs are built', async () => {
    const { factory, made } = fakeFactory(() => ({ threads: 8 }));
    const s = new Session(factory);
    s.cores = 8;
    await s.build(gpt(4));
    await settle();
    expect(made.map((e) => e.threads)).toEqual([2, 2, 2, 1]);
    expect(s.runs.map((r) => r.threads)).toEqual([2, 2, 2, 1]);
    expect(made.map((e) => e.calls.filter((c) => c.startsWith('setThreads')))).toEqual([['setThreads(2)'], ['setThreads(2)'], ['setThreads(2)'], ['setThreads(1)']]);
  });

  it('never asks an engine for more than it loaded with, and leaves one-thread engines alone', async () => {
    const { factory, made } = fakeFactory((c) => ({ threads: c.model?.placement === 'post' ? 2 : 1 }));
    const s = new Session(factory);
    s.cores = 8;
    await s.build(gpt(2));
    await settle();
    expect(s.runs.map((r) => r.threads)).toEqual([2, 1]);
    expect(made[0].calls.filter((c) => c.startsWith('setThreads'))).toEqual([]);  // 4 wanted, 2 is all it has: already there
    expect(made[1].calls.filter((c) => c.startsWith('setThreads'))).toEqual([]);
  });

  it('gives a diverged run\'s threads to the runs still training', async () => {
    const { factory, made } = fakeFactory((c) => ({ threads: 8, divergeAt: c.model?.placement === 'post' ? 5 : undefined }));
    const s = new Session(factory);
    s.cores = 8;
    s.roundMs = 5;
    await s.build(gpt(2));
    await settle();
    expect(made.map((e) => e.threads)).toEqual([4, 3]);
    await playToEnd(s);
    await settle();
    expect(s.runs.map((r) => r.status)).toEqual(['diverged', 'done']);
    // run B trained on with all 7 once A diverged; the diverged engine was not touched again
    expect(made[1].calls.filter((c) => c.startsWith('setThreads'))).toEqual(['setThreads(3)', 'setThreads(7)']);
    expect(made[0].calls.filter((c) => c.startsWith('setThreads'))).toEqual(['setThreads(4)']);
  });

  it('gives a finished run\'s threads to a longer run', async () => {
    const { factory, made } = fakeFactory(() => ({ threads: 4 }));
    const s = new Session(factory);
    s.cores = 4;
    s.roundMs = 5;
    const [a, b] = gpt(2);
    await s.build([{ ...a, steps: 10 }, { ...b, steps: 30 }]);
    await settle();
    expect(made.map((e) => e.threads)).toEqual([2, 2]);
    await playToEnd(s);
    await settle();
    expect(s.runs.map((r) => r.metrics!.steps)).toEqual([10, 30]);
    expect(made[1].calls.filter((c) => c.startsWith('setThreads'))).toEqual(['setThreads(2)', 'setThreads(4)']);
    // and the share came before B's last steps: some step came after setThreads(4)
    const calls = made[1].calls;
    expect(calls.slice(calls.indexOf('setThreads(4)')).some((c) => c.startsWith('step'))).toBe(true);
  });
});
