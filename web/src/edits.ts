// Mid-run edits (issue 10): what the core can change in a running model (Trainer::set_optim: learning
// rate, schedule, warmup, weight decay, betas, momentum, clip, steps; and the page's evaluation cadence)
// is applied to it at the step it happens, and recorded as (step, setting, from, to), so that a shared
// link still reproduces the edited run bit for bit: the page rebuilds the run from the settings before
// the edits and applies each at its step. Anything else (depth, norm, batch, optimiser, ...) restarts.
// Pure functions over AppState; the session applies the schedule (session.ts), the page records edits.
import { FIELD_BY_KEY, parseFieldValue, type FlatConfig } from './config/fields';
import type { AppState, Notice } from './state';  // types only: state.ts imports this module

const RUN_LETTERS = ['a', 'b', 'c', 'd'] as const;  // as state.ts's

/** Settings a running model takes as they are (everything else restarts the run). */
export const LIVE_KEYS: ReadonlySet<string> = new Set(['lr', 'warmup', 'schedule', 'min_lr', 'clip', 'wd', 'beta1', 'beta2', 'opt_eps', 'momentum', 'steps', 'eval']);

/**
 * One recorded edit: at `step` (steps done when it took effect), state slot `run` (0 = run A's config,
 * the base of every run; 1..3 = run B..D's override) had `key` changed from `from` to `to`. '' means "no
 * override" (a run that followed run A's value).
 */
export interface Edit { step: number; run: number; key: string; from: string | number; to: string | number }

/** The most edits a link carries (each is ~20 characters; links are capped at 8 KB). */
export const MAX_EDITS = 200;

function slot(s: AppState, run: number): Partial<FlatConfig> { return run === 0 ? s.config : (s.runs[run - 1] ?? {}); }

/** The keys whose values differ between two lists of full run configs (all runs). */
export function changedKeys(a: FlatConfig[], b: FlatConfig[]): string[] {
  const keys = new Set<string>();
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? {}, y = b[i] ?? {};
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) if (x[k] !== y[k]) keys.add(k);
  }
  return [...keys];
}

/** Whether going from `prev` to `next` changes only live settings (same mode and runs). */
export function onlyLive(prevConfigs: FlatConfig[], nextConfigs: FlatConfig[]): boolean {
  if (prevConfigs.length !== nextConfigs.length) return false;
  const keys = changedKeys(prevConfigs, nextConfigs);
  return keys.length > 0 && keys.every((k) => LIVE_KEYS.has(k));
}

/** The edits that turn `prev`'s live settings into `next`'s, at `step`, slot by slot. */
export function diffEdits(prev: AppState, next: AppState, step: number): Edit[] {
  const out: Edit[] = [];
  for (let run = 0; run <= next.runs.length; run++) {
    const a = slot(prev, run), b = slot(next, run);
    for (const key of LIVE_KEYS) {
      if (a[key] === b[key]) continue;
      out.push({ step, run, key, from: a[key] ?? '', to: b[key] ?? '' });
    }
  }
  return out;
}

function set(s: AppState, run: number, key: string, v: string | number): void {
  if (run === 0) { s.config[key] = v; return; }
  const o = s.runs[run - 1];
  if (!o) return;
  if (v === '') delete o[key];
  else o[key] = v;
}

function copy(s: AppState): AppState {
  return { ...s, config: { ...s.config }, runs: s.runs.map((r) => ({ ...r })), edits: [...s.edits] };
}

/** The state as it was before any edit (what the runs are built from). */
export function startState(s: AppState): AppState {
  const out = copy(s);
  for (let i = s.edits.length - 1; i >= 0; i--) set(out, s.edits[i].run, s.edits[i].key, s.edits[i].from);
  out.edits = [];
  return out;
}

/** Full run configs after each edit step: [{ step, configs }] in step order (run configs as runConfigs gives). */
export function editSchedule(s: AppState, runConfigs: (s: AppState) => FlatConfig[]): { step: number; configs: FlatConfig[] }[] {
  const st = startState(s);
  const out: { step: number; configs: FlatConfig[] }[] = [];
  for (let i = 0; i < s.edits.length;) {
    const step = s.edits[i].step;
    for (; i < s.edits.length && s.edits[i].step === step; i++) set(st, s.edits[i].run, s.edits[i].key, s.edits[i].to);
    out.push({ step, configs: runConfigs(st) });
  }
  return out;
}

// ---------------------------------------------------------------- the link: edits=STEP:[b.]KEY:FROM:TO,...

export function serializeEdits(edits: readonly Edit[]): string {
  return edits.map((e) => `${e.step}:${e.run ? RUN_LETTERS[e.run] + '.' : ''}${e.key}:${e.from}:${e.to}`).join(',');
}

/**
 * Reads `edits=` against the link's (final) state `s`. All or nothing: a replay that skipped one edit
 * would not be the run that was shared, so any problem drops every edit, with one notice saying why.
 */
export function parseEdits(raw: string, s: AppState): { edits: Edit[]; notice: Notice | null } {
  const refuse = (reason: string) => ({ edits: [], notice: { key: 'edits', value: raw.slice(0, 60), reason, how: 'ignored' as const } });
  if (raw === '') return { edits: [], notice: null };
  const items = raw.split(',');
  if (items.length > MAX_EDITS) return refuse(`more than ${MAX_EDITS} edits`);
  const edits: Edit[] = [];
  for (const item of items) {
    const m = /^(\d{1,8}):(?:([b-d])\.)?([a-z_0-9]+):([^:]*):([^:]*)$/.exec(item);
    if (!m) return refuse(`"${item.slice(0, 40)}" is not STEP:KEY:FROM:TO`);
    const step = Number(m[1]), run = m[2] ? RUN_LETTERS.indexOf(m[2] as (typeof RUN_LETTERS)[number]) : 0, key = m[3];
    if (step < 1) return refuse(`step ${step}: edits happen after step 1 or later`);
    if (edits.length && step < edits[edits.length - 1].step) return refuse('edits are not in step order');
    if (!LIVE_KEYS.has(key)) return refuse(`${key} cannot change in a running model`);
    if (run > s.runs.length) return refuse(`run ${RUN_LETTERS[run]} is not in the link`);
    const f = FIELD_BY_KEY.get(key)!;
    const val = (v: string): string | number | null => {
      if (v === '') return run > 0 ? '' : null;  // only an override may be absent
      const r = parseFieldValue(f, v);
      return r.error ? null : r.value!;
    };
    const from = val(m[4]), to = val(m[5]);
    if (from === null || to === null) return refuse(`${key}: a value is out of range`);
    edits.push({ step, run, key, from, to });
  }
  // The last edit of each setting must leave it as the link says, or the link was altered.
  const last = new Map<string, Edit>();
  for (const e of edits) last.set(`${e.run}.${e.key}`, e);
  for (const e of last.values()) {
    const now = slot(s, e.run)[e.key] ?? '';
    if (now !== e.to) return refuse(`${e.run ? RUN_LETTERS[e.run] + '.' : ''}${e.key} ends at ${e.to}, but the link sets ${now || 'none'}`);
  }
  // Each edit must start from the value the previous one left (replayed backwards from the link).
  const st: AppState = { ...s, config: { ...s.config }, runs: s.runs.map((r) => ({ ...r })), edits: [] };
  for (let i = edits.length - 1; i >= 0; i--) {
    const e = edits[i];
    if ((slot(st, e.run)[e.key] ?? '') !== e.to) return refuse(`edit ${i + 1} does not follow the one before it`);
    set(st, e.run, e.key, e.from);
  }
  return { edits, notice: null };
}
