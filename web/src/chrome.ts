// The playground's chrome around the charts: the header (mode, experiments, share, export and
// panel menus, language), an embed's compact header, the toolbar with its live numbers, the
// experiment cards and explanation, and the run chips of a comparison. Built from the App's state
// (app.ts) and calling back into it; nothing here holds state of its own.
import { EXPERIMENTS } from './experiments';
import { addRun, removeRun } from './compare';
import { fmtInt, translate, type MessageKey } from './i18n';
import { LANGS, MAX_RUNS, PANELS, RUN_LETTERS, cloneState, type AppState, type Notice } from './state';
import { serialize } from './url';
import type { Run, Session } from './session';
import type { FileIO } from './fileio';
import { h, clear, icon, setText } from './dom';
import { RUN_COLORS } from './charts/colors';
import { fmtLoss, fmtMs } from './chartData';
import { panelFits } from './panels';
import { continueLr } from './session';
import { fmtValue } from './charts/readout';
import { MAX_LOG_BYTES } from './runlog';
import { embedText } from './embedText';

/** The speeds the toolbar offers, steps a second (0: as fast as it goes). */
export const SPEEDS = [0, 2000, 500, 100, 20];
/** The toolbar's train loss: the mean over this many latest steps (one step's loss is noisy). */
export const LOSS_MEAN_STEPS = 20;

/** A notice's text: fixed, or made in the page's language when drawn. */
export type Text = string | (() => string);
const say = (t: Text): string => (typeof t === 'function' ? t() : t);

/** A notice. Text and labels are functions of the current language where they are translated, so a
 *  language switch re-renders them in the new one (plain strings are messages from the core). */
export interface Message { kind: 'error' | 'warn' | 'info'; text: Text; action?: { label: Text; run: () => void }; tag?: string }

/** What the chrome reads from and calls on the App. */
export interface ChromeHost {
  readonly state: AppState;
  readonly session: Session;
  readonly io: FileIO;
  readonly root: HTMLElement;
  readonly opts: { embed?: { fullUrl?: (hash: string) => string } };
  readonly charts: { empty: HTMLElement | null };
  /** Elements the App and the chrome both update (messages, panels, play button, numbers, chips). */
  readonly els: Record<string, HTMLElement>;
  selected: number;
  menu: 'export' | 'panels' | null;
  showExps: boolean;
  showKeys: boolean;
  readonly offscreen: boolean;
  readonly wasPlaying: boolean;
  /** Play was pressed while building: training starts when the build ends. */
  readonly playAfterBuild: boolean;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  setState(next: AppState, how?: { rebuild?: 'now' | 'soon' | 'no'; render?: boolean }): void;
  setMode(mode: 'single' | 'compare'): void;
  render(): void;
  toggle(): void;
  reset(): void;
  step(): void;
  openExperiment(id: string): void;
  copyLink(btn: HTMLElement): Promise<void>;
  runName(i: number): string;
  urlNotices: Notice[];
  messages: Message[];
  offer: { n: number } | null;
  continueRuns(n: number): Promise<void>;
  restart(): void;
}

/** A gpt or cnn run (the nets that train on several threads) held to one thread because the page is not
 *  cross-origin isolated (engine/wasm.ts engineThreads): the widget says so (issue 20). */
export function oneThreadFallback(r: Run | undefined): boolean {
  if (!r?.engine || r.engine.info.threads > 1 || r.engine.info.kind === 'mlp') return false;
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true;
}

export class Chrome {
  constructor(private readonly host: ChromeHost) {}

