// The settings panel: one control per config field (fields.ts), grouped, with "More settings", the
// preset menu, refused entries kept as typed in red with the value in use, and the compare-mode
// marks (shared, differs). An embed shows only the fields its `controls=` names. The App owns the state;
// this module builds the controls and writes their values back with sync().
import {
  FIELDS, FIELD_BY_KEY, checkValue, dataFits, maxDepth as maxDepthFor, shownFor, mergeConfig, parseNumber, type Field, type FlatConfig, type NumField,
} from './config/fields';
import { PRESET_NAMES, presetConfig } from './config/presets';
import { hasKey, type MessageKey } from './i18n';
import { setRunField } from './compare';
import { cloneState } from './state';
import { RUN_COLORS } from './charts/colors';
import { h } from './dom';
import type { AppState } from './state';

/** Fields tucked under "More settings" (all still editable). */
export const ADVANCED = new Set(['beta1', 'beta2', 'opt_eps', 'momentum', 'min_lr', 'eval_batches', 'samples', 'test', 'eval', 'dseed']);

/** The allowed range of a number field, as the refusal beside it says it. */
export function rangeText(f: NumField, maxDepth: number): string {
  const max = f.key === 'depth' ? maxDepth : f.max;
  return f.minOpen ? `> ${f.min} … ${max}` : `${f.min} … ${max}${f.type === 'int' ? ' (integer)' : ''}`;
}

/**
 * Whether a field's row is hidden for the current choices (it stays in the URL and the config):
 * optimiser-specific settings, the cosine floor, the mlp's activation for gpt, the built-in
 * datasets' size and noise for your own points.
 */
export function fieldHidden(key: string, cfg: FlatConfig): boolean {
  return (key === 'momentum' && cfg.optim !== 'sgd') || ((key === 'beta1' || key === 'beta2' || key === 'opt_eps') && cfg.optim !== 'adamw') ||
    (key === 'min_lr' && cfg.schedule !== 'cosine') || (key === 'act' && cfg.kind === 'gpt') ||
    ((key === 'noise' || key === 'samples') && cfg.data === 'points');
}

/** What the settings panel needs from the page. */
export interface ControlsHost {
  readonly state: AppState;
  /** The run whose settings the controls edit (compare mode; 0 = A). */
  readonly selected: number;
  /** The fields an embed shows (null: all; the main page shows all with groups and the preset menu). */
  readonly allowed: string[] | null;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  optLabel(v: string): string;
  setField(key: string, value: string | number): void;
  setState(next: AppState, how: { rebuild?: 'now' | 'soon' | 'no'; render?: boolean; replace?: boolean }): void;
  /** Extra content under the data field (your own text for gpt), or null. */
  dataExtra(): HTMLElement | null;
}

interface Control { row: HTMLElement; inputs: (HTMLInputElement | HTMLSelectElement)[]; msg: HTMLElement; pending?: { raw: string; inUse: string | number } }

export class ControlPanel {
  /**
   * Each control's elements; `pending` holds a typed number that was refused (shown as typed, in red,
   * until a valid value replaces it or the field changes some other way), with the value still in use.
   */
  private inputs = new Map<string, Control>();

  constructor(private readonly host: ControlsHost) {}

