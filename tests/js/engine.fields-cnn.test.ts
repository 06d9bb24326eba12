// The page's own config checks for cnn (web/src/config/fields.ts crossProblems, which the controls and
// links use before the engine sees a config) against the core's validation through the wasm: a config
// the page calls fine must be accepted by config.cpp, and one it flags must be refused, over every
// kind x residual x norm x placement x eps x dataset combination that touches the cnn rules.
import { beforeAll, describe, expect, it } from 'vitest';

import { coreDefaults, crossProblems, fixCross, toEngineConfig, type FlatConfig } from '../../web/src/config/fields';
import { kindConfig, presetConfig, PRESET_NAMES } from '../../web/src/config/presets';
import { sharedModule } from '../../web/src/engine/node';
import type { ResnormModule } from '../../web/src/engine/wasm';

let mod: ResnormModule;
beforeAll(async () => { mod = await sharedModule(); });

function coreAccepts(c: FlatConfig): string | null {
  try { mod.normalizeConfig(JSON.stringify(toEngineConfig(c))); return null; } catch (e) { return (e as Error).message; }
}

describe('cnn config rules: page vs core', () => {
  it('agree on every combination of kind, residual, norm, placement, eps and dataset', () => {
    let n = 0;
    for (const kind of ['mlp', 'gpt', 'cnn'])
      for (const data of ['spiral', 'tinyshakespeare', 'digits'])
        for (const residual of ['none', 'identity', 'rezero', 'deepnorm', 'doubled'])
          for (const norm of ['none', 'layernorm', 'rmsnorm', 'batchnorm'])
            for (const placement of ['pre', 'post', 'sandwich'])
              for (const eps of [0, 1e-5]) {
                const base = kind === 'mlp' ? coreDefaults() : kindConfig(kind as 'gpt' | 'cnn', 1);
                const c: FlatConfig = { ...base, kind, data, residual, norm, placement, eps, depth: 2, width: 8 };
                const page = crossProblems(c);
                const core = coreAccepts(c);
                const what = JSON.stringify({ kind, data, residual, norm, placement, eps });
                expect(page.length === 0, `${what}: page ${JSON.stringify(page)}, core ${core}`).toBe(core === null);
                if (page.length) {
                  // the page's repair gives a config the core accepts
                  expect(coreAccepts(fixCross(c)), `${what} fixed`).toBeNull();
                }
                n++;
              }
    expect(n).toBe(3 * 3 * 5 * 4 * 3 * 2);
  });

  it('names the core\'s reasons for the cnn refusals', () => {
    const cnn = presetConfig('cnn-digits');
    const reason = (c: FlatConfig, key: string) => crossProblems(c).find((p) => p.key === key)?.reason ?? '';
    expect(reason({ ...cnn, residual: 'deepnorm' }, 'residual')).toMatch(/deepnorm is not allowed for cnn/);
    expect(coreAccepts({ ...cnn, residual: 'deepnorm' })).toMatch(/deepnorm.*not allowed for model.kind = "cnn"/);
    expect(reason({ ...cnn, placement: 'sandwich' }, 'placement')).toMatch(/post = ResNet v1, pre = ResNet v2/);
    expect(coreAccepts({ ...cnn, placement: 'sandwich' })).toMatch(/post = ResNet v1, pre = ResNet v2/);
    expect(reason({ ...cnn, data: 'spiral' }, 'data')).toMatch(/digits/);
    expect(reason({ ...cnn, res: 21 }, 'res')).toMatch(/14\|28/);
    expect(coreAccepts({ ...cnn, res: 21 })).toMatch(/allowed: 14\|28/);
    expect(reason({ ...cnn, depth: 65 }, 'depth')).toMatch(/at most 64 for cnn/);
    expect(coreAccepts({ ...cnn, depth: 65 })).toMatch(/depth/);
    expect(crossProblems({ ...cnn, eps: 0 })).toEqual([]);
    expect(coreAccepts({ ...cnn, eps: 0 })).toBeNull();
  });

  it('has every cnn preset valid on the page and in the core', () => {
    const cnnPresets = PRESET_NAMES.filter((n) => n.startsWith('cnn-'));
    expect(cnnPresets).toEqual(expect.arrayContaining(['cnn-digits', 'cnn-plain-8', 'cnn-plain-20', 'cnn-plain-32', 'cnn-residual-8', 'cnn-residual-20', 'cnn-residual-32']));
    for (const name of cnnPresets) {
      const c = presetConfig(name);
      expect(crossProblems(c), name).toEqual([]);
      expect(coreAccepts(c), name).toBeNull();
      // the page's flat config carries the preset into the same core config the CLI would build
      expect(JSON.parse(mod.normalizeConfig(JSON.stringify(toEngineConfig(c))))).toEqual(JSON.parse(mod.normalizeConfig(mod.presetJson(name))));
    }
  });
});
