// Your own text through the wasm engine (issue 10): a JS string of any script reaches the core as UTF-8
// (embind), the vocabulary comes back as the text's distinct characters, samples are characters of it,
// checkpoints keep it, and the core's errors (vocabulary cap) arrive as they are in native builds.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { sharedModule, Trainer } from '../../web/src/engine/node';
import type { ResnormModule } from '../../web/src/engine/wasm';
import { repo, tinyGpt } from './engine-helpers';

let mod: ResnormModule;
beforeAll(async () => { mod = await sharedModule(); });

const poem = '床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n'.repeat(40) + '𠀀a';

describe('your own text in the wasm engine', () => {
  it('builds the vocabulary from code points, samples them, and round-trips a checkpoint', () => {
    const cfg = { ...tinyGpt, data: { name: 'text' } };
    const t = Trainer.create(mod, cfg, { text: poem });
    const vocab = t.info().vocab;
    // the sorted distinct code points, as the page computes them
    expect([...vocab]).toEqual([...new Set(poem)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
    expect([...vocab].length).toBe(22);  // 19 CJK characters and punctuation, newline, 'a', U+20000
    t.step(3);
    const s = t.sample('明月', 30, 1, 0, 5);
    expect([...s].length).toBe(30);
    expect([...s].every((c) => vocab.includes(c))).toBe(true);
    expect(t.sample('', 5, 0, 0, 1).length).toBeGreaterThan(0);  // empty prompt: starts after a newline
    expect(() => t.sample('明x', 5, 1, 0, 1)).toThrowError(/prompt: character "x" \(U\+0078\) at position 1 is not in the vocabulary/);
    const bytes = t.save();
    const info = mod.checkpointInfo(bytes);
    expect(info.vocab).toBe(vocab);
    const b = Trainer.create(mod, JSON.parse(info.config), { vocab: info.vocab });
    b.load(bytes);
    expect(b.sample('明月', 30, 1, 0, 5)).toBe(s);
    // attention over Chinese characters (the playground's attention view)
    expect(t.attention('床前明月光', 0).T).toBe(5);
    t.dispose(); b.dispose();
  });

  it('refuses a text over the vocabulary cap with the count and the cap, as native builds do', () => {
    let wide = '';
    for (let i = 0; i < 4100; i++) wide += String.fromCodePoint(0x4e00 + i);
    expect(() => Trainer.create(mod, tinyGpt, { text: wide + wide })).toThrowError(
      /data: the text has 4100 distinct characters, over the cap of 4096/);
  });

  it('trains on the built-in Tang poems', () => {
    const text = readFileSync(resolve(repo, 'web/public/data/tangpoems.txt'), 'utf8');
    const t = Trainer.create(mod, { ...tinyGpt, data: { name: 'tangpoems' } }, { text });
    expect([...t.info().vocab].length).toBe(3000);
    const [first] = t.step(1);
    expect(first.loss).toBeGreaterThan(Math.log(3000) - 1.5);
    expect(first.loss).toBeLessThan(Math.log(3000) + 1.5);
    t.dispose();
  });
});