  /** The settings panel (null: an embed that shows no control). */
  render(): HTMLElement | null {
    this.inputs.clear();
    const allowed = this.host.allowed;
    if (allowed && allowed.length === 0) return null;
    const kind = this.host.state.config.kind;
    const show = (f: Field) => (!allowed || allowed.includes(f.key)) && shownFor(f, kind);
    const aside = h('aside', { class: 'rp-controls', 'aria-label': this.host.t('aria.settings') });
    if (!allowed) {
      const sel = h('select', { 'aria-label': this.host.t('group.preset'), onchange: (e: Event) => {
        const name = (e.target as HTMLSelectElement).value;
        if (!name) return;
        const n = cloneState(this.host.state);
        n.config = presetConfig(name);
        n.exp = '';
        if (n.mode === 'compare') n.runs = n.runs.map(() => ({}));
        this.host.setState(n, { rebuild: 'now', replace: true });
      } }, h('option', { value: '' }, this.host.t('preset.choose')), ...PRESET_NAMES.map((p) => h('option', { value: p }, p)));
      aside.append(h('div', { class: 'rp-group rp-preset' }, h('h3', {}, this.host.t('group.preset')), sel));
    }
    const groups: [string, Field[]][] = [];
    for (const f of FIELDS) {
      if (!show(f)) continue;
      const g = allowed ? 'all' : f.group;
      let entry = groups.find((x) => x[0] === g);
      if (!entry) groups.push((entry = [g, []]));
      entry[1].push(f);
    }
    const more = h('details', { class: 'rp-more' }, h('summary', {}, this.host.t('group.more')));
    for (const [g, fields] of groups) {
      const box = h('div', { class: `rp-group rp-group-${g}` });
      if (g !== 'all') box.append(h('h3', {}, this.host.t(`group.${g}` as MessageKey)));
      for (const f of fields) {
        const row = this.renderField(f);
        if (!allowed && ADVANCED.has(f.key)) more.append(row);
        else box.append(row);
      }
      aside.append(box);
    }
    if (!allowed) aside.append(more);
    return aside;
  }

  private renderField(f: Field): HTMLElement {
    const label = hasKey(`f.${f.key}`) ? this.host.t(`f.${f.key}` as MessageKey) : f.key;
    const help = hasKey(`h.${f.key}`) ? this.host.t(`h.${f.key}` as MessageKey) : '';
    const id = `rp-${f.key}-${Math.random().toString(36).slice(2, 7)}`;
    const msg = h('div', { class: 'rp-field-msg', 'aria-live': 'polite' });
    const inputs: (HTMLInputElement | HTMLSelectElement)[] = [];
    const row = h('div', { class: 'rp-field', 'data-field': f.key });
    row.append(h('label', { for: id, title: help }, label, h('span', { class: 'rp-dot', 'aria-hidden': 'true' })));
    if (f.type === 'enum') {
      const sel = h('select', { id, 'data-key': f.key, title: help, onchange: (e: Event) => this.host.setField(f.key, (e.target as HTMLSelectElement).value) },
        ...f.options.map((o) => h('option', { value: o }, this.host.optLabel(o))));
      inputs.push(sel);
      row.append(sel);
    } else {
      const nf = f as NumField;
      const box = h('input', { id, type: 'number', inputmode: nf.type === 'int' ? 'numeric' : 'decimal', 'data-key': f.key, title: help,
        min: nf.minOpen ? undefined : nf.min, max: nf.max, step: nf.type === 'int' ? 1 : 'any',
        onchange: (e: Event) => this.onNumber(nf, (e.target as HTMLInputElement).value, msg) });
      const wrap = h('div', { class: 'rp-numrow' });
      if (nf.ui) {
        const slider = h('input', { type: 'range', 'aria-label': label, 'data-slider': f.key,
          min: nf.ui.log ? Math.log10(Math.max(nf.ui.min, 1e-12)) : nf.ui.min, max: nf.ui.log ? Math.log10(nf.ui.max) : nf.ui.max,
          step: nf.ui.log ? 0.01 : nf.type === 'int' ? 1 : (nf.step ?? (nf.ui.max - nf.ui.min) / 100),
          oninput: (e: Event) => {
            const raw = Number((e.target as HTMLInputElement).value);
            let v = nf.ui!.log ? Math.pow(10, raw) : raw;
            v = nf.type === 'int' ? Math.round(v) : Number(v.toPrecision(2));
            box.value = String(v);
            this.onNumber(nf, String(v), msg, true);
          } });
        inputs.push(slider);
        wrap.append(slider);
      }
      inputs.push(box);
      wrap.append(box);
      row.append(wrap);
    }
    if (help) row.append(h('p', { class: 'rp-help' }, help));
    row.append(msg);
    // the data row's extra (your own text, for gpt), where the App gives one
    if (f.key === 'data') { const extra = this.host.dataExtra(); if (extra) row.append(extra); }
    this.inputs.set(f.key, { row, inputs, msg });
    return row;
  }