  renderHeader(): HTMLElement {
    const s = this.host.state;
    const langSel = h('select', { class: 'rp-lang', 'aria-label': this.host.t('tb.language'), onchange: (e: Event) => {
      const n = cloneState(this.host.state); n.lang = (e.target as HTMLSelectElement).value as AppState['lang']; this.host.setState(n, { rebuild: 'no' });
    } }, ...LANGS.map((l) => h('option', { value: l, selected: l === s.lang }, translate(l, 'lang.name'))));
    const seg = h('div', { class: 'rp-seg', role: 'group', 'aria-label': this.host.t('tb.mode') },
      ...(['single', 'compare'] as const).map((m) => h('button', {
        type: 'button', class: s.mode === m ? 'on' : '', 'aria-pressed': String(s.mode === m), 'data-mode': m,
        onclick: () => this.host.setMode(m),
      }, this.host.t(`mode.${m}` as MessageKey))));
    const share = h('button', { type: 'button', class: 'rp-btn', onclick: (e: Event) => void this.host.copyLink(e.currentTarget as HTMLElement) }, this.host.t('tb.share'));
    const exps = h('button', { type: 'button', class: `rp-btn${this.host.showExps ? ' on' : ''}`, 'aria-expanded': String(this.host.showExps), 'data-action': 'experiments',
      onclick: () => { this.host.showExps = !this.host.showExps; this.host.render(); } }, this.host.t('tb.experiments'));
    return h('header', { class: 'rp-header' },
      h('div', { class: 'rp-brand' }, h('h1', {}, this.host.t('app.title')), h('p', { class: 'rp-tagline' }, this.host.t('app.tagline'))),
      h('nav', { class: 'rp-nav' }, exps, seg, share, this.renderExportMenu(), this.renderPanelsMenu(),
        h('button', { type: 'button', class: 'rp-btn rp-icon', title: this.host.t('tb.keys'), 'aria-label': this.host.t('tb.keys'), onclick: () => { this.host.showKeys = !this.host.showKeys; this.host.render(); } }, '?'),
        langSel));
  }

  renderEmbedHeader(): HTMLElement {
    const s = this.host.state;
    const title = s.exp ? this.host.t(`exp.${s.exp}.title` as MessageKey) : this.host.t('app.title');
    const full = this.host.opts.embed?.fullUrl?.(serialize(s));
    this.host.els.threadNote = h('span', { class: 'rp-threadnote', 'data-stat': 'threads' }, '');
    return h('header', { class: 'rp-eheader' },
      h('strong', {}, title),
      this.host.els.threadNote,
      h('span', { class: 'rp-spacer' }),
      this.renderExportMenu(),
      h('button', { type: 'button', class: 'rp-btn rp-small', 'data-action': 'lang', onclick: () => {
        const n = cloneState(this.host.state); n.lang = n.lang === 'en' ? 'zh' : 'en'; this.host.setState(n, { rebuild: 'no' });
      } }, translate(s.lang === 'en' ? 'zh' : 'en', 'lang.name')),
      full ? h('a', { class: 'rp-full', href: full, target: '_blank', rel: 'noopener' }, this.host.t('tb.open_full')) : null);
  }

  /**
   * Opens or closes a header menu by rebuilding that menu alone. A whole render() rebuilt every chart
   * too: 78-103 ms on the main thread for opening Export while runs trained (issue 13: no main-thread task
   * over 50 ms). The menu's toggle button keeps the keyboard focus if it had it.
   */
  private swapMenu(from: HTMLElement, next: 'export' | 'panels' | null, build: () => HTMLElement): void {
    this.host.menu = next;
    const old = from.closest('.rp-menu');
    if (!old) { this.host.render(); return; }
    const focused = old.contains(document.activeElement);
    const fresh = build();
    old.replaceWith(fresh);
    if (focused) fresh.querySelector<HTMLElement>('button[aria-haspopup]')?.focus();
  }

