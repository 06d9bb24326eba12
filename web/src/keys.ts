// The keyboard shortcuts: which key does what (keyAction, pure, unit-tested in
// tests/web/unit/keys.test.ts) and the help dialog that lists them. The App runs the actions.
import { h } from './dom';
import type { MessageKey } from './i18n';

export type KeyAction = 'toggle' | 'step' | 'reset' | 'mode' | 'log' | 'experiments' | 'help' | 'escape' | 'none';

export interface KeyLike { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean }
export interface TargetLike { tagName?: string; isContentEditable?: boolean }

/**
 * The action of a key pressed on `target` (the event's first target, inside shadow roots too), or
 * null when the key is not the page's (the browser keeps it: typing in a field, a modifier held,
 * Space or → on a button). 'none': the page's key, with nothing to do in an embed (compare mode and
 * the experiments are the main page's).
 */
export function keyAction(e: KeyLike, target: TargetLike | undefined, embed: boolean): KeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const tag = target?.tagName;
  if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || target?.isContentEditable) return null;
  const inButton = tag === 'BUTTON' || tag === 'SUMMARY' || tag === 'A';
  switch (e.key) {
    case ' ': return inButton ? null : 'toggle';  // space on a button presses that button
    case 'n': case 'N': return 'step';
    case 'ArrowRight': return inButton ? null : 'step';
    case 'r': case 'R': return 'reset';
    case 'c': case 'C': return embed ? 'none' : 'mode';
    case 'l': case 'L': return 'log';
    case 'e': case 'E': return embed ? 'none' : 'experiments';
    case '?': return 'help';
    case 'Escape': return 'escape';
    default: return null;
  }
}

/** The help dialog's rows: the key and what it does. */
export const KEY_ROWS: readonly [string, MessageKey][] = [
  ['Space', 'keys.space'], ['N / →', 'keys.n'], ['R', 'keys.r'], ['C', 'keys.c'], ['L', 'keys.l'], ['E', 'keys.e'], ['?', 'keys.help'],
];

/** The "?" dialog. */
export function renderKeys(t: (k: MessageKey) => string, close: () => void): HTMLElement {
  return h('div', { class: 'rp-keys', role: 'dialog', 'aria-label': t('keys.title') },
    h('h3', {}, t('keys.title')),
    h('dl', {}, ...KEY_ROWS.flatMap(([k, m]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, t(m))])),
    h('button', { type: 'button', class: 'rp-btn', onclick: close }, t('notice.dismiss')));
}