  private onNumber(f: NumField, raw: string, msg: HTMLElement, soon = false): void {
    const n = parseNumber(raw.trim());
    const maxDepth = maxDepthFor(this.host.state.config.kind);
    let err = n === null ? 'not a number' : checkValue(f, n);
    if (!err && f.key === 'depth' && n! > maxDepth) err = `at most ${maxDepth} for ${this.host.state.config.kind}`;
    const c = this.inputs.get(f.key);
    const row = c?.row;
    if (err) {
      const sel = this.host.selected;
      const inUse = (sel === 0 ? this.host.state.config : mergeConfig(this.host.state.config, this.host.state.runs[sel - 1]))[f.key];
      msg.textContent = this.host.t('h.invalid_kept', { range: rangeText(f, maxDepth), v: String(inUse) });
      row?.classList.add('bad');
      if (c) c.pending = { raw, inUse };
      return;
    }
    if (c) c.pending = undefined;
    msg.textContent = '';
    row?.classList.remove('bad');
    this.host.setState(setRunField(this.host.state, this.host.selected, f.key, n!), { rebuild: soon ? 'soon' : 'now' });
  }

  /** Writes the state's values into the controls (values, not structure). */
  sync(): void {
    const s = this.host.state;
    const sel = this.host.selected;
    const cfg: FlatConfig = sel === 0 ? s.config : mergeConfig(s.config, s.runs[sel - 1]);
    for (const [key, c] of this.inputs) {
      const f = FIELD_BY_KEY.get(key)!;
      const v = cfg[key];
      for (const inp of c.inputs) {
        if (inp instanceof HTMLInputElement && inp.type === 'range') {
          const nf = f as NumField;
          inp.value = String(nf.ui?.log ? Math.log10(Math.max(Number(v), 1e-12)) : v);
        } else if (c.pending && c.pending.inUse === v) {
          // a refused entry stays as typed (red, with the value in use beside it) until replaced
        } else if (document.activeElement !== inp && (inp.getRootNode() as Document | ShadowRoot).activeElement !== inp) {
          inp.value = String(v);
        }
        inp.disabled = s.mode === 'compare' && sel > 0 && !!f.shared;
      }
      if (c.pending && c.pending.inUse !== v) {
        // the field changed some other way (slider, preset, another run): the refused entry is moot
        c.pending = undefined;
        c.msg.textContent = '';
        c.row.classList.remove('bad');
        const box = c.inputs[c.inputs.length - 1];
        if (document.activeElement !== box && (box.getRootNode() as Document | ShadowRoot).activeElement !== box) box.value = String(v);
      }
      const differs = s.mode === 'compare' && sel > 0 && s.runs[sel - 1][key] !== undefined;
      c.row.classList.toggle('differs', differs);
      c.row.classList.toggle('shared', s.mode === 'compare' && !!f.shared);
      c.row.title = differs ? this.host.t('h.differs') : s.mode === 'compare' && f.shared ? this.host.t('h.shared') : '';
      c.row.style.setProperty('--run', RUN_COLORS[sel]);
      // Show only the fields that matter for the current choices (all stay in the URL and the config).
      c.row.hidden = fieldHidden(key, cfg);
      if (key === 'data') {
        for (const o of (c.inputs[0] as HTMLSelectElement).options) o.disabled = !dataFits(cfg.kind, o.value);
      }
      if (key === 'depth') {
        const box = c.inputs[c.inputs.length - 1] as HTMLInputElement;
        box.max = String(maxDepthFor(cfg.kind));
      }
    }  }
}
