// The embed-only parameters, read from the same `key=value&...` text as the state (whose parser
// ignores them): which controls (none by default, `all`, or field keys), height, autoplay.
import { FIELD_BY_KEY } from './config/fields';
import { splitParams, tooLong } from './url';

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
