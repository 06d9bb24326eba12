// Your own text (issue 10): the page's UTF-8 and vocabulary checks, against the browser's own decoder
// and the core's rules and offsets (tests/cpp/test_data.cpp has the same cases for the C++ side).
import { describe, expect, it } from 'vitest';
import { isTextData, crossProblems, coreDefaults } from '../../../web/src/config/fields';
import { MAX_TEXT_BYTES, MAX_VOCAB, checkText, checkTextBytes, textInfo, utf8Error } from '../../../web/src/owndata/text';
import { problemText } from '../../../web/src/owndata/panel';
import { MAX_POINTS, editPoints, parseCoreNumber, parsePointsCsv, pointsToCsv } from '../../../web/src/owndata/points';
import { readFileSync } from 'node:fs';

const bytes = (...xs: (number | string)[]) =>
  new Uint8Array(xs.flatMap((x) => (typeof x === 'string' ? [...new TextEncoder().encode(x)] : [x])));

describe('utf8Error', () => {
  it('names the same byte offsets as the core for each kind of fault', () => {
    const cases: [Uint8Array, number][] = [
      [bytes('abc', 0x80), 3],                 // a lone continuation byte
      [bytes('ab', 0xc3), 2],                  // cut at the end
      [bytes(0xe6, 0x97, 'x'), 2],             // cut short by an ASCII byte
      [bytes('ok', 0xc0, 0x80), 2],            // overlong NUL
      [bytes(0xe0, 0x80, 0xaf), 1],            // overlong '/'
      [bytes('x', 0xed, 0xa0, 0x80), 2],       // a surrogate, U+D800
      [bytes(0xf4, 0x90, 0x80, 0x80), 1],      // U+110000
      [bytes(0xf5, 0x80, 0x80, 0x80), 0],
      [bytes(0xff), 0],
    ];
    for (const [b, at] of cases) expect(utf8Error(b), Array.from(b).join(',')).toBe(at);
    expect(utf8Error(bytes('床前明月光 aé𠀀'))).toBe(-1);
  });

  it('agrees with the browser decoder (fatal) on 5,000 random byte strings', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    let bad = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 5000; i++) {
      // mostly plausible bytes: lead bytes, continuation bytes and ASCII, so that many strings are valid
      const b = new Uint8Array(1 + Math.floor(rnd() * 6));
      for (let k = 0; k < b.length; k++) {
        const r = rnd();
        b[k] = r < 0.3 ? Math.floor(rnd() * 128) : r < 0.7 ? 0x80 + Math.floor(rnd() * 64) : 0xc0 + Math.floor(rnd() * 64);
      }
      let ok = true;
      try { fatal.decode(b); } catch { ok = false; }
      const at = utf8Error(b);
      if ((at === -1) !== ok) wrong.push(Array.from(b).join(','));
      if (!ok) {
        bad++;
        // the bytes before the offset are a valid start (a character may be left open there)
        try { new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, at), { stream: true }); } catch { wrong.push(`prefix ${at} of ${Array.from(b).join(',')}`); }
      }
    }
    expect(wrong).toEqual([]);
    expect(bad).toBeGreaterThan(250);
    expect(bad).toBeLessThan(4750);
  });
});

