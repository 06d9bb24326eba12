// The embed-only parameters that are given but cannot be used are named in a notice (issue 20), and the
// good ones give none: checked against embedOptions, which decides what is used.
import { describe, expect, it } from 'vitest';
import { embedNotices, embedOptions } from '../../../web/src/embedParams';

describe('embedNotices', () => {
  it('names a height outside 200..4000 or not a number, and takes none for a good one', () => {
    expect(embedNotices('preset=mlp-spiral&height=420')).toEqual([]);
    expect(embedNotices('height=200')).toEqual([]);
    expect(embedNotices('height=4000')).toEqual([]);
    for (const bad of ['199', '4001', 'abc', '-5', '1e9']) {
      expect(embedOptions(`height=${bad}`).height).toBe(0);
      const n = embedNotices(`height=${bad}`);
      expect(n.map((x) => [x.key, x.value, x.how])).toEqual([['height', bad, 'ignored']]);
    }
    expect(embedNotices('preset=mlp-spiral')).toEqual([]);  // no height: natural height, nothing to say
  });

  it('names controls that are not settings, and only those', () => {
    expect(embedNotices('controls=lr,warmup')).toEqual([]);
    expect(embedNotices('controls=all')).toEqual([]);
    expect(embedNotices('controls=none')).toEqual([]);
    const n = embedNotices('controls=lr,learning_rate,warmup,foo');
    expect(n.map((x) => [x.key, x.value, x.reason])).toEqual([['controls', 'learning_rate,foo', 'not settings']]);
    expect(embedOptions('controls=lr,learning_rate,warmup,foo').controls).toEqual(['lr', 'warmup']);
  });
});
