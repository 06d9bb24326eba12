// Hostile links (issue 9, "The page"): names of Object.prototype are unknown presets, not a blank
// page or silent defaults, and an oversized hash is refused at once with a notice.
import { describe, expect, it } from 'vitest';
import { defaultState } from '../../../web/src/state';
import { parse } from '../../../web/src/url';
import { embedOptions } from '../../../web/src/embedParams';
import { presetConfig } from '../../../web/src/config/presets';
import { en } from '../../../web/src/i18n/en';
import { zh } from '../../../web/src/i18n/zh';

const PROTO_NAMES = [...Object.getOwnPropertyNames(Object.prototype), 'prototype', 'hasOwnProperty', 'toString'];

describe('prototype names are unknown presets', () => {
  it.each(PROTO_NAMES)('preset=%s gives the defaults with an "unknown preset" notice', (name) => {
    for (const text of [`preset=${name}`, `#preset=${encodeURIComponent(name)}`, `?preset=${name}&controls=lr`]) {
      const { state, notices } = parse(text);
      expect(state.config).toEqual(defaultState().config);
      expect(notices).toEqual([expect.objectContaining({ key: 'preset', value: name, reason: 'unknown preset' })]);
    }
    expect(() => presetConfig(name)).toThrow(/unknown preset/);
  });

  it('exp= with a prototype name is an unknown experiment', () => {
    for (const name of ['constructor', '__proto__', 'toString']) {
      expect(parse(`exp=${name}`).notices).toEqual([expect.objectContaining({ key: 'exp', reason: 'unknown experiment' })]);
    }
  });
});

describe('an oversized link', () => {
  it('is refused quickly, with one notice, whatever it holds', () => {
    for (const text of ['a'.repeat(1 << 20), 'preset=gpt-tiny&' + 'lr=1&'.repeat(200_000), '#' + '%zz&'.repeat(250_000)]) {
      const t0 = performance.now();
      const { state, notices } = parse(text);
      embedOptions(text);
      expect(performance.now() - t0).toBeLessThan(200);
      expect(state.config).toEqual(defaultState().config);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ key: '#', msg: 'notice.too_long' });
    }
  });

  it('up to the cap is still read', () => {
    const text = 'preset=gpt-tiny&' + 'x'.repeat(8000);
    expect(parse(text).state.config).toEqual(presetConfig('gpt-tiny'));
  });

  it('says so in English and Chinese', () => {
    expect(en['notice.too_long']).toMatch(/\{n\}.*\{max\}|\{max\}.*\{n\}/);
    expect(zh['notice.too_long']).toMatch(/\{n\}.*\{max\}|\{max\}.*\{n\}/);
  });
});
