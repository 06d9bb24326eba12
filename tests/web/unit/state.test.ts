// URL state: every state survives serialize -> parse unchanged; malformed or out-of-range input
// falls back per field, with a notice naming it, and never throws.
import { describe, expect, it } from 'vitest';
import { FIELDS } from '../../../web/src/config/fields';
import { presetConfig } from '../../../web/src/config/presets';
import { EXPERIMENTS, experimentConfigs } from '../../../web/src/experiments';
import { cloneState, defaultState, runConfigs, type AppState } from '../../../web/src/state';
import { parse, serialize } from '../../../web/src/url';

function roundTrip(s: AppState): AppState {
  const r = parse(serialize(s));
  expect(r.notices).toEqual([]);
  return r.state;
}

describe('URL round trip', () => {
  it('keeps the default state', () => {
    const s = defaultState();
    expect(roundTrip(s)).toEqual(s);
  });

  it('keeps every preset and every field', () => {
    for (const name of ['mlp-spiral', 'gpt-tiny', 'mlp-deepnorm-deep', 'gpt-postln-nowarmup']) {
      const s = defaultState();
      s.config = presetConfig(name);
      expect(roundTrip(s).config).toEqual(s.config);
    }
  });

  it('keeps awkward numbers exactly', () => {
    const s = defaultState();
    Object.assign(s.config, { lr: 0.000123456789, min_lr: 0.0000123, eps: 1e-12, opt_eps: 3e-9, seed: 4294967295, clip: 0, noise: 1.999, wd: 0.1 + 0.2 });
    expect(roundTrip(s).config).toEqual(s.config);
  });

  it('keeps compare mode, runs, panels, language, log scale, attention view', () => {
    const s = defaultState();
    s.config = presetConfig('gpt-tiny');
    s.mode = 'compare';
    s.runs = [{ placement: 'post', warmup: 0 }, { norm: 'rmsnorm' }, {}];
    s.panels = ['loss', 'heatmap', 'attention'];
    s.lang = 'zh';
    s.logScale = true;
    s.layer = 3;
    s.head = 2;
    expect(roundTrip(s)).toEqual(s);
  });

  it('keeps each experiment', () => {
    for (const e of EXPERIMENTS) {
      const { state, notices } = parse(`exp=${e.id}`);
      expect(notices).toEqual([]);
      expect(runConfigs(state)).toEqual(experimentConfigs(e.id));
      expect(roundTrip(state)).toEqual(state);
    }
  });

  it('reads a preset shortcut and explicit keys over it', () => {
    const { state, notices } = parse('preset=gpt-tiny&lr=0.003');
    expect(notices).toEqual([]);
    expect(state.config).toEqual({ ...presetConfig('gpt-tiny'), lr: 0.003 });
  });

  it('reads kind= as the Model menu does: that kind’s default preset, then explicit keys', () => {
    const seed = defaultState().config.seed;
    const gpt = parse('kind=gpt');
    expect(gpt.notices).toEqual([]);
    expect(gpt.state.config).toEqual({ ...presetConfig('gpt-tiny'), seed });
    expect(parse('kind=gpt&width=256&seed=9').state.config).toEqual({ ...presetConfig('gpt-tiny'), width: 256, seed: 9 });
    // the same kind as the base changes nothing; a preset of that kind stays
    expect(parse('kind=mlp').state.config).toEqual(defaultState().config);
    expect(parse('preset=gpt-small&kind=gpt').state.config).toEqual(presetConfig('gpt-small'));
  });

  it('accepts a leading # or ?, and + for spaces', () => {
    expect(parse('#depth=12').state.config.depth).toBe(12);
    expect(parse('?depth=12').state.config.depth).toBe(12);
  });
});

