// Every field of the core's JSON config (cpp/core/config.h, validated in config.cpp), with its
// default, allowed range and short URL key: the one table that controls, URL state and checks read.
import type { ResnormConfig } from '../engine/types';

export type FieldGroup = 'model' | 'block' | 'data' | 'optim' | 'run';

interface FieldBase {
  key: string;        // short name used in the URL hash and in `controls="..."`
  path: string;       // dotted path in the JSON config ('seed' is top level)
  group: FieldGroup;
  /** Fields that every run of a comparison shares: same data, same order, same kind of model. */
  shared?: boolean;
  /** Only meaningful for these model kinds (the control is hidden for the others). */
  only?: readonly Kind[];
}
export interface EnumField extends FieldBase { type: 'enum'; options: readonly string[]; def: string }
export interface NumField extends FieldBase {
  type: 'int' | 'float';
  def: number;
  min: number;
  max: number;
  minOpen?: boolean;   // min itself is not allowed (e.g. lr > 0)
  /** The slider's practical range (the number box still accepts the whole allowed range). */
  ui?: { min: number; max: number; log?: boolean };
  step?: number;
}
export type Field = EnumField | NumField;

export const DATASETS_2D = ['spiral', 'circle', 'xor', 'gauss', 'moons', 'checkerboard'] as const;
/** gpt datasets: the built-in corpora (web/public/data/NAME.txt) and 'text', your own (owndata/). */
export const TEXT_DATASETS = ['tinyshakespeare', 'tangpoems', 'text'] as const;
export const isTextData = (name: unknown): boolean => (TEXT_DATASETS as readonly unknown[]).includes(name);
export type Kind = 'mlp' | 'gpt' | 'cnn';
export const KINDS: readonly Kind[] = ['mlp', 'gpt', 'cnn'];
/** Blocks per stage for cnn (three stages), blocks for the others (config.cpp's max_depth). */
export const MAX_DEPTH = { mlp: 512, gpt: 64, cnn: 64 } as const;
/** cnn image sides (data.resolution): the 28x28 digits average-pooled to 14x14 (default), or as they are. */
export const DIGIT_SIDES = [14, 28] as const;

/** Whether a field's control is shown for a model kind. */
export function shownFor(f: Field, kind: unknown): boolean {
  return !f.only || f.only.includes(kind as Kind);
}
/** The dataset a model kind trains on when its current one does not fit it. */
export function kindDataset(kind: unknown): string {
  return kind === 'gpt' ? 'tinyshakespeare' : kind === 'cnn' ? 'digits' : 'spiral';
}
/** Whether a dataset fits a model kind (config.cpp: gpt <-> a text, cnn <-> digits, mlp <-> 2-D sets and your points). */
export function dataFits(kind: unknown, data: unknown): boolean {
  if (isTextData(data)) return kind === 'gpt';
  if (data === 'digits') return kind === 'cnn';
  return kind === 'mlp';
}
export function maxDepth(kind: unknown): number {
  return kind === 'gpt' ? MAX_DEPTH.gpt : kind === 'cnn' ? MAX_DEPTH.cnn : MAX_DEPTH.mlp;
}