  renderExportMenu(): HTMLElement {
    const open = this.host.menu === 'export';
    const file = h('input', { type: 'file', accept: '.safetensors,application/octet-stream', class: 'rp-hidden', 'data-action': 'upload',
      onchange: (e: Event) => {
        const f = (e.target as HTMLInputElement).files?.[0];
        if (f) void this.host.io.loadModel(f);
        (e.target as HTMLInputElement).value = '';
      } });
    const item = (label: string, fn: () => void, action: string, disabled = false) => h('button', { type: 'button', role: 'menuitem', 'data-action': action, disabled, title: disabled ? this.host.t('ex.empty') : undefined,
      onclick: (e: Event) => { this.swapMenu(e.currentTarget as HTMLElement, null, () => this.renderExportMenu()); fn(); } }, label);
    const empty = !this.host.io.hasMetrics();
    const logFile = h('input', { type: 'file', accept: '.jsonl,.ndjson,application/jsonl,application/x-ndjson', class: 'rp-hidden', 'data-action': 'import-log',
      onchange: (e: Event) => {
        const f = (e.target as HTMLInputElement).files?.[0];
        if (f) void this.host.io.importLog(f);
        (e.target as HTMLInputElement).value = '';
      } });
    return h('div', { class: 'rp-menu' },
      h('button', { type: 'button', class: `rp-btn${this.host.opts.embed ? ' rp-small' : ''}`, 'aria-haspopup': 'menu', 'aria-expanded': String(open), 'data-action': 'export-menu',
        onclick: (e: Event) => this.swapMenu(e.currentTarget as HTMLElement, open ? null : 'export', () => this.renderExportMenu()) }, this.host.t('tb.export'), ' ▾'),
      open ? h('div', { class: 'rp-menu-list', role: 'menu' },
        item(this.host.t('ex.csv'), () => this.host.io.exportMetrics('csv'), 'csv', empty),
        item(this.host.t('ex.json'), () => this.host.io.exportMetrics('json'), 'json', empty),
        empty ? h('small', { class: 'rp-menu-note' }, this.host.t('ex.empty')) : null,
        item(this.host.t('ex.save'), () => void this.host.io.saveModel(), 'save'),
        h('label', { class: 'rp-menu-file', role: 'menuitem' }, this.host.t('ex.load'), file),
        this.host.state.mode === 'compare' ? h('small', {}, this.host.t('ex.load_compare', { run: RUN_LETTERS[this.host.selected].toUpperCase() })) : null,
        h('label', { class: 'rp-menu-file', role: 'menuitem' }, this.host.t('ex.log'), logFile),
        h('small', { class: 'rp-menu-note rp-log-note' }, this.host.t('ex.log_note', { max: MAX_LOG_BYTES / 1048576 }))) : h('span', {}, file, logFile));
  }

  renderPanelsMenu(): HTMLElement {
    const open = this.host.menu === 'panels';
    const kind = this.host.state.config.kind;
    return h('div', { class: 'rp-menu' },
      h('button', { type: 'button', class: 'rp-btn', 'aria-haspopup': 'menu', 'aria-expanded': String(open), 'data-action': 'panels-menu',
        onclick: (e: Event) => this.swapMenu(e.currentTarget as HTMLElement, open ? null : 'panels', () => this.renderPanelsMenu()) }, this.host.t('tb.panels'), ' ▾'),
      open ? h('div', { class: 'rp-menu-list', role: 'menu' }, ...PANELS.filter((p) => panelFits(p, kind)).map((p) => h('label', { class: 'rp-check' },
        h('input', { type: 'checkbox', checked: this.host.state.panels.includes(p), onchange: (e: Event) => {
          const n = cloneState(this.host.state);
          const on = (e.target as HTMLInputElement).checked;
          n.panels = PANELS.filter((q) => (q === p ? on : n.panels.includes(q)));
          if (!n.panels.length) n.panels = ['loss'];
          this.host.menu = 'panels';
          this.host.setState(n, { rebuild: 'no' });
        } }), this.host.t(`p.${p}` as MessageKey)))) : null);
  }

