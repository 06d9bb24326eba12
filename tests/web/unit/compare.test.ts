// Comparison logic: runs as base + overrides, what "differs" means, lockstep round sizes, and the
// Session driving several (fake) engines in lockstep.
import { describe, expect, it } from 'vitest';
import { addRun, diffKeys, fromConfigs, removeRun, roundSteps, runLabel, setRunField } from '../../../web/src/compare';
import { presetConfig } from '../../../web/src/config/presets';
import { experimentConfigs } from '../../../web/src/experiments';
import { Session } from '../../../web/src/session';
import { defaultState, runConfigs } from '../../../web/src/state';
import { parse } from '../../../web/src/url';
import { fakeFactory } from './fakeEngine';

describe('runs as overrides', () => {
  it('Post-LN vs Pre-LN differ only in placement', () => {
    const [a, b] = experimentConfigs('postln-vs-preln');
    expect(diffKeys(a, b)).toEqual(['placement']);
    expect(a).toEqual(presetConfig('gpt-postln-nowarmup'));
    expect(b).toEqual(presetConfig('gpt-preln-nowarmup'));
  });

  it('builds base + overrides from full configs and back', () => {
    const configs = experimentConfigs('rezero');
    const { base, runs } = fromConfigs(configs);
    expect(runs[0]).toEqual({ residual: 'identity' });
    const s = defaultState();
    s.mode = 'compare';
    s.config = base;
    s.runs = runs;
    expect(runConfigs(s)).toEqual(configs);
  });

  it('refuses runs that differ in shared fields', () => {
    const a = presetConfig('mlp-spiral');
    expect(() => fromConfigs([a, { ...a, seed: 1 }])).toThrow(/seed/);
    expect(() => fromConfigs([a, { ...a, data: 'xor' }])).toThrow(/data/);
    expect(() => fromConfigs([])).toThrow();
  });

  it('edits run A as the base and other runs as overrides', () => {
    let s = parse('exp=postln-vs-preln').state;    // A: post, B: placement=pre
    s = setRunField(s, 0, 'lr', 0.003);              // both runs follow
    expect(runConfigs(s).map((c) => c.lr)).toEqual([0.003, 0.003]);
    s = setRunField(s, 1, 'warmup', 50);             // only B
    expect(runConfigs(s).map((c) => c.warmup)).toEqual([0, 50]);
    s = setRunField(s, 1, 'seed', 7);                // shared: goes to the base
    expect(runConfigs(s).map((c) => c.seed)).toEqual([7, 7]);
    expect(s.runs[0].seed).toBeUndefined();
    s = setRunField(s, 1, 'warmup', 0);              // back to A's value: no longer an override
    expect(s.runs[0]).toEqual({ placement: 'pre' });
    s = setRunField(s, 0, 'placement', 'pre');       // A now equals B's override: dropped
    expect(s.runs[0]).toEqual({});
    expect(runLabel(s, 1)).toMatch(/same as A/);
  });

  it('adds and removes runs (at most four)', () => {
    let s = parse('exp=plain-vs-residual').state;
    s = addRun(s, 1);
    expect(runConfigs(s)[2]).toEqual(runConfigs(s)[1]);
    s = addRun(s, 0);
    expect(runConfigs(s)).toHaveLength(4);
    expect(addRun(s, 0)).toBe(s);
    const before = runConfigs(s);
    const r = removeRun(s, 0);                       // B becomes the base
    expect(runConfigs(r)).toEqual(before.slice(1));
    expect(runConfigs(removeRun(s, 2))).toEqual([before[0], before[1], before[3]]);
  });

  it('labels runs by what they change', () => {
    const s = parse('exp=postln-vs-preln').state;
    expect(runLabel(s, 0)).toBe('A · placement=post');
    expect(runLabel(s, 1)).toBe('B · placement=pre');
  });

  it('names runs in the page’s language: "same as A" and "base" come from the caller (issue 20)', () => {
    let s = parse('exp=postln-vs-preln').state;
    s = setRunField(s, 1, 'placement', 'post');      // B now equals A
    const zh = { same: '与 A 相同', base: '基准' };
    expect(runLabel(s, 1)).toBe('B · same as A');
    expect(runLabel(s, 1, zh)).toBe('B · 与 A 相同');
    expect(runLabel(s, 0, zh)).toBe('A · 基准');
    expect(runLabel(s, 0)).toBe('A · base');
  });
});

