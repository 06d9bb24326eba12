// The page's state (state.ts) to and from the URL hash, or an embed's query string: every config field
// is written; reading checks each value, falls back per field with a notice, and refuses oversized or
// hostile text before it is split.
import {
  FIELDS, FIELD_BY_KEY, crossProblems, fixCross, mergeConfig, parseFieldValue, parseNumber, type FlatConfig,
} from './config/fields';
import { isPreset, kindConfig, presetConfig } from './config/presets';
import { EXPERIMENTS, experimentState } from './experiments';
import { parseEdits, serializeEdits } from './edits';
import {
  LANGS, MAX_RUNS, PANELS, RUN_LETTERS, cloneState, defaultState, type AppState, type Lang, type Notice, type PanelId,
} from './state';

/**
 * The longest link text read (characters after '#' or '?'). A full state is about 1 KB; anything
 * far longer is refused before it is split, so a huge hash cannot freeze the tab.
 */
export const MAX_PARAM_TEXT = 8192;

/** The notice for a link text over MAX_PARAM_TEXT, or null. */
export function tooLong(text: string): Notice | null {
  if (text.length <= MAX_PARAM_TEXT + 1) return null;
  return { key: '#', value: '', reason: `longer than ${MAX_PARAM_TEXT} characters`, how: 'ignored', msg: 'notice.too_long', vars: { n: text.length, max: MAX_PARAM_TEXT } };
}

// ---------------------------------------------------------------- to the hash

const fmt = (v: string | number) => encodeURIComponent(String(v));

/** The state as `key=value&...` (no leading '#'). Config fields are always all written. */
export function serialize(s: AppState): string {
  const parts: string[] = [];
  parts.push(`mode=${s.mode}`);
  if (s.exp) parts.push(`exp=${fmt(s.exp)}`);
  for (const f of FIELDS) parts.push(`${f.key}=${fmt(s.config[f.key])}`);
  if (s.mode === 'compare' || s.runs.length) {
    parts.push(`runs=${s.runs.length + 1}`);
    s.runs.forEach((o, i) => {
      for (const f of FIELDS) if (o[f.key] !== undefined) parts.push(`${RUN_LETTERS[i + 1]}.${f.key}=${fmt(o[f.key]!)}`);
    });
  }
  if (s.edits.length) parts.push(`edits=${fmt(serializeEdits(s.edits))}`);
  parts.push(`panels=${s.panels.join(',')}`);
  parts.push(`log=${s.logScale ? 1 : 0}`);
  parts.push(`lang=${s.lang}`);
  if (s.config.kind === 'gpt') parts.push(`layer=${s.layer}`, `head=${s.head}`);
  return parts.join('&');
}

// ---------------------------------------------------------------- from the hash