  renderToolbar(): HTMLElement {
    const btn = (cls: string, label: string, ic: string, fn: () => void, key: string) =>
      h('button', { type: 'button', class: `rp-tool ${cls}`, title: `${label} (${key})`, 'aria-label': label, onclick: fn }, icon(ic));
    this.host.els.play = btn('rp-play', this.host.t('tb.play'), 'play', () => this.host.toggle(), this.host.t('key.space'));
    const speed = h('select', { class: 'rp-speed', 'aria-label': this.host.t('tb.speed'), onchange: (e: Event) => { this.host.session.speed = Number((e.target as HTMLSelectElement).value); } },
      ...SPEEDS.map((v) => h('option', { value: v, selected: v === this.host.session.speed }, v === 0 ? this.host.t('tb.speed_max') : this.host.t('tb.speed_n', { n: v }))));
    this.host.els.stepCount = h('span', { class: 'rp-num', 'data-stat': 'step' }, '0');
    this.host.els.rate = h('span', { class: 'rp-num', 'data-stat': 'rate' }, '–');
    this.host.els.ms = h('span', { class: 'rp-num', 'data-stat': 'ms' }, '–');
    this.host.els.status = h('span', { class: 'rp-status', 'data-stat': 'status' }, '');
    this.host.els.params = h('span', { class: 'rp-params' }, '');
    // single run: its numbers here (a comparison shows them on each run's chip)
    const single = this.host.state.mode === 'single';
    const numStat = (key: string, label: MessageKey, title?: string) => {
      const el = h('span', { class: 'rp-num', 'data-stat': key }, '–');
      this.host.els[`stat_${key}`] = el;
      return h('div', { class: 'rp-stat rp-stat-metric', 'data-metric': key, title }, h('label', {}, this.host.t(label)), el);
    };
    for (const k of ['stat_loss', 'stat_val', 'stat_acc']) delete this.host.els[k];
    return h('div', { class: 'rp-toolbar' },
      h('div', { class: 'rp-tools' },
        btn('rp-reset', this.host.t('tb.reset'), 'reset', () => this.host.reset(), 'r'),
        this.host.els.play,
        btn('rp-stepbtn', this.host.t('tb.step'), 'step', () => this.host.step(), 'n')),
      h('div', { class: 'rp-stats' },
        h('div', { class: 'rp-stat rp-stat-big' }, h('label', {}, this.host.t('tb.step_count')), this.host.els.stepCount),
        h('div', { class: 'rp-stat' }, h('label', {}, this.host.t('tb.rate')), this.host.els.rate),
        h('div', { class: 'rp-stat' }, h('label', {}, this.host.t('tb.ms')), this.host.els.ms),
        single ? numStat('loss', 'tb.loss', this.host.t('tb.loss_title', { n: LOSS_MEAN_STEPS })) : null,
        single ? numStat('val', 'tb.val') : null,
        single && this.host.state.config.kind !== 'gpt' ? numStat('acc', 'tb.acc') : null,
        h('div', { class: 'rp-stat' }, h('label', {}, this.host.t('tb.speed')), speed)),
      h('div', { class: 'rp-statusbox' }, this.host.els.status, this.host.els.params));
  }

  renderExperiments(): HTMLElement {
    return h('section', { class: 'rp-exps', 'aria-label': this.host.t('tb.experiments') },
      h('p', { class: 'rp-exps-intro' }, this.host.t('exp.intro')),
      h('div', { class: 'rp-exp-cards' }, ...EXPERIMENTS.map((e) => h('article', { class: `rp-exp-card${this.host.state.exp === e.id ? ' on' : ''}` },
        h('h3', {}, this.host.t(`exp.${e.id}.title` as MessageKey)),
        h('p', {}, this.host.t(`exp.${e.id}.short` as MessageKey)),
        h('button', { type: 'button', class: 'rp-btn rp-primary', 'data-exp': e.id, onclick: () => this.host.openExperiment(e.id) }, this.host.t('exp.run'))))));
  }

  renderExplanation(): HTMLElement {
    const e = EXPERIMENTS.find((x) => x.id === this.host.state.exp)!;
    return h('section', { class: 'rp-explain' },
      h('button', { type: 'button', class: 'rp-close', 'aria-label': this.host.t('exp.close'), onclick: () => { const n = cloneState(this.host.state); n.exp = ''; this.host.setState(n, { rebuild: 'no' }); } }, '×'),
      h('h2', {}, this.host.t(`exp.${e.id}.title` as MessageKey)),
      h('p', {}, this.host.t(`exp.${e.id}.body` as MessageKey)),
      h('p', { class: 'rp-look' }, h('strong', {}, this.host.t('exp.look'), ': '), this.host.t(`exp.${e.id}.look` as MessageKey)),
      h('p', { class: 'rp-cite', lang: 'en' }, e.cite),  // a paper's authors and title, as published
      h('button', { type: 'button', class: 'rp-btn rp-small rp-explain-more', 'aria-expanded': 'false', onclick: (ev: Event) => {
        const b = ev.currentTarget as HTMLElement;
        b.closest('.rp-explain')?.classList.add('open');
        b.setAttribute('aria-expanded', 'true');
      } }, this.host.t('exp.more')));
  }

