// Looks up UI text in the current language (en.ts, zh.ts) and fills in `{name}` values.
import { en, type MessageKey } from './en';
import { zh } from './zh';
import type { Lang } from '../state';

const TABLES: Record<Lang, Record<MessageKey, string>> = { en, zh };

export type { MessageKey };

export function translate(lang: Lang, key: MessageKey, vars?: Record<string, string | number>): string {
  let s = TABLES[lang][key] ?? en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k: string) => (vars[k] !== undefined ? String(vars[k]) : m));
  return s;
}

/** Whether a key exists (option labels are looked up by value). */
export function hasKey(key: string): key is MessageKey {
  return key in en;
}

/** A number in the language's digits grouping (e.g. 12,345). */
const FORMATS: Partial<Record<Lang, Intl.NumberFormat>> = {};
export function fmtInt(lang: Lang, n: number): string {
  const f = (FORMATS[lang] ??= new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US', { maximumFractionDigits: 0 }));
  return f.format(Math.round(n));
}