describe('checkText', () => {
  const poem = '床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n'.repeat(60);
  it('counts characters (code points) and distinct ones, not UTF-16 units or bytes', () => {
    expect(textInfo('a𠀀é𠀀')).toEqual({ chars: 4, vocab: 3 });
    const r = checkTextBytes(new TextEncoder().encode(poem));
    expect('problem' in r).toBe(false);
    if (!('problem' in r)) expect(r.info).toEqual({ chars: 26 * 60, vocab: 20 });
  });

  it('refuses invalid UTF-8, too many distinct characters, too big, too short, one character', () => {
    const enc = new TextEncoder();
    const withBad = new Uint8Array([...enc.encode('床前明月光'), 0xff, ...enc.encode(poem)]);
    expect(checkTextBytes(withBad)).toEqual({ problem: { kind: 'utf8', offset: 15 } });
    let wide = '';
    for (let i = 0; i < MAX_VOCAB; i++) wide += String.fromCodePoint(0x4e00 + i);
    expect('problem' in checkText(wide)).toBe(false);  // exactly the cap trains
    expect(checkText(wide + '!')).toEqual({ problem: { kind: 'vocab', count: MAX_VOCAB + 1 } });
    expect(checkTextBytes(new Uint8Array(MAX_TEXT_BYTES + 1))).toEqual({ problem: { kind: 'size', bytes: MAX_TEXT_BYTES + 1 } });
    expect(checkText('ab'.repeat(100))).toEqual({ problem: { kind: 'short', chars: 200 } });
    expect(checkText('a'.repeat(5000))).toEqual({ problem: { kind: 'few' } });
    // a pasted string with a lone surrogate: its UTF-8 offset
    expect(checkText('明月' + '\uD800' + poem)).toEqual({ problem: { kind: 'utf8', offset: 6 } });
  });

  it('says each problem in both languages, with the numbers', () => {
    expect(problemText('en', 'a.txt', { kind: 'utf8', offset: 1234 })).toBe('a.txt is not valid UTF-8 at byte 1,234. Save it as UTF-8 and load it again.');
    expect(problemText('zh', 'a.txt', { kind: 'utf8', offset: 15 })).toContain('第 15 字节');
    expect(problemText('en', 'b.txt', { kind: 'vocab', count: 5000 })).toContain('5,000 distinct characters, over the cap of 4,096');
    expect(problemText('zh', 'b.txt', { kind: 'vocab', count: 5000 })).toContain('5,000 个不同字符，超过了 4,096 的上限');
    expect(problemText('en', 'c.txt', { kind: 'size', bytes: 11 * 1048576 })).toContain('11.0 MB, over the limit of 10 MB');
  });
});

describe('text datasets', () => {
  it('a gpt trains on tiny Shakespeare, the Tang poems or your own text; an mlp on none of them', () => {
    for (const d of ['tinyshakespeare', 'tangpoems', 'text']) {
      expect(isTextData(d)).toBe(true);
      expect(crossProblems({ ...coreDefaults(), kind: 'gpt', data: d })).toEqual([]);
      expect(crossProblems({ ...coreDefaults(), kind: 'mlp', data: d }).map((p) => p.key)).toEqual(['data']);
    }
    expect(crossProblems({ ...coreDefaults(), kind: 'gpt', data: 'spiral' }).map((p) => p.key)).toEqual(['data']);
  });
});