  renderRuns(): HTMLElement {
    const s = this.host.state;
    const chips: HTMLElement[] = [];
    for (let i = 0; i <= s.runs.length; i++) {
      const chip = h('div', { class: `rp-run${i === this.host.selected ? ' on' : ''}`, style: `--run:${RUN_COLORS[i]}`, 'data-run': RUN_LETTERS[i] },
        h('button', { type: 'button', class: 'rp-run-pick', 'aria-pressed': String(i === this.host.selected), onclick: () => { this.host.selected = i; this.host.render(); } },
          h('span', { class: 'rp-swatch' }), h('span', { class: 'rp-run-label' }, this.host.runName(i))),
        h('span', { class: 'rp-run-stat' }, ''),
        s.runs.length > 0 ? h('button', { type: 'button', class: 'rp-run-x', 'aria-label': this.host.t('cmp.remove', { run: RUN_LETTERS[i].toUpperCase() }), title: this.host.t('cmp.remove', { run: RUN_LETTERS[i].toUpperCase() }),
          onclick: () => { this.host.selected = 0; this.host.setState(removeRun(this.host.state, i), { rebuild: 'now' }); } }, '×') : null);
      chips.push(chip);
    }
    this.host.els.runs = h('div', { class: 'rp-runs-list' }, ...chips,
      s.runs.length + 1 < MAX_RUNS ? h('button', { type: 'button', class: 'rp-btn rp-add-run', onclick: () => {
        const n = addRun(this.host.state, this.host.selected);
        this.host.selected = n.runs.length;
        this.host.setState(n, { rebuild: 'now', render: true });
      } }, this.host.t('cmp.add')) : null);
    return h('section', { class: 'rp-runs' },
      this.host.els.runs,
      h('p', { class: 'rp-hint' }, this.host.opts.embed ? '' : (this.host.selected === 0 ? this.host.t('cmp.hint') : this.host.t('cmp.editing', { run: RUN_LETTERS[this.host.selected].toUpperCase() }))));
  }


