// Mid-run edits (web/src/edits.ts): what counts as live, the recorded diff, the state before the edits,
// the per-step schedule, and the link format's round trip and all-or-nothing refusals.
import { describe, expect, it } from 'vitest';
import { changedKeys, diffEdits, editSchedule, onlyLive, parseEdits, serializeEdits, startState } from '../../../web/src/edits';
import { cloneState, defaultState, parse, runConfigs, serialize } from '../../../web/src/state';

describe('mid-run edits', () => {
  it('live settings are the optimiser hyperparameters, steps and evaluation; not the model, batch or optimiser', () => {
    const a = runConfigs(defaultState());
    const with_ = (k: string, v: string | number) => [{ ...a[0], [k]: v }];
    for (const [k, v] of [['lr', 0.5], ['clip', 0], ['steps', 9], ['wd', 0.1], ['schedule', a[0].schedule === 'cosine' ? 'constant' : 'cosine'], ['eval', 7]] as const) expect(onlyLive(a, with_(k, v))).toBe(true);
    for (const [k, v] of [['depth', 3], ['batch', 8], ['optim', 'sgd'], ['norm', 'rmsnorm'], ['seed', 1]] as const) expect(onlyLive(a, with_(k, v))).toBe(false);
    expect(onlyLive(a, a)).toBe(false);               // nothing changed
    expect(onlyLive(a, [...a, a[0]])).toBe(false);    // another run
    expect(changedKeys(a, with_('depth', 3))).toEqual(['depth']);
  });

  it('records base and override edits, undoes them to the start, and schedules them per step', () => {
    const s0 = defaultState();
    s0.mode = 'compare';
    s0.runs = [{ lr: 0.02 }];
    const s1 = cloneState(s0);
    s1.config.lr = 0.005;                              // run A's lr (run B overrides it)
    s1.edits = diffEdits(s0, s1, 10);
    expect(s1.edits).toEqual([{ step: 10, run: 0, key: 'lr', from: s0.config.lr, to: 0.005 }]);
    const s2 = cloneState(s1);
    delete s2.runs[0].lr;                              // run B now follows A
    s2.runs[0].clip = 0.5;
    s2.edits = [...s2.edits, ...diffEdits(s1, s2, 25)];
    expect(s2.edits.slice(1)).toEqual([
      { step: 25, run: 1, key: 'lr', from: 0.02, to: '' }, { step: 25, run: 1, key: 'clip', from: '', to: 0.5 }]);
    const st = startState(s2);
    expect(st.config.lr).toBe(s0.config.lr);
    expect(st.runs).toEqual([{ lr: 0.02 }]);
    const sched = editSchedule(s2, runConfigs);
    expect(sched.map((e) => e.step)).toEqual([10, 25]);
    expect(sched[0].configs.map((c) => c.lr)).toEqual([0.005, 0.02]);
    expect(sched[1].configs.map((c) => [c.lr, c.clip])).toEqual([[0.005, s0.config.clip], [0.005, 0.5]]);
    // the link round trip keeps them
    const back = parse(serialize(s2)).state;
    expect(back.edits).toEqual(s2.edits);
    expect(serializeEdits(back.edits)).toBe(`10:lr:${s0.config.lr}:0.005,25:b.lr:0.02:,25:b.clip::0.5`);
  });

  it('refuses a whole edit list that is malformed, out of order, not live, out of range or inconsistent with the link', () => {
    const s = defaultState();
    s.config.lr = 0.003;
    const lr0 = defaultState().config.lr;
    expect(parseEdits(`12:lr:${lr0}:0.003`, s)).toEqual({ edits: [{ step: 12, run: 0, key: 'lr', from: lr0, to: 0.003 }], notice: null });
    const reason = (raw: string) => parseEdits(raw, s).notice?.reason;
    expect(reason('12:lr:0.01')).toMatch(/not STEP:KEY:FROM:TO/);
    expect(reason(`12:lr:${lr0}:0.002,5:lr:0.002:0.003`)).toMatch(/not in step order/);
    expect(reason('12:depth:8:4')).toMatch(/depth cannot change in a running model/);
    expect(reason(`12:lr:${lr0}:99`)).toMatch(/out of range/);
    expect(reason('0:lr:0.001:0.003')).toMatch(/step 0/);
    expect(reason(`12:lr:${lr0}:0.004`)).toMatch(/lr ends at 0.004, but the link sets 0.003/);
    expect(reason(`12:lr:${lr0}:0.002,14:lr:0.005:0.003`)).toMatch(/does not follow/);
    expect(reason(`12:b.lr::0.003`)).toMatch(/run b is not in the link/);
    expect(reason(Array.from({ length: 201 }, (_, i) => `${i + 1}:lr:0.003:0.003`).join(','))).toMatch(/more than 200/);
    // and parse() reports it as one notice, keeping no edits
    const { state, notices } = parse(`lr=0.003&edits=${encodeURIComponent('12:depth:8:4')}`);
    expect(state.edits).toEqual([]);
    expect(notices).toEqual([expect.objectContaining({ key: 'edits', how: 'ignored' })]);
  });
});
