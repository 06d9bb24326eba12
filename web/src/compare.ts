// Comparison logic: up to four runs that share seed and data and differ only in what the user
// changed, stored as run A plus per-run overrides; and how many steps each lockstep round takes.
import { FIELDS, FIELD_BY_KEY, crossProblems, mergeConfig, type FlatConfig } from './config/fields';
import { MAX_RUNS, RUN_LETTERS, cloneState, type AppState } from './state';

/** Keys whose values differ between a and b, in field order. */
export function diffKeys(a: FlatConfig, b: FlatConfig): string[] {
  return FIELDS.filter((f) => a[f.key] !== b[f.key]).map((f) => f.key);
}

/**
 * Full configs -> run A plus overrides. Shared fields (seed, data, model kind) must agree: a
 * comparison only means something when the runs see the same data in the same order.
 */
export function fromConfigs(configs: FlatConfig[]): { base: FlatConfig; runs: Partial<FlatConfig>[] } {
  if (configs.length < 1 || configs.length > MAX_RUNS) throw new Error(`a comparison has 1..${MAX_RUNS} runs, got ${configs.length}`);
  const base = { ...configs[0] };
  const runs = configs.slice(1).map((c, i) => {
    const o: Partial<FlatConfig> = {};
    for (const k of diffKeys(base, c)) {
      if (FIELD_BY_KEY.get(k)!.shared) throw new Error(`run ${RUN_LETTERS[i + 1]} differs from run a in shared field ${k}`);
      o[k] = c[k];
    }
    return o;
  });
  return { base, runs };
}

/** The words of a run label that are not field names or values (the page passes its language's). */
export interface RunWords { same: string; base: string }
const EN_WORDS: RunWords = { same: 'same as A', base: 'base' };

/** A short name for run i: its letter and what it changes, e.g. "B · placement=post". */
export function runLabel(s: AppState, i: number, words: RunWords = EN_WORDS): string {
  const letter = RUN_LETTERS[i].toUpperCase();
  if (i === 0) return s.mode === 'compare' ? `${letter} · ${baseSummary(s, words)}` : letter;
  const o = s.runs[i - 1] ?? {};
  const keys = FIELDS.filter((f) => o[f.key] !== undefined && o[f.key] !== s.config[f.key]).map((f) => `${f.key}=${o[f.key]}`);
  return `${letter} · ${keys.length ? keys.join(', ') : words.same}`;
}

/** Run A's name in a comparison: the values of the fields the other runs change. */
function baseSummary(s: AppState, words: RunWords): string {
  const keys = new Set<string>();
  for (const o of s.runs) for (const k of Object.keys(o)) if (o[k] !== s.config[k]) keys.add(k);
  const list = FIELDS.filter((f) => keys.has(f.key)).map((f) => `${f.key}=${s.config[f.key]}`);
  return list.length ? list.join(', ') : words.base;
}

/**
 * Sets one field on run `i` and returns the new state. Run A's change is the base change (other
 * runs follow unless they override it); a shared field always goes to the base; an override equal
 * to the base is dropped, so "differs" always means differs.
 */
export function setRunField(s: AppState, i: number, key: string, value: string | number): AppState {
  const f = FIELD_BY_KEY.get(key);
  if (!f) throw new Error(`unknown field ${key}`);
  const n = cloneState(s);
  if (i === 0 || f.shared) n.config[key] = value;
  else n.runs[i - 1][key] = value;
  n.runs = n.runs.map((o) => {
    const kept: Partial<FlatConfig> = {};
    for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== n.config[k] && !FIELD_BY_KEY.get(k)?.shared) kept[k] = v;
    return kept;
  });
  return n;
}

export function addRun(s: AppState, copyOf: number): AppState {
  if (s.runs.length + 1 >= MAX_RUNS) return s;
  const n = cloneState(s);
  n.runs.push(copyOf === 0 ? {} : { ...s.runs[copyOf - 1] });
  return n;
}

export function removeRun(s: AppState, i: number): AppState {
  const n = cloneState(s);
  if (i === 0) {
    // Run B becomes the base: fold its overrides into the config, re-express the others.
    if (!n.runs.length) return n;
    const newBase = mergeConfig(n.config, n.runs[0]);
    const others = n.runs.slice(1).map((o) => mergeConfig(n.config, o));
    const r = fromConfigs([newBase, ...others]);
    n.config = r.base;
    n.runs = r.runs;
  } else n.runs.splice(i - 1, 1);
  return n;
}

/** Problems of a run's merged config (cross-field rules), for a message beside the run. */
export function runProblems(s: AppState, i: number): string[] {
  const c = i === 0 ? s.config : mergeConfig(s.config, s.runs[i - 1]);
  return crossProblems(c).map((p) => `${p.key}: ${p.reason}`);
}

/**
 * Steps per lockstep round: as many as the slowest run does in `targetMs`, at least 1, never past
 * the next evaluation or the end of the run. msPerStep: the latest measured ms/step of each run.
 */
export function roundSteps(msPerStep: number[], targetMs: number, stepsDone: number, stepsTotal: number, evalEvery: number): number {
  const slowest = Math.max(0.001, ...msPerStep.filter((x) => Number.isFinite(x) && x > 0));
  let k = Math.max(1, Math.floor(targetMs / slowest));
  k = Math.min(k, 2000);
  if (evalEvery > 0) {
    const nextEval = (Math.floor(stepsDone / evalEvery) + 1) * evalEvery;
    k = Math.min(k, nextEval - stepsDone);
  }
  return Math.max(0, Math.min(k, stepsTotal - stepsDone));
}