  syncToolbar(): void {
    const e = this.host.els;
    if (!e.play) return;
    const playing = this.host.session.playing;
    // Play pressed while building: the button already shows pause (pressing it again cancels) and pulses
    const starting = !playing && this.host.playAfterBuild;
    const lang = this.host.state.lang;
    e.play.classList.toggle('on', playing);
    e.play.classList.toggle('starting', starting);
    e.play.setAttribute('aria-label', starting ? embedText(lang, 'starting') : playing ? this.host.t('tb.pause') : this.host.t('tb.play'));
    e.play.title = starting ? embedText(lang, 'starting_title') : `${playing ? this.host.t('tb.pause') : this.host.t('tb.play')} (${this.host.t('key.space')})`;
    const shown = String(playing || starting);
    if (e.play.dataset.icon !== shown) {
      e.play.dataset.icon = shown;
      e.play.replaceChildren(icon(playing || starting ? 'pause' : 'play'));
    }
    const runs = this.host.session.runs;
    setText(e.stepCount, fmtInt(this.host.state.lang, this.host.session.steps));
    const rate = this.host.session.rate;
    setText(e.rate, playing || rate ? (rate < 10 ? rate.toFixed(1) : fmtInt(this.host.state.lang, rate)) : '–');
    const ms = runs.map((r) => r.metrics?.recentMs(50) ?? NaN).filter(Number.isFinite);
    setText(e.ms, ms.length ? fmtMs(ms.reduce((a, b) => a + b, 0) / ms.length) : '–');
    let status: string;
    const st = runs.map((r) => r.status);
    if (starting) status = embedText(lang, 'starting');
    else if (!runs.length) status = '';
    else if (st.includes('building')) status = this.host.t('status.building');
    else if (st.includes('error')) status = this.host.t('status.error');
    else if (playing) status = this.host.t('status.running');
    else if (this.host.offscreen && this.host.wasPlaying) status = this.host.t('el.offscreen');
    else if (st.every((x) => x === 'done')) status = this.host.t('status.done', { n: fmtInt(this.host.state.lang, this.host.session.steps) });
    else if (st.includes('diverged')) status = this.host.t('status.diverged');
    else if (st.includes('crashed')) status = this.host.t('status.crashed');
    else if (st.every((x) => x === 'inspect')) status = this.host.t('status.inspect');
    else status = this.host.session.steps ? this.host.t('status.paused') : this.host.t('status.ready');
    setText(e.status, status);
    // before the first step: "Press Play", and once Play is pressed "First step…" until it comes back
    if (this.host.charts.empty) setText(this.host.charts.empty, playing && this.host.session.steps === 0 ? this.host.t('p.first_step') : this.host.t('p.none_yet'));
    e.status.dataset.state = playing ? 'running' : starting ? 'starting' : st.includes('diverged') || st.includes('error') || st.includes('crashed') ? 'bad' : 'idle';
    if (e.stat_loss) {
      const m = runs[0]?.metrics;
      const n = Math.min(LOSS_MEAN_STEPS, m?.loss.length ?? 0);
      let sum = 0, cnt = 0;
      for (let i = (m?.loss.length ?? 0) - n; m && i < m.loss.length; i++) if (Number.isFinite(m.loss.data[i])) { sum += m.loss.data[i]; cnt++; }
      setText(e.stat_loss, cnt ? fmtLoss(sum / cnt) : n ? String(m!.loss.last()) : '–');
      const last = m?.evals[m.evals.length - 1];
      if (e.stat_val) setText(e.stat_val, last ? fmtLoss(last.valLoss) : '–');
      if (e.stat_acc) setText(e.stat_acc, last && last.accuracy >= 0 ? `${(last.accuracy * 100).toFixed(1)}%` : '–');
    }
    if (this.host.menu === 'export') {
      const empty = !this.host.io.hasMetrics();
      this.host.root.querySelectorAll<HTMLButtonElement>('[data-action="csv"], [data-action="json"]').forEach((b) => {
        b.disabled = empty;
        b.title = empty ? this.host.t('ex.empty') : '';
      });
      const note = this.host.root.querySelector<HTMLElement>('.rp-menu-note:not(.rp-log-note)');
      if (note) note.hidden = !empty;
    }
    const info = runs[0]?.engine?.info;
    const threads = this.host.state.mode !== 'single' ? '' : oneThreadFallback(runs[0]) ? embedText(lang, 'one_thread') : this.threadsText(runs[0]);  // a comparison shows it on each chip
    setText(e.params, info ? [this.host.t('tb.params', { n: fmtInt(this.host.state.lang, info.params) }), threads].filter(Boolean).join(' · ') : '');
    e.params.title = threads ? this.host.t('tb.threads_title') : '';
    if (e.threadNote) {
      const one = oneThreadFallback(runs[0]);
      setText(e.threadNote, one ? embedText(lang, 'one_thread') : '');
      e.threadNote.title = one ? embedText(lang, 'one_thread_title') : '';
    }
    this.host.root.dataset.steps = String(this.host.session.steps);
    this.host.root.dataset.playing = String(playing);
  }

  syncRunStats(): void {
    const box = this.host.els.runs;
    if (!box || this.host.state.mode !== 'compare') return;
    for (const r of this.host.session.runs) {
      const el = box.querySelector(`[data-run="${RUN_LETTERS[r.index]}"] .rp-run-stat`);
      if (!el) continue;
      const m = r.metrics;
      const last = m?.evals[m.evals.length - 1];
      const bits: string[] = [];
      if (m && Number.isFinite(m.recentMs())) bits.push(`${fmtMs(m.recentMs())} ${this.host.t('tb.ms')}`);
      const threads = this.threadsText(r);
      if (threads) bits.push(threads);
      (el as HTMLElement).title = threads ? this.host.t('tb.threads_title') : '';
      if (last) bits.push(last.accuracy >= 0 ? this.host.t('eval.acc', { acc: `${(last.accuracy * 100).toFixed(1)}%` }) : this.host.t('eval.val', { v: last.valLoss.toFixed(3) }));
      if (r.status !== 'ready' && r.status !== 'done') bits.push(this.host.t(`status.${r.status}` as MessageKey, { n: m?.steps ?? 0 }));
      setText(el, bits.join(' · '));
      el.parentElement!.classList.toggle('bad', r.status === 'diverged' || r.status === 'crashed' || r.status === 'error');
    }
  }

