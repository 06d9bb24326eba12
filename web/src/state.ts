// All of the page's state in one object: every config field, the mode and its runs, the seed, the
// visible panels, the language, mid-run edits. Types, constants and defaults only (a leaf module);
// its round trip through the URL hash (or an embed's query string) is url.ts.
import { coreDefaults, fixCross, mergeConfig, type FlatConfig } from './config/fields';
import { DEFAULT_PRESET, presetConfig } from './config/presets';
import type { MessageKey } from './i18n/en';
import type { Edit } from './edits';

export type Mode = 'single' | 'compare';
export type Lang = 'en' | 'zh';
export const LANGS: readonly Lang[] = ['en', 'zh'];
export const PANELS = ['loss', 'boundary', 'digits', 'samples', 'heatmap', 'profile', 'rms', 'update', 'attention'] as const;
export type PanelId = (typeof PANELS)[number];
export const MAX_RUNS = 4;
export const RUN_LETTERS = ['a', 'b', 'c', 'd'] as const;

export interface AppState {
  config: FlatConfig;                 // run A, and the base every other run starts from
  mode: Mode;
  runs: Partial<FlatConfig>[];        // overrides of runs B, C, D over run A (compare mode)
  panels: PanelId[];
  lang: Lang;
  logScale: boolean;                  // loss chart's y axis
  exp: string;                        // the experiment whose explanation is shown ('' none)
  layer: number;                      // attention view (gpt)
  head: number;
  /** Mid-run edits of live settings, in step order (edits.ts): config and runs hold the values after
   *  them (what the controls show), so the runs are built from the values before them. */
  edits: Edit[];
}

/**
 * One thing from the URL that could not be used as given, and what was used instead: the default
 * (`used` is that default), a value clamped to its limit, another value that fixes a conflict
 * between fields, or nothing (the key is ignored; a run's override falls back to run A's value).
 */
export interface Notice {
  key: string; value: string; reason: string; how?: 'default' | 'clamped' | 'fixed' | 'ignored'; used?: string;
  /** A notice about the link as a whole, shown as this message (with `vars`) instead of key=value. */
  msg?: MessageKey; vars?: Record<string, number | string>;
}

export function defaultState(): AppState {
  return {
    config: presetConfig(DEFAULT_PRESET),
    mode: 'single',
    runs: [],
    panels: [...PANELS],
    lang: 'en',
    logScale: false,
    exp: '',
    layer: 0,
    head: 0,
    edits: [],
  };
}

export function cloneState(s: AppState): AppState {
  return { ...s, config: { ...s.config }, runs: s.runs.map((r) => ({ ...r })), panels: [...s.panels], edits: [...s.edits] };
}

/** The full config of every run that trains (one in single mode, up to four in compare mode). */
export function runConfigs(s: AppState): FlatConfig[] {
  if (s.mode === 'single') return [{ ...s.config }];
  return [{ ...s.config }, ...s.runs.map((o) => fixCross(mergeConfig(s.config, o)))];
}

export { coreDefaults };