describe('points CSV', () => {
  it('reads numbers as the core (strtod) does: tests/cpp/data/csv_numbers.json, which test_data.cpp checks too', () => {
    const { cases } = JSON.parse(readFileSync(new URL('../../cpp/data/csv_numbers.json', import.meta.url), 'utf8')) as { cases: [string, number | null][] };
    let hex = 0;
    for (const [field, want] of cases) {
      const r = parsePointsCsv(`${field},1,0\n0,0,1\n0.1,-1,0\n0,0.1,1\n`);
      if (want === null) {
        expect('problem' in r && r.problem, JSON.stringify(field)).toEqual({ kind: 'x', line: 1, value: field });
        expect(parseCoreNumber(field), JSON.stringify(field)).toBeNull();
      } else {
        expect('points' in r && r.points[0], JSON.stringify(field)).toEqual({ x: want, y: 1, label: 0 });
        expect(Object.is(parseCoreNumber(field), want), JSON.stringify(field)).toBe(true);  // exactly, -0 included
        if (/0x/i.test(field)) hex++;
      }
    }
    expect(hex).toBeGreaterThanOrEqual(10);
    // labels and y go through the same reader
    expect(parsePointsCsv('0x1p-1,-0x.8,0x1\n0,0,0\n1,1,1\n-1,1,0\n')).toEqual({ points: [
      { x: 0.5, y: -0.5, label: 1 }, { x: 0, y: 0, label: 0 }, { x: 1, y: 1, label: 1 }, { x: -1, y: 1, label: 0 }] });
  });

  it('reads x,y,label with a header, blank lines, spaces and CRLF', () => {
    const r = parsePointsCsv('x,y,label\r\n0.5,-0.25,1\r\n\r\n -1 , 1.5 ,0\n.5,5.,1\n1e-3,0,0\n');
    expect(r).toEqual({ problem: { kind: 'outside', line: 5 } });  // 5. is 5, outside the square
    expect(parsePointsCsv('x,y,label\r\n0.5,-0.25,1\r\n\r\n -1 , 1.5 ,0\n.5,1.,1\n1e-3,0,0\n')).toEqual({ points: [
      { x: 0.5, y: -0.25, label: 1 }, { x: -1, y: 1.5, label: 0 }, { x: 0.5, y: 1, label: 1 }, { x: 0.001, y: 0, label: 0 }] });
  });

  it('names the first bad line as the core does', () => {
    const ok = '0,0,0\n1,1,1\n-1,1,0\n';
    const cases: [string, unknown][] = [
      [ok + '0.5,0.5\n', { kind: 'fields', line: 4, n: 2 }],
      ['x,y,label\n' + ok + 'a,0,1\n', { kind: 'x', line: 5, value: 'a' }],
      [ok + '\n0, 1e999, 1\n', { kind: 'y', line: 5, value: '1e999' }],
      [ok + '0,0,2\n', { kind: 'label', line: 4, value: '2' }],
      [ok + '0,0,0.5\n', { kind: 'label', line: 4, value: '0.5' }],
      [ok + '1.6,0,1\n', { kind: 'outside', line: 4 }],
      [ok, { kind: 'few', n: 3 }],
      ['y,x,label\n' + ok, { kind: 'x', line: 1, value: 'y' }],
      [ok + 'nan,0,1\n', { kind: 'x', line: 4, value: 'nan' }],
    ];
    for (const [csv, want] of cases) expect(parsePointsCsv(csv), csv).toEqual({ problem: want });
    let many = '';
    for (let i = 0; i <= MAX_POINTS; i++) many += `0.1,0.2,${i % 2}\n`;
    expect(parsePointsCsv(many)).toEqual({ problem: { kind: 'toomany', line: MAX_POINTS + 1 } });
    expect('points' in parsePointsCsv(many.slice(0, -10))).toBe(true);
  });

  it('round-trips through pointsToCsv, and the eraser removes the nearest point within reach', () => {
    const pts = [{ x: 0.1, y: 0.2, label: 0 as const }, { x: -1.25, y: 1e-7, label: 1 as const }, { x: 1 / 3, y: -0.5, label: 1 as const },
      { x: 0, y: 0, label: 0 as const }];
    expect(parsePointsCsv(pointsToCsv(pts))).toEqual({ points: pts });
    expect(editPoints(pts, 'add1', 0.7, -0.7)).toEqual([...pts, { x: 0.7, y: -0.7, label: 1 }]);
    expect(editPoints(pts, 'erase', 0.12, 0.21)).toEqual(pts.filter((_, i) => i !== 0));
    expect(editPoints(pts, 'erase', 0.9, 0.9)).toEqual(pts);  // nothing within reach
    expect(editPoints(pts, 'erase', 0.35, -0.48)).toEqual(pts.filter((_, i) => i !== 2));
    // of two points within reach, the nearer goes
    const pair = [{ x: 0, y: 0, label: 0 as const }, { x: 0.05, y: 0, label: 1 as const }];
    expect(editPoints(pair, 'erase', 0.04, 0.01)).toEqual([pair[0]]);
    expect(editPoints(pair, 'erase', 0.01, 0.01)).toEqual([pair[1]]);
    expect(editPoints(pts, 'add0', 2, -3)).toEqual([...pts, { x: 1.5, y: -1.5, label: 0 }]);  // clamped into the square
  });
});