  /** "3 threads" while a run trains on an engine that can use more than one (the pthreads build on a cross-origin
   *  isolated page), its share of the cores (Session.balance); '' otherwise, where it is always one. */
  private threadsText(r: Run | undefined): string {
    if (!r?.engine || r.status !== 'ready' || r.engine.info.threads <= 1) return '';
    return r.threads === 1 ? this.host.t('tb.thread1') : this.host.t('tb.threads', { n: r.threads });
  }

  /** The notices: the link's, the continue offer, then the messages (each with its action and "dismiss"). */
  renderMessages(): void {
    const box = this.host.els.messages;
    if (!box) return;
    clear(box);
    if (this.host.urlNotices.length) {
      box.append(h('div', { class: 'rp-msg warn', 'data-notice': 'url' },
        h('span', {}, this.host.t('notice.url'), ' ', this.host.urlNotices.map((n) => {
          if (n.msg) return this.host.t(n.msg, n.vars);
          const what = n.how === 'ignored' || n.how === undefined || n.used === undefined ? this.host.t('notice.how.ignored') : this.host.t(`notice.how.${n.how}`, { v: n.used });
          return `${n.key}=${JSON.stringify(n.value)} (${n.reason}): ${what}`;
        }).join('; ')),
        h('button', { type: 'button', class: 'rp-btn rp-small', onclick: () => { this.host.urlNotices = []; this.renderMessages(); } }, this.host.t('notice.dismiss'))));
    }
    if (this.host.offer) box.append(this.renderOffer(this.host.offer));
    for (const m of this.host.messages) {
      box.append(h('div', { class: `rp-msg ${m.kind}`, 'data-tag': m.tag }, h('span', {}, say(m.text)),
        m.action ? h('button', { type: 'button', class: 'rp-btn rp-small', onclick: m.action.run }, say(m.action.label)) : null,
        h('button', { type: 'button', class: 'rp-btn rp-small', onclick: () => { this.host.messages = this.host.messages.filter((x) => x !== m); this.renderMessages(); } }, this.host.t('notice.dismiss'))));
    }
  }

  /** "Continue for N more steps" or "restart", offered by Play on finished runs. */
  private renderOffer(offer: { n: number }): HTMLElement {
    const done = this.host.session.runs.filter((r) => r.status === 'done' && r.metrics);
    const lrs = [...new Set(done.map((r) => fmtValue(continueLr(r.metrics!, r.config))))].join(', ');
    const steps = fmtInt(this.host.state.lang, this.host.session.steps);
    const input = h('input', { type: 'number', min: 1, max: 1000000, step: 1, value: offer.n, class: 'rp-offer-n', 'data-action': 'continue-n',
      'aria-label': this.host.t('notice.continue_n') }) as HTMLInputElement;
    const go = h('button', { type: 'button', class: 'rp-btn rp-small rp-primary', 'data-action': 'continue', onclick: () => {
      const n = Number(input.value);
      void this.host.continueRuns(Number.isFinite(n) && n >= 1 ? n : offer.n);
    } }, this.host.t('notice.continue', { n: fmtInt(this.host.state.lang, offer.n) }));
    input.addEventListener('input', () => {
      const n = Math.floor(Number(input.value));
      if (Number.isFinite(n) && n >= 1) { offer.n = n; go.textContent = this.host.t('notice.continue', { n: fmtInt(this.host.state.lang, n) }); }
    });
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') go.click(); });
    return h('div', { class: 'rp-msg info rp-offer', 'data-notice': 'offer' },
      h('span', {}, this.host.t(done.length > 1 ? 'notice.offer_many' : 'notice.offer', { n: steps, lr: lrs })),
      h('span', { class: 'rp-offer-actions' },
        input, go,
        h('button', { type: 'button', class: 'rp-btn rp-small', 'data-action': 'restart-run', onclick: () => { this.host.offer = null; this.host.restart(); } }, this.host.t('notice.restart_run')),
        h('button', { type: 'button', class: 'rp-btn rp-small', onclick: () => { this.host.offer = null; this.renderMessages(); } }, this.host.t('notice.dismiss'))));
  }
}
