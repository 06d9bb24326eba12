// The keyboard shortcuts (keys.ts): which key does what, and when the page leaves a key alone.
import { describe, expect, it } from 'vitest';
import { KEY_ROWS, keyAction } from '../../../web/src/keys';
import { hasKey } from '../../../web/src/i18n';

const on = (tagName?: string, isContentEditable = false) => ({ tagName, isContentEditable });
const k = (key: string, mods: { ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean } = {}) => ({ key, ...mods });

describe('keyAction', () => {
  it('maps each key of the help dialog to its action, either case', () => {
    const body = on('BODY');
    expect(keyAction(k(' '), body, false)).toBe('toggle');
    for (const key of ['n', 'N', 'ArrowRight']) expect(keyAction(k(key), body, false)).toBe('step');
    for (const key of ['r', 'R']) expect(keyAction(k(key), body, false)).toBe('reset');
    for (const key of ['c', 'C']) expect(keyAction(k(key), body, false)).toBe('mode');
    for (const key of ['l', 'L']) expect(keyAction(k(key), body, false)).toBe('log');
    for (const key of ['e', 'E']) expect(keyAction(k(key), body, false)).toBe('experiments');
    expect(keyAction(k('?'), body, false)).toBe('help');
    expect(keyAction(k('Escape'), body, false)).toBe('escape');
    expect(keyAction(k('x'), body, false)).toBeNull();
    expect(keyAction(k('Enter'), body, false)).toBeNull();
  });

  it('leaves typing, modifier chords, and Space / → on buttons and links to the browser', () => {
    for (const tag of ['INPUT', 'SELECT', 'TEXTAREA']) expect(keyAction(k('r'), on(tag), false)).toBeNull();
    expect(keyAction(k('r'), on('DIV', true), false)).toBeNull();
    for (const mod of ['ctrlKey', 'metaKey', 'altKey'] as const) expect(keyAction(k('r', { [mod]: true }), on('BODY'), false)).toBeNull();
    for (const tag of ['BUTTON', 'SUMMARY', 'A']) {
      expect(keyAction(k(' '), on(tag), false)).toBeNull();
      expect(keyAction(k('ArrowRight'), on(tag), false)).toBeNull();
      expect(keyAction(k('n'), on(tag), false)).toBe('step');  // a letter is the page's on a button too
    }
    expect(keyAction(k(' '), undefined, false)).toBe('toggle');
  });

  it('in an embed, C and E are taken but do nothing (compare mode and experiments are the main page\'s)', () => {
    expect(keyAction(k('c'), on('BODY'), true)).toBe('none');
    expect(keyAction(k('E'), on('BODY'), true)).toBe('none');
    expect(keyAction(k('l'), on('BODY'), true)).toBe('log');
  });

  it('the help dialog lists keys whose text exists', () => {
    expect(KEY_ROWS.length).toBe(7);
    for (const [, m] of KEY_ROWS) expect(hasKey(m)).toBe(true);
  });
});