describe('malformed URLs', () => {
  const d = defaultState();

  it('falls back per field with a notice', () => {
    const { state, notices } = parse('depth=abc&lr=-1&norm=groupnorm&width=64&seed=1.5&warmup=7');
    expect(state.config.depth).toBe(d.config.depth);
    expect(state.config.lr).toBe(d.config.lr);
    expect(state.config.norm).toBe(d.config.norm);
    expect(state.config.seed).toBe(d.config.seed);
    expect(state.config.width).toBe(64);
    expect(state.config.warmup).toBe(7);
    expect(notices.map((n) => n.key).sort()).toEqual(['depth', 'lr', 'norm', 'seed']);
    for (const n of notices) expect(n.reason.length).toBeGreaterThan(0);
  });

  it('says what it used instead: the default, a clamped value, or a repair', () => {
    const bad = parse('lr=-1&norm=groupnorm').notices;
    expect(bad.map((n) => [n.key, n.how, n.used])).toEqual([['norm', 'default', 'layernorm'], ['lr', 'default', '0.01']]);
    const clamped = parse('kind=gpt&depth=100').notices;
    expect(clamped).toEqual([{ key: 'depth', value: '100', reason: 'at most 64 for gpt', how: 'clamped', used: '64' }]);
    expect(parse('kind=gpt&data=spiral').notices.map((n) => [n.how, n.used])).toEqual([['fixed', 'tinyshakespeare']]);
    expect(parse('schedule=cosine&lr=0.01&min_lr=0.5').notices.map((n) => [n.key, n.how, n.used])).toEqual([['min_lr', 'clamped', '0.01']]);
    expect(parse('zzz=1').notices.map((n) => n.how)).toEqual(['ignored']);
    expect(parse('mode=compare&runs=2&b.seed=7').notices.map((n) => [n.how, n.used])).toEqual([['ignored', undefined]]);
  });

  it('rejects out-of-range values of every numeric field', () => {
    for (const f of FIELDS) {
      if (f.type === 'enum') continue;
      const { state, notices } = parse(`${f.key}=${f.max * 10 + 1}`);
      expect(notices.map((n) => n.key), f.key).toContain(f.key);
      expect(state.config[f.key], f.key).toBe(d.config[f.key]);
    }
  });

  it('survives garbage', () => {
    for (const text of ['', '#', '&&&', '===', '#%', '%E0%A4%A', 'a=%ZZ&depth=5', 'mode=', 'runs=99', 'runs=-1', 'panels=,,,',
      'panels=nope', 'lang=fr', 'log=maybe', 'exp=nothing', 'preset=../../etc/passwd', 'b.seed=3', 'a.lr=0.1', 'z.lr=1',
      'b.colour=red', 'b.lr=abc', `depth=${'9'.repeat(500)}`, 'layer=99&head=-1', '__proto__=1', 'constructor=x', 'toString=1']) {
      const r = parse(text);
      expect(r.state.config, text).toBeTruthy();
      for (const f of FIELDS) expect(r.state.config[f.key], `${text} ${f.key}`).toBeDefined();
    }
    expect(parse('a=%ZZ&depth=5').state.config.depth).toBe(5);
    expect(parse('a=%ZZ&depth=5').notices[0].reason).toMatch(/encoding/);
    expect(parse('__proto__=1').notices[0].reason).toMatch(/unknown/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses shared fields per run and keeps the comparison meaningful', () => {
    const { state, notices } = parse('mode=compare&runs=2&b.seed=7&b.data=xor&b.lr=0.1');
    expect(state.runs).toEqual([{ lr: 0.1 }]);
    expect(notices.map((n) => n.key).sort()).toEqual(['b.data', 'b.seed']);
  });

  it('repairs cross-field problems and says so', () => {
    const r1 = parse('kind=gpt&data=spiral');
    expect(r1.state.config.data).toBe('tinyshakespeare');
    expect(r1.notices.map((n) => n.key)).toEqual(['data']);
    const r2 = parse('kind=gpt&width=64&heads=3');
    expect((r2.state.config.width as number) % (r2.state.config.heads as number)).toBe(0);
    expect(r2.notices.map((n) => n.key)).toEqual(['heads']);
    const r3 = parse('kind=gpt&depth=100');
    expect(r3.state.config.depth).toBe(64);
    const r4 = parse('kind=gpt&mode=compare&runs=2&width=64&b.heads=5');
    expect(r4.state.runs).toEqual([{}]);
    expect(r4.notices.map((n) => n.key)).toEqual(['b.heads']);
  });

  it('fixes the run count', () => {
    expect(parse('mode=compare&runs=7').state.runs).toHaveLength(1);
    expect(parse('mode=compare&c.lr=0.1').state.runs).toEqual([{}, { lr: 0.1 }]);
    const r = parse('mode=compare&runs=2&d.lr=0.1');
    expect(r.state.runs).toHaveLength(3);
    expect(r.notices.map((n) => n.key)).toEqual(['runs']);
  });

  it('does not share objects between parses', () => {
    const a = parse('depth=5').state;
    const b = cloneState(a);
    b.config.depth = 6;
    expect(a.config.depth).toBe(5);
  });
});

describe('embed parameters', async () => {
  const { embedOptions } = await import('../../../web/src/embedParams');
  it('reads controls, height and autoplay next to the state', () => {
    expect(embedOptions('preset=postln-vs-preln&controls=lr,warmup&height=420')).toEqual({ controls: ['lr', 'warmup'], height: 420, autoplay: false });
    expect(embedOptions('')).toEqual({ controls: [], height: 0, autoplay: false });
    expect(embedOptions('controls=all&autoplay=1').controls).toBeNull();
    expect(embedOptions('controls=lr,nope,,depth&height=abc').controls).toEqual(['lr', 'depth']);
    expect(embedOptions('height=5').height).toBe(0);
    expect(embedOptions('autoplay').autoplay).toBe(true);
  });
  it('leaves the state parser quiet about them', () => {
    const r = parse('preset=postln-vs-preln&controls=lr,warmup&height=420&autoplay=1&panels=loss,heatmap');
    expect(r.notices).toEqual([]);
    expect(r.state.mode).toBe('compare');
    expect(r.state.panels).toEqual(['loss', 'heatmap']);
  });
});
