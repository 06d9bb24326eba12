// The named presets, read from cpp/presets/*.json at build time: the browser trains exactly what
// the CLI's `--preset NAME` trains, with no second copy of the numbers.
import { coreDefaults, fromEngineConfig, type FlatConfig } from './fields';

const files = import.meta.glob('../../../cpp/presets/*.json', { eager: true, import: 'default' }) as Record<string, unknown>;

export const PRESET_JSON: Readonly<Record<string, unknown>> = Object.fromEntries(
  Object.entries(files).map(([path, json]) => [path.replace(/^.*\/([^/]+)\.json$/, '$1'), json]),
);

export const PRESET_NAMES: readonly string[] = Object.keys(PRESET_JSON).sort();

/** Whether `name` is a preset (an own key: Object.prototype's names are not). */
export function isPreset(name: string): boolean {
  return Object.hasOwn(PRESET_JSON, name);
}

/** The preset as a complete flat config (core defaults filled in). Throws on an unknown name. */
export function presetConfig(name: string): FlatConfig {
  // own names only: `constructor`, `__proto__`, `toString`... are no presets
  const json = isPreset(name) ? PRESET_JSON[name] : undefined;
  if (json === undefined) throw new Error(`unknown preset "${name}" (known: ${PRESET_NAMES.join(', ')})`);
  const { config, problems } = fromEngineConfig(json, coreDefaults());
  if (problems.length) throw new Error(`preset ${name}: ${problems.join('; ')}`);
  return config;
}

/** What the page opens with when nothing else is asked for. */
export const DEFAULT_PRESET = 'mlp-spiral';

/** Each model kind's default preset: what the Model menu (and a link's `kind=`) switches to. */
export const KIND_PRESET = { mlp: 'mlp-spiral', gpt: 'gpt-tiny', cnn: 'cnn-digits' } as const;

/** A kind's default preset, keeping the seed. */
export function kindConfig(kind: keyof typeof KIND_PRESET, seed: string | number): FlatConfig {
  return { ...presetConfig(KIND_PRESET[kind]), seed };
}