// Order = order of the controls on the page. Defaults and ranges copy config.h / config.cpp.
export const FIELDS: readonly Field[] = [
  { key: 'kind', path: 'model.kind', group: 'model', type: 'enum', options: KINDS, def: 'mlp', shared: true },
  { key: 'data', path: 'data.name', group: 'data', type: 'enum', options: [...DATASETS_2D, 'points', ...TEXT_DATASETS, 'digits'], def: 'spiral', shared: true },
  { key: 'res', path: 'data.resolution', group: 'data', type: 'int', def: 14, min: 14, max: 28, only: ['cnn'], shared: true, step: 14 },
  // cnn digits' pixels (data.pixels): standardised (default) or raw 0..1, whose blank background is exactly 0 (experiment cnn-eps)
  { key: 'pix', path: 'data.pixels', group: 'data', type: 'enum', options: ['standardized', 'raw'], def: 'standardized', only: ['cnn'] },
  { key: 'depth', path: 'model.depth', group: 'model', type: 'int', def: 8, min: 1, max: 512, ui: { min: 1, max: 128 } },
  { key: 'width', path: 'model.width', group: 'model', type: 'int', def: 64, min: 1, max: 4096, ui: { min: 2, max: 512, log: true } },
  { key: 'heads', path: 'model.heads', group: 'model', type: 'int', def: 4, min: 1, max: 64, only: ['gpt'] },
  { key: 'context', path: 'model.context', group: 'model', type: 'int', def: 64, min: 1, max: 1024, only: ['gpt'], ui: { min: 8, max: 256, log: true } },
  { key: 'act', path: 'model.activation', group: 'model', type: 'enum', options: ['relu', 'tanh', 'gelu'], def: 'relu', only: ['mlp', 'cnn'] },
  { key: 'residual', path: 'model.residual', group: 'block', type: 'enum', options: ['none', 'identity', 'rezero', 'deepnorm', 'doubled'], def: 'identity' },
  { key: 'norm', path: 'model.norm', group: 'block', type: 'enum', options: ['none', 'layernorm', 'rmsnorm', 'batchnorm'], def: 'layernorm' },
  { key: 'placement', path: 'model.placement', group: 'block', type: 'enum', options: ['pre', 'post', 'sandwich'], def: 'pre' },
  { key: 'eps', path: 'model.eps', group: 'block', type: 'float', def: 1e-5, min: 0, max: 1, ui: { min: 1e-8, max: 1e-1, log: true } },  // 0 allowed: the article's LayerNorm
  { key: 'noise', path: 'data.noise', group: 'data', type: 'float', def: 0.1, min: 0, max: 2, only: ['mlp'], shared: true, ui: { min: 0, max: 1 }, step: 0.01 },
  { key: 'samples', path: 'data.samples', group: 'data', type: 'int', def: 1000, min: 10, max: 200000, only: ['mlp'], shared: true, ui: { min: 50, max: 5000, log: true } },
  { key: 'test', path: 'data.test_fraction', group: 'data', type: 'float', def: 0.2, min: 0.05, max: 0.95, only: ['mlp', 'cnn'], shared: true, step: 0.05 },
  { key: 'optim', path: 'optim.name', group: 'optim', type: 'enum', options: ['adamw', 'sgd'], def: 'adamw' },
  { key: 'lr', path: 'optim.lr', group: 'optim', type: 'float', def: 1e-3, min: 0, max: 10, minOpen: true, ui: { min: 1e-5, max: 1, log: true } },
  { key: 'warmup', path: 'optim.warmup', group: 'optim', type: 'int', def: 100, min: 0, max: 10000000, ui: { min: 0, max: 1000 } },
  { key: 'schedule', path: 'optim.schedule', group: 'optim', type: 'enum', options: ['constant', 'cosine'], def: 'constant' },
  { key: 'min_lr', path: 'optim.min_lr', group: 'optim', type: 'float', def: 1e-4, min: 0, max: 10 },
  { key: 'clip', path: 'optim.clip', group: 'optim', type: 'float', def: 1, min: 0, max: 1e6, step: 0.1 },
  { key: 'batch', path: 'optim.batch', group: 'optim', type: 'int', def: 32, min: 1, max: 4096, ui: { min: 1, max: 512, log: true } },
  { key: 'wd', path: 'optim.weight_decay', group: 'optim', type: 'float', def: 0, min: 0, max: 10, step: 0.01 },
  { key: 'beta1', path: 'optim.beta1', group: 'optim', type: 'float', def: 0.9, min: 0, max: 0.999999, step: 0.01 },
  { key: 'beta2', path: 'optim.beta2', group: 'optim', type: 'float', def: 0.99, min: 0, max: 0.999999, step: 0.001 },
  { key: 'opt_eps', path: 'optim.eps', group: 'optim', type: 'float', def: 1e-8, min: 0, max: 1, minOpen: true },
  { key: 'momentum', path: 'optim.momentum', group: 'optim', type: 'float', def: 0.9, min: 0, max: 0.999999, step: 0.01 },
  { key: 'steps', path: 'optim.steps', group: 'run', type: 'int', def: 2000, min: 1, max: 10000000 },
  { key: 'eval', path: 'eval.every', group: 'run', type: 'int', def: 100, min: 0, max: 10000000 },
  { key: 'eval_batches', path: 'eval.batches', group: 'run', type: 'int', def: 8, min: 1, max: 1000, only: ['gpt'] },
  { key: 'seed', path: 'seed', group: 'run', type: 'int', def: 1337, min: 0, max: 4294967295, shared: true },
  // the data's own seed (0: the run's seed): "Regenerate data" draws new points and keeps the weights
  { key: 'dseed', path: 'data.seed', group: 'run', type: 'int', def: 0, min: 0, max: 4294967295, only: ['mlp', 'cnn'], shared: true },
];