/** Splits `a=1&b=2` (leading '#' or '?' allowed). Undecodable pieces are reported, not thrown. */
export function splitParams(text: string, notices: Notice[]): [string, string][] {
  const out: [string, string][] = [];
  const body = text.replace(/^[#?]/, '');
  if (!body) return out;
  for (const piece of body.split('&')) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    const rawK = eq < 0 ? piece : piece.slice(0, eq);
    const rawV = eq < 0 ? '' : piece.slice(eq + 1);
    try {
      out.push([decodeURIComponent(rawK.replace(/\+/g, ' ')), decodeURIComponent(rawV.replace(/\+/g, ' '))]);
    } catch {
      notices.push({ key: rawK.slice(0, 40), value: rawV.slice(0, 40), reason: 'not valid URL encoding' });
    }
  }
  return out;
}

/** Keys the state reads besides config fields and `x.field` run overrides. */
const STATE_KEYS = new Set(['mode', 'exp', 'preset', 'runs', 'edits', 'panels', 'log', 'lang', 'layer', 'head', 'controls', 'height', 'autoplay']);

/**
 * Reads state from `key=value&...`. Every key is checked on its own: a bad value falls back to the
 * default for that key and adds a notice; the rest still applies. Never throws.
 * Order: defaults, then `preset=`, then `exp=`, then the explicit keys.
 */
export function parse(text: string, base: AppState = defaultState()): { state: AppState; notices: Notice[] } {
  const long = tooLong(text);
  if (long) return { state: cloneState(base), notices: [long] };
  const notices: Notice[] = [];
  const params = splitParams(text, notices);
  const s = cloneState(base);
  const get = (k: string) => { for (let i = params.length - 1; i >= 0; i--) if (params[i][0] === k) return params[i][1]; return undefined; };
  const bad = (key: string, value: string, reason: string, how: Notice['how'] = 'ignored') => {
    const n: Notice = { key, value: value.slice(0, 60), reason, how };
    notices.push(n);
    return n;
  };
  /** Per-field fallbacks: what the field ends up as is filled in once everything is read. */
  const fellBack: [Notice, string][] = [];

  const preset = get('preset');
  if (preset !== undefined) {
    if (isPreset(preset)) s.config = presetConfig(preset);
    else if (EXPERIMENTS.some((e) => e.id === preset)) Object.assign(s, experimentState(preset, s));
    else bad('preset', preset, 'unknown preset');
  }
  const exp = get('exp');
  if (exp !== undefined && exp !== '') {
    if (EXPERIMENTS.some((e) => e.id === exp)) Object.assign(s, experimentState(exp, s));
    else bad('exp', exp, 'unknown experiment');
  }

  const mode = get('mode');
  if (mode !== undefined) {
    if (mode === 'single' || mode === 'compare') s.mode = mode;
    else bad('mode', mode, 'allowed: single|compare');
  }

  // A different model kind starts from that kind's default preset, as the Model menu does (a gpt
  // with the MLP's widths would be no model anyone chose); explicit keys then apply over it.
  const kindRaw = get('kind');
  if ((kindRaw === 'mlp' || kindRaw === 'gpt' || kindRaw === 'cnn') && kindRaw !== s.config.kind) s.config = kindConfig(kindRaw, s.config.seed);

  // Config fields of run A. Values checked per field; problems between fields are repaired below.
  const given = new Set<string>();
  for (const f of FIELDS) {
    const raw = get(f.key);
    if (raw === undefined) continue;
    const { value, error } = parseFieldValue(f, raw);
    if (error) fellBack.push([bad(f.key, raw, error, 'default'), f.key]);
    else { s.config[f.key] = value!; given.add(f.key); }
  }
  // A gpt link that names no dataset means the text, as in the JSON config.
  if (s.config.kind === 'gpt' && !given.has('data')) s.config.data = 'tinyshakespeare';
  if (s.config.kind === 'cnn' && !given.has('data')) s.config.data = 'digits';
  const crossed = crossProblems(s.config).map((p) => bad(p.key, String(s.config[p.key]), p.reason, p.key === 'depth' || p.key === 'min_lr' ? 'clamped' : 'fixed'));
  s.config = fixCross(s.config);
  for (const n of crossed) n.used = String(s.config[n.key]);

  // Runs B..D: `runs=N` and `b.lr=...` overrides. Shared fields cannot differ between runs.
  const runsRaw = get('runs');
  const overrides: Partial<FlatConfig>[] = [];
  let highest = 0;
  for (const [k, raw] of params) {
    const m = /^([a-d])\.(.+)$/.exec(k);
    if (!m) continue;
    const idx = RUN_LETTERS.indexOf(m[1] as (typeof RUN_LETTERS)[number]);
    const f = FIELD_BY_KEY.get(m[2]);
    if (idx === 0) { bad(k, raw, 'run a is the base: use the plain key'); continue; }
    if (!f) { bad(k, raw, 'unknown field'); continue; }
    if (f.shared) { bad(k, raw, 'shared by all runs; set it without a run letter'); continue; }
    const { value, error } = parseFieldValue(f, raw);
    if (error) { bad(k, raw, error); continue; }
    (overrides[idx - 1] ??= {})[f.key] = value!;
    highest = Math.max(highest, idx);
  }
  let count = highest + 1;
  if (runsRaw !== undefined) {
    const n = parseNumber(runsRaw);
    if (n === null || !Number.isInteger(n) || n < 1 || n > MAX_RUNS) bad('runs', runsRaw, `allowed: integer 1..${MAX_RUNS}`);
    else {
      if (n < highest + 1) bad('runs', runsRaw, `overrides name run ${RUN_LETTERS[highest]}`);
      count = Math.max(n, highest + 1);
    }
  }
  if (runsRaw !== undefined || highest > 0) {
    s.runs = [];
    for (let i = 1; i < count; i++) s.runs.push(overrides[i - 1] ?? {});
  }
  if (s.mode === 'compare' && s.runs.length === 0) s.runs.push({});
  // A run's override that breaks a cross-field rule is dropped (its run then follows run A).
  s.runs = s.runs.map((o, i) => {
    const merged = mergeConfig(s.config, o);
    const probs = crossProblems(merged);
    if (!probs.length) return o;
    const kept = { ...o };
    for (const p of probs) {
      for (const k of [p.key, 'width', 'heads', 'lr', 'min_lr', 'depth']) {
        if (kept[k] !== undefined && crossProblems(mergeConfig(s.config, kept)).length) {
          bad(`${RUN_LETTERS[i + 1]}.${k}`, String(kept[k]), p.reason);
          delete kept[k];
        }
      }
    }
    return kept;
  });

  // Mid-run edits, checked against the final settings just read (all or nothing).
  const editsRaw = get('edits');
  s.edits = [];
  if (editsRaw !== undefined) {
    const r = parseEdits(editsRaw, s);
    s.edits = r.edits;
    if (r.notice) notices.push(r.notice);
  }

  const panels = get('panels');
  if (panels !== undefined) {
    const list = panels.split(',').filter(Boolean);
    const good = list.filter((p): p is PanelId => (PANELS as readonly string[]).includes(p));
    const unknown = list.filter((p) => !(PANELS as readonly string[]).includes(p));
    if (unknown.length) bad('panels', unknown.join(','), `unknown panel (allowed: ${PANELS.join(',')})`);
    if (good.length) s.panels = good;
    else if (!unknown.length) bad('panels', panels, 'empty');
  }

  const log = get('log');
  if (log !== undefined) {
    if (log === '1' || log === 'true') s.logScale = true;
    else if (log === '0' || log === 'false') s.logScale = false;
    else bad('log', log, 'allowed: 0|1');
  }
  const lang = get('lang');
  if (lang !== undefined) {
    if ((LANGS as readonly string[]).includes(lang)) s.lang = lang as Lang;
    else bad('lang', lang, `allowed: ${LANGS.join('|')}`);
  }
  for (const key of ['layer', 'head'] as const) {
    const raw = get(key);
    if (raw === undefined) continue;
    const n = parseNumber(raw);
    const limit = key === 'layer' ? (s.config.depth as number) : (s.config.heads as number);
    if (n === null || !Number.isInteger(n) || n < 0 || n >= limit) bad(key, raw, `allowed: integer 0..${limit - 1}`);
    else s[key] = n;
  }
  if (s.layer >= (s.config.depth as number)) s.layer = 0;
  if (s.head >= (s.config.heads as number)) s.head = 0;

  for (const [k, v] of params) {
    if (STATE_KEYS.has(k) || FIELD_BY_KEY.has(k) || /^[a-d]\./.test(k)) continue;
    bad(k, v, 'unknown key, ignored');
  }
  for (const [n, key] of fellBack) n.used = String(s.config[key]);
  return { state: s, notices };
}