describe('lockstep round size', () => {
  it('fills the target time with the slowest run', () => {
    expect(roundSteps([0.1, 1], 50, 0, 10000, 0)).toBe(50);
    expect(roundSteps([100], 50, 0, 10000, 0)).toBe(1);
  });
  it('stops at the next evaluation and at the end', () => {
    expect(roundSteps([0.1], 50, 90, 10000, 100)).toBe(10);
    expect(roundSteps([0.1], 50, 995, 1000, 0)).toBe(5);
    expect(roundSteps([0.1], 50, 1000, 1000, 0)).toBe(0);
  });
  it('copes with unknown timings', () => {
    expect(roundSteps([NaN, 0], 50, 0, 100, 0)).toBeGreaterThanOrEqual(1);
  });
});

describe('Session', () => {
  const configs = (s = 'exp=postln-vs-preln') => runConfigs(parse(s).state).map((c) => ({ ...c, kind: 'mlp', data: 'spiral', steps: 120, eval: 50 }));

  it('steps every run the same number of steps, evaluates at multiples, stops at the end', async () => {
    const { factory, made } = fakeFactory();
    const s = new Session(factory);
    s.roundMs = 5;
    expect(await s.build(configs())).toBe(true);
    expect(made).toHaveLength(2);
    await new Promise<void>((resolve) => {
      s.on('playing', (on) => { if (!on) resolve(); });
      s.play();
    });
    for (const r of s.runs) {
      expect(r.metrics!.steps).toBe(120);
      expect(r.status).toBe('done');
      expect(r.metrics!.evals.map((e) => e.step)).toEqual([50, 100, 120]);
    }
    expect(made[0].calls.filter((c) => c.startsWith('step'))).toEqual(made[1].calls.filter((c) => c.startsWith('step')));
    expect(Array.from(s.runs[0].metrics!.step.view())).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  });

  it('stops a diverged run and keeps the others going', async () => {
    const { factory } = fakeFactory((c) => (c.model?.placement === 'post' ? { divergeAt: 30 } : {}));
    const s = new Session(factory);
    s.roundMs = 5;
    const stopped: string[] = [];
    s.on('stopped', (run, why) => stopped.push(`${run.index}:${why}`));
    await s.build(configs());
    await new Promise<void>((resolve) => { s.on('playing', (on) => { if (!on) resolve(); }); s.play(); });
    expect(s.runs[0].status).toBe('diverged');
    expect(s.runs[0].metrics!.diverged).toEqual({ step: 30, message: 'loss is NaN after block 3' });
    expect(s.runs[0].metrics!.steps).toBe(30);
    expect(s.runs[1].metrics!.steps).toBe(120);
    expect(stopped).toEqual(['0:diverged', '1:done']);
  });

  it('reports a config the engine refuses, per run', async () => {
    const { factory } = fakeFactory((c) => (c.model?.placement === 'pre' ? { failCreate: 'config: model.width = 5 must be divisible by model.heads = 4' } : {}));
    const s = new Session(factory);
    expect(await s.build(configs())).toBe(false);
    expect(s.runs.map((r) => r.status)).toEqual(['ready', 'error']);
    expect(s.runs[1].message).toMatch(/model.width/);
  });

  it('records every step the engines took, also the round still out when paused', async () => {
    const { factory, made } = fakeFactory(() => ({ delayMs: 3 }));
    const s = new Session(factory);
    s.roundMs = 2;
    await s.build(configs().map((c) => ({ ...c, steps: 100000, eval: 0 })));
    s.play();
    await new Promise((r) => setTimeout(r, 60));
    s.pause();
    while (s.busy) await new Promise((r) => setTimeout(r, 5));
    expect(made[0].stepsDone).toBeGreaterThan(3);
    expect(s.runs.map((r) => r.metrics!.steps)).toEqual(made.map((e) => e.stepsDone));
    expect(made[0].stepsDone).toBe(made[1].stepsDone);
  });

  it('one step at a time (clicks queue up), and a rebuild terminates the old engines', async () => {
    const { factory, made } = fakeFactory();
    const s = new Session(factory);
    await s.build(configs());
    await Promise.all([s.stepOnce(), s.stepOnce(), s.stepOnce()]);
    expect(s.runs.map((r) => r.metrics!.steps)).toEqual([3, 3]);
    await s.build(configs());
    expect(made.slice(0, 2).every((e) => e.terminated)).toBe(true);
    expect(s.steps).toBe(0);
  });
});
