// The embed-only parameters, read from the same `key=value&...` text as the state (whose parser
// ignores them): which controls (none by default, `all`, or field keys), height, autoplay.
import { FIELD_BY_KEY } from './config/fields';
import { splitParams, tooLong } from './url';
import type { Notice } from './state';

export interface EmbedParams { controls: string[] | null; height: number; autoplay: boolean }

export function embedOptions(text: string): EmbedParams {
  const params = tooLong(text) ? [] : splitParams(text, []);  // parse() gives the notice
  const get = (k: string) => params.filter((p) => p[0] === k).pop()?.[1];
  const c = get('controls');
  const controls = c === 'all' ? null : c === undefined || c === '' || c === 'none' ? [] : c.split(',').map((x) => x.trim()).filter((x) => FIELD_BY_KEY.has(x));
  const hRaw = Number(get('height'));
  const height = Number.isFinite(hRaw) && hRaw >= 200 && hRaw <= 4000 ? Math.round(hRaw) : 0;
  const a = get('autoplay');
  return { controls, height, autoplay: a === '1' || a === 'true' || a === '' };
}

/** The embed-only parameters that were given but not used, as notices (issue 20: bad input is named). */
export function embedNotices(text: string): Notice[] {
  const params = tooLong(text) ? [] : splitParams(text, []);
  const get = (k: string) => params.filter((p) => p[0] === k).pop()?.[1];
  const out: Notice[] = [];
  const h = get('height');
  if (h !== undefined && h !== '' && embedOptions(text).height === 0)
    out.push({ key: 'height', value: h.slice(0, 40), reason: 'not a height in px from 200 to 4000, so the widget takes its natural height', how: 'ignored' });
  const c = get('controls');
  if (c && c !== 'all' && c !== 'none') {
    const bad = c.split(',').map((x) => x.trim()).filter((x) => x && !FIELD_BY_KEY.has(x));
    if (bad.length) out.push({ key: 'controls', value: bad.join(',').slice(0, 60), reason: bad.length === 1 ? 'not a setting' : 'not settings', how: 'ignored' });
  }
  return out;
}
