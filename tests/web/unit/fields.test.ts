// The field table against the core: defaults equal config.h's, every preset parses, and the
// nested <-> flat config conversion round-trips.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FIELDS, FIELD_BY_KEY, checkValue, coreDefaults, crossProblems, fixCross, fromEngineConfig, parseFieldValue, toEngineConfig,
} from '../../../web/src/config/fields';
import { PRESET_JSON, PRESET_NAMES, presetConfig } from '../../../web/src/config/presets';

const header = readFileSync(new URL('../../../cpp/core/config.h', import.meta.url), 'utf8');

describe('field table', () => {
  it('has every preset from cpp/presets', () => {
    expect(PRESET_NAMES).toEqual(expect.arrayContaining(['mlp-spiral', 'gpt-tiny', 'gpt-postln-nowarmup', 'gpt-preln-nowarmup', 'mlp-plain-deep']));
    for (const name of PRESET_NAMES) {
      const c = presetConfig(name);
      for (const f of FIELDS) expect(checkValue(f, c[f.key]), `${name}.${f.key}`).toBeNull();
      expect(crossProblems(c), name).toEqual([]);
    }
  });

  it('uses config.h defaults', () => {
    // e.g. `int depth = 8;`, `double lr = 1e-3;`, `ModelKind kind = ModelKind::Mlp;`, `uint32_t seed = 1337;`
    const seen: string[] = [];
    const structs: Record<string, string> = { model: 'ModelConfig', data: 'DataConfig', optim: 'OptimConfig', eval: 'EvalConfig', seed: 'Config' };
    for (const f of FIELDS) {
      const member = f.path.split('.').pop()!;
      const body = new RegExp(`struct ${structs[f.path.split('.')[0]]} \\{([^}]*)\\}`).exec(header)![1];
      const num = new RegExp(`\\b(?:int|double|uint32_t)\\s+(?:[\\w\\s=.,-]*,\\s*)?${member}\\s*=\\s*([-0-9.e]+)`).exec(body);
      const en = new RegExp(`\\b\\w+\\s+${member}\\s*=\\s*\\w+::(\\w+);`).exec(body);
      const str = new RegExp(`std::string\\s+${member}\\s*=\\s*"([^"]+)"`).exec(body);
      if (f.type !== 'enum' && num) { expect(f.def, f.key).toBe(Number(num[1])); seen.push(f.key); }
      else if (f.type === 'enum' && en) { expect(f.def.toLowerCase(), f.key).toBe(en[1].toLowerCase()); seen.push(f.key); }
      else if (f.type === 'enum' && str) { expect(f.def, f.key).toBe(str[1]); seen.push(f.key); }
    }
    // the regexes found nearly all of them (a sanity check on the check itself)
    expect(seen.length).toBeGreaterThanOrEqual(FIELDS.length - 4);
  });

  it('round-trips flat <-> nested configs', () => {
    for (const name of PRESET_NAMES) {
      const c = presetConfig(name);
      const back = fromEngineConfig(toEngineConfig(c));
      expect(back.problems).toEqual([]);
      expect(back.config).toEqual(c);
    }
  });

  it('reports unknown keys and bad values instead of throwing', () => {
    const r = fromEngineConfig({ model: { depth: -1, colour: 'red' }, optim: { lr: 'fast' }, seed: 3 });
    expect(r.problems).toHaveLength(3);
    expect(r.config.depth).toBe(coreDefaults().depth);
    expect(r.config.seed).toBe(3);
    expect(fromEngineConfig([1, 2]).problems[0]).toMatch(/object/);
  });

  it('parses values strictly', () => {
    const lr = FIELD_BY_KEY.get('lr')!;
    expect(parseFieldValue(lr, '0.01').value).toBe(0.01);
    expect(parseFieldValue(lr, '1e-3').value).toBe(0.001);
    expect(parseFieldValue(lr, '0').error).toMatch(/range/);
    expect(parseFieldValue(lr, '0x10').error).toBeTruthy();
    expect(parseFieldValue(lr, 'Infinity').error).toBeTruthy();
    expect(parseFieldValue(lr, ' 1').error).toBeTruthy();
    expect(parseFieldValue(FIELD_BY_KEY.get('depth')!, '2.5').error).toMatch(/integer/);
    expect(parseFieldValue(FIELD_BY_KEY.get('norm')!, 'groupnorm').error).toMatch(/layernorm/);
    expect(parseFieldValue(FIELD_BY_KEY.get('norm')!, 'batchnorm').value).toBe('batchnorm');  // issue 11: valid for mlp and cnn
    expect(parseFieldValue(FIELD_BY_KEY.get('eps')!, '0').value).toBe(0);  // issue 11: the article's LayerNorm without eps
    expect(parseFieldValue(FIELD_BY_KEY.get('seed')!, '4294967295').value).toBe(4294967295);
    expect(parseFieldValue(FIELD_BY_KEY.get('seed')!, '4294967296').error).toBeTruthy();
  });

  it('repairs cross-field problems', () => {
    const c = { ...presetConfig('gpt-tiny'), data: 'spiral', heads: 3, depth: 100 };
    expect(crossProblems(c).map((p) => p.key).sort()).toEqual(['data', 'depth', 'heads']);
    const f = fixCross(c);
    expect(crossProblems(f)).toEqual([]);
    expect(f.data).toBe('tinyshakespeare');
    expect((f.width as number) % (f.heads as number)).toBe(0);
    expect(f.depth).toBe(64);
  });

  it('keeps the preset JSON as loaded from cpp/presets', () => {
    const raw = JSON.parse(readFileSync(new URL('../../../cpp/presets/gpt-postln-nowarmup.json', import.meta.url), 'utf8'));
    expect(PRESET_JSON['gpt-postln-nowarmup']).toEqual(raw);
  });
});