export const FIELD_BY_KEY: ReadonlyMap<string, Field> = new Map(FIELDS.map((f) => [f.key, f]));
export const FIELD_BY_PATH: ReadonlyMap<string, Field> = new Map(FIELDS.map((f) => [f.path, f]));

/** A config flattened to short keys: { kind: 'mlp', depth: 8, lr: 0.001, ... }. Always complete. */
export type FlatConfig = Record<string, string | number>;

export function coreDefaults(): FlatConfig {
  const out: FlatConfig = {};
  for (const f of FIELDS) out[f.key] = f.def;
  return out;
}

/** Checks one value against its field; returns the reason it is refused, or null. */
export function checkValue(f: Field, v: unknown): string | null {
  if (f.type === 'enum') {
    if (typeof v !== 'string' || !f.options.includes(v)) return `allowed: ${f.options.join('|')}`;
    return null;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a finite number';
  if (f.type === 'int' && !Number.isInteger(v)) return `must be an integer (allowed: ${f.min}..${f.max})`;
  const below = f.minOpen ? !(v > f.min) : !(v >= f.min);
  if (below || !(v <= f.max)) return `out of range (allowed: ${f.minOpen ? '> ' + f.min + ' and <= ' + f.max : f.min + '..' + f.max})`;
  return null;
}

/** Strict number syntax for URL values (no hex, no blanks, no 'Infinity'). */
export function parseNumber(s: string): number | null {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

export function parseFieldValue(f: Field, raw: string): { value?: string | number; error?: string } {
  if (f.type === 'enum') {
    const err = checkValue(f, raw);
    return err ? { error: err } : { value: raw };
  }
  const n = parseNumber(raw);
  if (n === null) return { error: 'not a number' };
  const err = checkValue(f, n);
  return err ? { error: err } : { value: n };
}

/**
 * Constraints between fields (config.cpp checks them after the per-field ranges). Returns the keys
 * to fix and why; `fixCross` applies the fix. Memory caps are left to the engine's own message.
 */
export function crossProblems(c: FlatConfig): { key: string; reason: string }[] {
  const out: { key: string; reason: string }[] = [];
  const gpt = c.kind === 'gpt', cnn = c.kind === 'cnn';
  if (!dataFits(c.kind, c.data))
    out.push({ key: 'data', reason: gpt ? 'a gpt model trains on a text' : cnn ? 'a cnn model trains on digits' : 'an mlp model needs a 2-D dataset' });
  const most = maxDepth(c.kind);
  if ((c.depth as number) > most) out.push({ key: 'depth', reason: `at most ${most} for ${c.kind}` });
  // config.cpp's refusals for cnn and gpt, in its words
  if (cnn && c.residual === 'deepnorm') out.push({ key: 'residual', reason: 'deepnorm is not allowed for cnn (allowed: none|identity|rezero|doubled): DeepNorm is defined for Post-LN transformers' });
  if (cnn && c.placement === 'sandwich') out.push({ key: 'placement', reason: 'sandwich is not allowed for cnn (allowed: post = ResNet v1, pre = ResNet v2)' });
  if (gpt && c.norm === 'batchnorm') out.push({ key: 'norm', reason: 'batchnorm is not allowed for gpt (allowed: none|layernorm|rmsnorm): batch statistics would mix positions a causal model must not see' });
  if (c.res !== undefined && !(DIGIT_SIDES as readonly number[]).includes(c.res as number)) out.push({ key: 'res', reason: 'allowed: 14|28' });
  if (gpt && (c.width as number) % (c.heads as number) !== 0) out.push({ key: 'heads', reason: `must divide width = ${c.width}` });
  if (c.schedule === 'cosine' && (c.min_lr as number) > (c.lr as number)) out.push({ key: 'min_lr', reason: `must not exceed lr = ${c.lr}` });
  return out;
}

/** Repairs cross-field problems with the smallest change (used for URL input, never silently: callers report). */
export function fixCross(c: FlatConfig): FlatConfig {
  const x = { ...c };
  for (let guard = 0; guard < 4; guard++) {
    const probs = crossProblems(x);
    if (!probs.length) break;
    for (const p of probs) {
      if (p.key === 'data') x.data = kindDataset(x.kind);
      if (p.key === 'depth') x.depth = maxDepth(x.kind);
      if (p.key === 'residual') x.residual = 'identity';
      if (p.key === 'placement') x.placement = 'post';
      if (p.key === 'norm') x.norm = 'layernorm';
      if (p.key === 'res') x.res = 14;
      if (p.key === 'heads') x.heads = largestDivisorAtMost(x.width as number, x.heads as number);
      if (p.key === 'min_lr') x.min_lr = x.lr;
    }
  }
  return x;
}

function largestDivisorAtMost(n: number, k: number): number {
  for (let d = Math.min(k, n); d >= 1; d--) if (n % d === 0) return d;
  return 1;
}

/** Flat keys -> the nested JSON the engine takes. */
export function toEngineConfig(c: FlatConfig): ResnormConfig {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = c[f.key];
    if (v === undefined) continue;
    const parts = f.path.split('.');
    let o = out as Record<string, unknown>;
    for (let i = 0; i < parts.length - 1; i++) o = (o[parts[i]] ??= {}) as Record<string, unknown>;
    o[parts[parts.length - 1]] = v;
  }
  return out as ResnormConfig;
}

/**
 * Nested JSON (a preset, a checkpoint's config) -> flat keys over `base`. Unknown keys and bad
 * values are reported, not thrown, so a caller can say what it ignored.
 */
export function fromEngineConfig(json: unknown, base: FlatConfig = coreDefaults()): { config: FlatConfig; problems: string[] } {
  const config = { ...base };
  const problems: string[] = [];
  const walk = (o: unknown, prefix: string) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      problems.push(`${prefix || 'config'} must be an object`);
      return;
    }
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      const path = prefix ? `${prefix}.${k}` : k;
      const f = FIELD_BY_PATH.get(path);
      if (f) {
        const err = checkValue(f, v);
        if (err) problems.push(`${path} = ${JSON.stringify(v)}: ${err}`);
        else config[f.key] = v as string | number;
      } else if (typeof v === 'object' && v !== null && !prefix) walk(v, path);
      else problems.push(`unknown key ${path}`);
    }
  };
  walk(json, '');
  // gpt defaults its dataset to the text when the JSON names none (config.cpp does the same).
  const j = json as { model?: { kind?: string }; data?: { name?: string } } | null;
  if (j?.model?.kind === 'gpt' && j?.data?.name === undefined) config.data = 'tinyshakespeare';
  if (j?.model?.kind === 'cnn' && j?.data?.name === undefined) config.data = 'digits';
  return { config, problems };
}

/** Run A's config with a run's overrides on top. */
export function mergeConfig(base: FlatConfig, over: Partial<FlatConfig> | undefined): FlatConfig {
  const out = { ...base };
  if (over) for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = v;
  return out;
}
