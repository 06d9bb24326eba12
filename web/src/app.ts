// The one glue file: builds the playground inside a root element and wires controls -> state ->
// engines (Session) -> charts. The main page, embed.html and the <resnorm-playground> element all
// mount this with different options.
import {
  FIELDS, FIELD_BY_KEY, checkValue, dataFits, maxDepth as maxDepthFor, shownFor, crossProblems, isTextData, mergeConfig, parseNumber, toEngineConfig, type Field, type FlatConfig, type NumField,
} from './config/fields';
import { PRESET_NAMES, kindConfig, presetConfig } from './config/presets';
import { addRun, removeRun, runLabel, setRunField } from './compare';
import { EXPERIMENTS, experimentState } from './experiments';
import { canvasesToPng, download, type LegendItem, type PngPart } from './export';
import { FileIO } from './fileio';
import { MAX_LOG_BYTES } from './runlog';
import { fmtInt, hasKey, translate, type MessageKey } from './i18n';
import { LANGS, MAX_RUNS, PANELS, RUN_LETTERS, cloneState, runConfigs, type AppState, type Notice, type PanelId } from './state';
import { serialize } from './url';
import { GRID_RES, Session, type EngineFactory, type EngineLike, type Run } from './session';
import { RunMetrics } from './metrics';
import { h, clear, icon } from './dom';
import { LineChart, type LineHit, type SeriesSpec } from './charts/lineChart';
import { Heatmap, logRange } from './charts/heatmap';
import { Boundary } from './charts/boundary';
import { AttentionView, showChar } from './charts/attention';
import { DigitsView } from './charts/digits';
import { BOUNDARY_LUT, BLUES_LUT, CLASS_COLORS, LOG_COLORS, RUN_COLORS, logSafe } from './charts/colors';
import { fmtValue, lastAtOrBelow, watchPointer, type At } from './charts/readout';
import { continueLr } from './session';
import { mib } from './engine/budget';
import { FrameScheduler } from './frames';
import { blockRanges, blowupWhere, fmtLoss, fmtMs, lossSeries, niceCeil, robustCap } from './chartData';
import { changedKeys, diffEdits, editSchedule, onlyLive, startState } from './edits';
import { OwnTextPanel } from './owndata/panel';
import { PointsEditor } from './owndata/pointsPanel';
import type { Pt } from './owndata/points';
import { ownPoints, ownText, ownTextReady } from './owndata/store';

export interface EmbedOptions {
  /** Field keys whose controls are shown (null: all). */
  controls: string[] | null;
  /** Total height in CSS px (0: natural height). */
  height: number;
  /** Link to the full playground with this state. */
  fullUrl?: (hash: string) => string;
}

export interface AppOptions {
  root: HTMLElement;
  state: AppState;
  notices: Notice[];
  factory: EngineFactory;
  /** Compact widget for blog posts and iframes (no header menus, chosen controls only). */
  embed?: EmbedOptions;
  /** Called after every state change with the serialized state (the main page writes the hash). */
  onState?: (hash: string) => void;
  /** Called at once after every state change (the main page sets the document's language). */
  onChange?: (state: AppState) => void;
  /** Where keyboard shortcuts listen (the document for the main page, the widget for embeds). */
  keyTarget: HTMLElement | Document;
  /** Start training as soon as the engines are ready. */
  autoplay?: boolean;
  /** Build the engines only when the widget is first on screen (see setOffscreen). */
  lazy?: boolean;
}

/** Fields tucked under "More settings" (all still editable). */
const ADVANCED = new Set(['beta1', 'beta2', 'opt_eps', 'momentum', 'min_lr', 'eval_batches', 'samples', 'test', 'eval', 'dseed']);
const SPEEDS = [0, 2000, 500, 100, 20];

/** A notice's text: fixed, or made in the page's language when drawn. */
type Text = string | (() => string);
const say = (t: Text): string => (typeof t === 'function' ? t() : t);

type ZeroWhere = 'heat' | 'profile' | 'rms' | 'update';

interface PanelParts {
  loss?: LineChart;
  heat: Heatmap[];
  profile?: LineChart;
  rms?: LineChart;
  update?: LineChart;
  boundary: Boundary[];
  samples?: HTMLElement;
  attention?: AttentionView;
  attnRunSel?: HTMLSelectElement;
  attnLayerSel?: HTMLSelectElement;
  digits?: DigitsView;
  /** "Exactly 0" notes: the heatmap and the per-block charts (gradient, activation RMS, update ratio). */
  zeroNotes: { el: HTMLElement; where: ZeroWhere }[];
  /** Each panel's read-out line and what it shows now (null: the hint); `pinned` by a tap. */
  readouts: Map<PanelId, Readout>;
}

interface Readout { el: HTMLElement; text: (() => string | null) | null; pinned: boolean }

export class App {
  state: AppState;
  readonly session: Session;
  private root: HTMLElement;
  private urlNotices: Notice[];
  /** Notices. Text and labels are functions of the current language where they are translated, so a
   *  language switch re-renders them in the new one (plain strings are messages from the core). */
  private messages: { kind: 'error' | 'warn' | 'info'; text: Text; action?: { label: Text; run: () => void }; tag?: string }[] = [];
  /** The runs (by index) the line charts' series were last set up for. */
  private chartRuns = '';
  private selected = 0;            // the run whose settings the controls edit (compare mode)
  private parts: PanelParts = { heat: [], boundary: [], zeroNotes: [], readouts: new Map() };
  /** When the charts redraw (frames.ts). */
  private readonly frames = new FrameScheduler(() => this.draw());
  private rebuildTimer = 0;
  private hashTimer = 0;
  private showExps: boolean;
  private showKeys = false;
  private menu: 'export' | 'panels' | null = null;
  private els: Record<string, HTMLElement> = {};
  /**
   * Each control's elements; `pending` holds a typed number that was refused (shown as typed, in red,
   * until a valid value replaces it or the field changes some other way), with the value still in use.
   */
  private ctrlInputs = new Map<string, { row: HTMLElement; inputs: (HTMLInputElement | HTMLSelectElement)[]; msg: HTMLElement; pending?: { raw: string; inUse: string | number } }>();
  private destroyed = false;
  /** "Your text" in the gpt data settings (owndata/panel.ts). */
  private own: OwnTextPanel | null = null;
  /** "Your own points" under the mlp's decision boundary (owndata/pointsPanel.ts). */
  private pts: PointsEditor | null = null;
  private builtConfigs = '';
  private keyHandler: (e: Event) => void;
  /** Files in and out: metrics, models, training logs, drops (fileio.ts). */
  readonly io: FileIO;
  private unwatchDrops: () => void;
  private wasPlaying = false;
  private offscreen = false;
  private startStep: number[] = [];
  /** Play once the engines being built are ready ("Run this" on an experiment). */
  private playAfterBuild = false;
  /** Play pressed on finished runs: the offer to continue them (for `n` more steps) or restart. */
  private offer: { n: number } | null = null;

  constructor(private opts: AppOptions) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.root = opts.root;
    this.state = cloneState(opts.state);
    this.urlNotices = opts.notices;
    this.showExps = !opts.embed && !this.state.exp;
    this.session = new Session(opts.factory);
    // 100 steps a second: the default run (mlp-spiral, 1000 steps) forms its boundary over ~10 s that a
    // student can watch; "max" is one click away (a transformer's steps are slower than this anyway).
    this.session.speed = 100;
    this.session.on('update', () => this.invalidate());
    this.session.on('playing', () => this.syncToolbar());
    this.session.on('stopped', (run, reason) => this.onStopped(run, reason));
    this.session.on('built', (ok) => this.onBuilt(ok));
    this.io = new FileIO({
      get state() { return self.state; },
      session: this.session,
      factory: opts.factory,
      get selected() { return self.selected; },
      notice: (tag, kind, text, action) => {
        this.messages = this.messages.filter((m) => m.tag !== tag);
        this.messages.push({ kind, text, tag, action });
        this.renderMessages();
      },
      adopt: (engine, config, step) => this.adopt(engine, config, step),
      reloaded: () => this.resetCharts(),
      logsChanged: () => {
        this.messages = this.messages.filter((m) => !m.tag?.startsWith('log:') || this.io.logs.some((l) => m.tag!.endsWith(`:${l.name}`)));
        this.renderMessages();
        this.resetCharts();
      },
      get text() { return self.own ?? undefined; },
      get points() { return self.pts ?? undefined; },
    });
    this.unwatchDrops = this.io.watchDrops(this.root);
    this.keyHandler = (e) => this.onKey(e as KeyboardEvent);
    opts.keyTarget.addEventListener('keydown', this.keyHandler);
    this.root.classList.add('rp-app');
    if (opts.embed) this.root.classList.add('rp-embed');
    this.offscreen = !!opts.lazy;
    this.render();
    if (!opts.lazy) void this.rebuild();
  }

  private t(key: MessageKey, vars?: Record<string, string | number>): string {
    return translate(this.state.lang, key, vars);
  }
  private optLabel(v: string): string {
    const k = `opt.${v}`;
    return hasKey(k) ? this.t(k) : v;
  }

  // ------------------------------------------------------------------ state changes

  /** Applies a new state: what needs rebuilding is worked out from what changed. */
  setState(next: AppState, how: { rebuild?: 'now' | 'soon' | 'no'; render?: boolean } = {}): void {
    const prev = this.state;
    this.state = next;
    const structural = prev.lang !== next.lang || prev.mode !== next.mode || prev.runs.length !== next.runs.length ||
      prev.config.kind !== next.config.kind || prev.panels.join() !== next.panels.join() || prev.exp !== next.exp;
    if (this.selected > next.runs.length || next.mode === 'single') this.selected = 0;
    const configsChanged = JSON.stringify(runConfigs(next)) !== this.builtConfigs;
    if (how.render || structural) this.render();
    else this.sync();
    if (configsChanged && how.rebuild !== 'no') {
      if (how.rebuild === 'soon') {
        clearTimeout(this.rebuildTimer);
        this.rebuildTimer = window.setTimeout(() => this.applyChange(), 300);
      } else this.applyChange();
    }
    this.session.wants.layer = next.layer;
    this.opts.onChange?.(next);
    this.writeHash();
    this.invalidate();
  }

  private writeHash(): void {
    if (!this.opts.onState) return;
    clearTimeout(this.hashTimer);
    this.hashTimer = window.setTimeout(() => this.opts.onState?.(serialize(this.state)), 100);
  }

  /** Replaces the whole state (a pasted link, an experiment). */
  load(state: AppState, notices: Notice[] = []): void {
    this.urlNotices = notices;
    this.fromLink = true;  // its edits are replayed, not cleared, and nothing of it is a live edit
    try {
      this.setState(cloneState(state), { render: true });
    } finally {
      this.fromLink = false;
    }
  }

  /** The state the running models reflect (set by rebuild and by each live edit). */
  private applied: AppState | null = null;
  private fromLink = false;
  /** Why the last rebuild restarted a run that had trained (settings that cannot change mid-run). */
  private restartedFor: string[] = [];

  /**
   * The settings differ from the running models': settings a running model takes (edits.ts LIVE_KEYS)
   * apply to it at the next step and are recorded in the link; anything else restarts, with a notice.
   */
  private applyChange(): void {
    clearTimeout(this.rebuildTimer);
    const now = runConfigs(this.state);
    if (JSON.stringify(now) === this.builtConfigs) return;
    const before = this.applied;
    // A run that trained and has not finished: a finished run is over, so a change starts a new one
    // (and "continue for N more steps" is how a finished run goes on).
    const trained = this.session.steps > 0 && this.session.live.length > 0;
    if (!this.fromLink && before && trained && onlyLive(runConfigs(before), now)) {
      const at = this.session.edit(now);
      if (at !== null) {
        this.state.edits = [...this.state.edits, ...diffEdits(before, this.state, at)];
        this.applied = cloneState(this.state);
        this.builtConfigs = JSON.stringify(now);
        this.writeHash();
        return;
      }
    }
    this.restartedFor = !this.fromLink && before && trained && before.mode === this.state.mode
      ? changedKeys(runConfigs(before), now) : [];
    if (!this.fromLink) this.state.edits = [];
    this.writeHash();
    void this.rebuild();
  }

  async rebuild(): Promise<void> {
    clearTimeout(this.rebuildTimer);
    const configs = runConfigs(this.state);
    this.builtConfigs = JSON.stringify(configs);
    this.applied = cloneState(this.state);
    // New runs: "all runs finished", "continued", "restarted" and "loaded a checkpoint" no longer describe them.
    this.messages = this.messages.filter((m) => m.kind === 'info' && m.tag !== 'done' && m.tag !== 'load' && m.tag !== 'continued' && m.tag !== 'restarted');
    if (this.restartedFor.length) {
      const keys = this.restartedFor;
      const what = () => keys.map((k) => (hasKey(`f.${k}`) ? this.t(`f.${k}` as MessageKey) : k)).join(this.state.lang === 'zh' ? '、' : ', ');
      this.messages.push({ kind: 'info', text: () => this.t('notice.restarted', { what: what() }), tag: 'restarted' });
      this.restartedFor = [];
    }
    this.offer = null;
    this.startStep = [];
    this.renderMessages();
    const problems = configs.flatMap((c, i) => crossProblems(c).map((p) => `${RUN_LETTERS[i].toUpperCase()}: ${p.key} ${p.reason}`));
    if (problems.length) {
      this.playAfterBuild = false;
      this.session.dispose();
      this.messages.push({ kind: 'error', text: problems.join('; ') });
      this.renderMessages();
      return;
    }
    const mine = configs.some((c) => c.data === 'text') ? 'text' : configs.some((c) => c.data === 'points') ? 'points' : '';
    if (mine) {
      await ownTextReady();
      if (mine === 'text' ? !ownText() : (ownPoints()?.length ?? 0) < 4) {  // a shared link names your own data, which links never carry
        this.playAfterBuild = false;
        this.session.dispose();
        const pick = mine === 'text' ? this.own : this.pts;
        this.messages.push({ kind: 'warn', text: () => this.t(mine === 'text' ? 'own.link' : 'pts.link'), tag: 'own',
          action: pick ? { label: () => this.t(mine === 'text' ? 'own.load_file' : 'pts.load_file'), run: () => pick.pickFile() } : undefined });
        this.renderMessages();
        return;
      }
    }
    this.syncToolbar();
    // Built from the settings before any mid-run edit; the session applies each edit at its step.
    if (this.state.edits.length) await this.session.build(runConfigs(startState(this.state)), undefined, editSchedule(this.state, runConfigs));
    else await this.session.build(configs);
  }

  private onBuilt(ok: boolean): void {
    if (this.destroyed) return;
    if (!ok) {
      for (const r of this.session.runs) {
        if (r.status !== 'error') continue;
        const run = RUN_LETTERS[r.index].toUpperCase(), b = r.overBudget;
        const msg = r.message;
        this.messages.push({ kind: 'error', text: () => (b
          ? this.t(b.inUse > 0 ? 'notice.over_budget_shared' : 'notice.over_budget', { run, need: mib(b.need), limit: mib(b.limit), used: mib(b.inUse) })
          : this.t('notice.build_failed', { run, msg })) });
      }
    }
    this.resetCharts();
    this.renderMessages();
    this.syncToolbar();
    const play = ok && (this.opts.autoplay || this.playAfterBuild) && !this.offscreen;
    this.playAfterBuild = false;
    if (play) this.session.play();
  }

  private onStopped(run: Run, reason: string): void {
    const letter = RUN_LETTERS[run.index].toUpperCase();
    if (reason === 'diverged') {
      const d = run.metrics?.diverged;
      const w = run.metrics ? blowupWhere(run.metrics) : null;
      const why = d?.message || run.message, step = d?.step ?? '?';
      const where = () => [why, w ? this.t('notice.where', { b: w.block, v: w.rms }) : ''].filter(Boolean).join('; ');
      this.messages.push({ kind: 'error', text: () => this.t('notice.diverged', { run: letter, step, where: where() }) });
      if (this.state.mode === 'single') this.session.pause();
    } else if (reason === 'crashed') {
      const msg = run.message;
      this.messages.push({ kind: 'error', text: () => this.t('notice.crashed', { run: letter, msg }),
        action: { label: () => this.t('notice.restart'), run: () => void this.rebuild() } });
    } else if (reason === 'done' && this.session.runs.every((r) => r.status !== 'ready')) {
      if (!this.messages.some((m) => m.tag === 'done')) this.messages.push({ kind: 'info', text: () => this.t('notice.done'), tag: 'done' });
    }
    this.renderMessages();
    this.syncToolbar();
    this.invalidate();
  }

  // ------------------------------------------------------------------ actions

  play(): void { this.session.play(); }
  pause(): void { this.session.pause(); }
  toggle(): void {
    if (this.session.playing) this.session.pause();
    else if (this.session.live.length) this.session.play();
    else if (this.session.runs.some((r) => r.status === 'done') && this.session.runs.every((r) => r.status === 'done' || r.status === 'diverged')) this.offerContinue();
    else if (this.session.runs.length && this.session.runs.every((r) => r.status === 'done' || r.status === 'diverged')) void this.rebuild().then(() => this.session.play());
  }

  /** Play on finished runs: offer "continue for N more steps" or "restart" (the continue button takes the focus). */
  private offerContinue(): void {
    this.offer = { n: this.offer?.n ?? this.continueSteps };
    this.messages = this.messages.filter((m) => m.tag !== 'done');
    this.renderMessages();
    this.els.messages?.querySelector<HTMLButtonElement>('[data-action="continue"]')?.focus({ preventScroll: true });
  }
  /** How many more steps "continue" offers (the last number used, else the run's own length). */
  private get continueSteps(): number { return this.lastContinue || Math.max(1, Number(this.state.config.steps) || 1000); }
  private lastContinue = 0;

  /** Continues the finished runs for n more steps (same model, optimiser state and charts), then plays. */
  async continueRuns(n: number): Promise<void> {
    n = Math.max(1, Math.min(1_000_000, Math.floor(n)));
    this.lastContinue = n;
    this.offer = null;
    this.messages = this.messages.filter((m) => m.tag !== 'done' && m.tag !== 'continued' && m.tag !== 'continue');
    let runs: Run[];
    try {
      runs = await this.session.extend(n);
    } catch (e) {
      this.messages.push({ kind: 'error', text: () => this.t('notice.continue_failed', { msg: e instanceof Error ? e.message : String(e) }), tag: 'continue' });
      this.renderMessages();
      return;
    }
    if (this.destroyed || !runs.length) return;
    const lrs = [...new Set(runs.map((r) => fmtValue(Number(r.config.lr))))].join(', ');
    const total = Math.max(...runs.map((r) => Number(r.config.steps)));
    this.messages.push({ kind: 'info', text: () => this.t('notice.continued', { n: fmtInt(this.state.lang, total), lr: lrs }), tag: 'continued' });
    this.renderMessages();
    this.session.play();
    this.invalidate();
  }
  step(): void { void this.session.stepOnce(); }
  reset(): void {
    this.messages = [];
    void this.rebuild();
  }
  /** Starts the runs again from step 0 and plays ("restart" of the offer). */
  restart(): void {
    this.messages = [];
    this.playAfterBuild = true;
    void this.rebuild();
  }

  /** The widget scrolled out of view: pause, and resume when it comes back if it was playing. */
  setOffscreen(off: boolean): void {
    if (off === this.offscreen) return;
    this.offscreen = off;
    if (!off && !this.builtConfigs) {
      void this.rebuild();  // a lazy widget's first appearance
    } else if (off) {
      this.wasPlaying = this.session.playing;
      this.session.pause();
    } else if (this.wasPlaying) {
      this.session.play();
    }
    this.root.classList.toggle('rp-offscreen', off);
    this.syncToolbar();
  }

  setField(key: string, value: string | number): void {
    let next: AppState;
    if (key === 'kind' && value !== this.state.config.kind) {
      // A different kind of model: start from its default preset (hyperparameters differ a lot), keep the seed.
      next = cloneState(this.state);
      const seed = next.config.seed;
      next.config = kindConfig(value === 'gpt' || value === 'cnn' ? value : 'mlp', seed);
      next.runs = next.runs.map(() => ({}));
      next.layer = 0;
      next.head = 0;
    } else {
      next = setRunField(this.state, this.selected, key, value);
    }
    this.setState(next, { rebuild: 'soon' });
  }

  openExperiment(id: string): void {
    const next = { ...cloneState(this.state), ...experimentState(id, this.state), edits: [] };
    this.selected = 0;
    this.showExps = false;
    this.messages = [];
    // "Run this" runs it: training starts as soon as the engines are built
    this.playAfterBuild = true;
    const same = JSON.stringify(runConfigs(next)) === this.builtConfigs;
    this.setState(next, { render: true, rebuild: 'now' });
    // the same runs as now (nothing to rebuild): start them over and play
    if (same) void this.rebuild();
    if (!this.opts.embed) this.root.querySelector('.rp-explain')?.scrollIntoView({ block: 'nearest' });
  }

  private setMode(mode: 'single' | 'compare'): void {
    const next = cloneState(this.state);
    next.mode = mode;
    if (mode === 'compare' && next.runs.length === 0) next.runs.push({});
    if (mode === 'single') next.exp = '';
    this.setState(next, { rebuild: 'now' });
  }

  /** A checkpoint loaded into a scratch engine (single-run mode) becomes the run, with its config. */
  private adopt(engine: EngineLike, config: FlatConfig, step: number): void {
    const next = cloneState(this.state);
    next.config = config;
    next.exp = '';
    next.edits = [];
    this.builtConfigs = JSON.stringify(runConfigs(next));
    this.applied = cloneState(next);
    this.session.adopt([engine], [config], [step]);
    this.startStep = [step];
    this.setState(next, { rebuild: 'no', render: true });
  }

  private async copyLink(btn: HTMLElement): Promise<void> {
    const url = location.href.split('#')[0] + '#' + serialize(this.state);
    try {
      await navigator.clipboard.writeText(url);
      btn.textContent = this.t('tb.shared');
    } catch {
      btn.textContent = this.t('tb.share_failed');
    }
    setTimeout(() => { btn.textContent = this.t('tb.share'); }, 2000);
  }

  private onKey(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const path = e.composedPath();
    const target = path[0] as HTMLElement | undefined;
    const tag = target?.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || target?.isContentEditable) return;
    const inButton = tag === 'BUTTON' || tag === 'SUMMARY' || tag === 'A';
    switch (e.key) {
      case ' ':
        if (inButton) return;  // space on a button presses that button
        this.toggle();
        break;
      case 'n': case 'N': case 'ArrowRight':
        if (inButton && e.key === 'ArrowRight') return;
        this.step();
        break;
      case 'r': case 'R': this.reset(); break;
      case 'c': case 'C': if (!this.opts.embed) this.setMode(this.state.mode === 'single' ? 'compare' : 'single'); break;
      case 'l': case 'L': { const n = cloneState(this.state); n.logScale = !n.logScale; this.setState(n, { rebuild: 'no' }); break; }
      case 'e': case 'E': if (!this.opts.embed) { this.showExps = !this.showExps; this.render(); } break;
      case '?': this.showKeys = !this.showKeys; this.render(); break;
      case 'Escape': if (this.showKeys || this.menu) { this.showKeys = false; this.menu = null; this.render(); } break;
      default: return;
    }
    e.preventDefault();
  }

  destroy(): void {
    this.destroyed = true;
    this.own?.dispose();
    this.frames.destroy();
    clearTimeout(this.rebuildTimer);
    clearTimeout(this.hashTimer);
    this.opts.keyTarget.removeEventListener('keydown', this.keyHandler);
    this.unwatchDrops();
    this.destroyCharts();
    this.session.dispose();
    clear(this.root);
  }

  // ------------------------------------------------------------------ rendering

  /** Builds the whole DOM from the state (language, mode, panels...). Engines are untouched. */
  render(): void {
    if (this.destroyed) return;
    this.destroyCharts();
    clear(this.root);
    this.ctrlInputs.clear();
    this.root.lang = this.state.lang === 'zh' ? 'zh-CN' : 'en';
    this.root.dataset.mode = this.state.mode;
    this.root.dataset.kind = String(this.state.config.kind);
    this.root.dataset.dropHint = this.t('drop.hint');
    const embed = this.opts.embed;
    if (embed?.height) this.root.style.height = `${embed.height}px`;
    if (!embed) this.root.append(this.renderHeader());
    else this.root.append(this.renderEmbedHeader());
    this.root.append(this.renderToolbar());
    this.els.messages = h('div', { class: 'rp-messages', role: 'status', 'aria-live': 'polite' });
    this.root.append(this.els.messages);
    if (!embed && this.showExps) this.root.append(this.renderExperiments());
    if (!embed && this.state.exp) this.root.append(this.renderExplanation());
    if (this.state.mode === 'compare') this.root.append(this.renderRuns());
    const body = h('div', { class: 'rp-body' });
    const controls = this.renderControls();
    if (controls) body.append(controls);
    this.els.panels = h('main', { class: 'rp-panels' });
    body.append(this.els.panels);
    this.root.append(body);
    if (this.showKeys) this.root.append(this.renderKeys());
    this.renderPanels();
    this.renderMessages();
    this.sync();
    this.resetCharts();
    if (embed?.height) {
      this.fitTries = 0;
      requestAnimationFrame(() => this.fit());
    }
  }

  private renderHeader(): HTMLElement {
    const s = this.state;
    const langSel = h('select', { class: 'rp-lang', 'aria-label': this.t('tb.language'), onchange: (e: Event) => {
      const n = cloneState(this.state); n.lang = (e.target as HTMLSelectElement).value as AppState['lang']; this.setState(n, { rebuild: 'no' });
    } }, ...LANGS.map((l) => h('option', { value: l, selected: l === s.lang }, translate(l, 'lang.name'))));
    const seg = h('div', { class: 'rp-seg', role: 'group', 'aria-label': this.t('tb.mode') },
      ...(['single', 'compare'] as const).map((m) => h('button', {
        type: 'button', class: s.mode === m ? 'on' : '', 'aria-pressed': String(s.mode === m), 'data-mode': m,
        onclick: () => this.setMode(m),
      }, this.t(`mode.${m}` as MessageKey))));
    const share = h('button', { type: 'button', class: 'rp-btn', onclick: (e: Event) => void this.copyLink(e.currentTarget as HTMLElement) }, this.t('tb.share'));
    const exps = h('button', { type: 'button', class: `rp-btn${this.showExps ? ' on' : ''}`, 'aria-expanded': String(this.showExps), 'data-action': 'experiments',
      onclick: () => { this.showExps = !this.showExps; this.render(); } }, this.t('tb.experiments'));
    return h('header', { class: 'rp-header' },
      h('div', { class: 'rp-brand' }, h('h1', {}, this.t('app.title')), h('p', { class: 'rp-tagline' }, this.t('app.tagline'))),
      h('nav', { class: 'rp-nav' }, exps, seg, share, this.renderExportMenu(), this.renderPanelsMenu(),
        h('button', { type: 'button', class: 'rp-btn rp-icon', title: this.t('tb.keys'), 'aria-label': this.t('tb.keys'), onclick: () => { this.showKeys = !this.showKeys; this.render(); } }, '?'),
        langSel));
  }

  private renderEmbedHeader(): HTMLElement {
    const s = this.state;
    const title = s.exp ? this.t(`exp.${s.exp}.title` as MessageKey) : this.t('app.title');
    const full = this.opts.embed?.fullUrl?.(serialize(s));
    return h('header', { class: 'rp-eheader' },
      h('strong', {}, title),
      h('span', { class: 'rp-spacer' }),
      this.renderExportMenu(),
      h('button', { type: 'button', class: 'rp-btn rp-small', 'data-action': 'lang', onclick: () => {
        const n = cloneState(this.state); n.lang = n.lang === 'en' ? 'zh' : 'en'; this.setState(n, { rebuild: 'no' });
      } }, translate(s.lang === 'en' ? 'zh' : 'en', 'lang.name')),
      full ? h('a', { class: 'rp-full', href: full, target: '_blank', rel: 'noopener' }, this.t('tb.open_full')) : null);
  }

  private renderExportMenu(): HTMLElement {
    const open = this.menu === 'export';
    const file = h('input', { type: 'file', accept: '.safetensors,application/octet-stream', class: 'rp-hidden', 'data-action': 'upload',
      onchange: (e: Event) => {
        const f = (e.target as HTMLInputElement).files?.[0];
        if (f) void this.io.loadModel(f);
        (e.target as HTMLInputElement).value = '';
      } });
    const item = (label: string, fn: () => void, action: string, disabled = false) => h('button', { type: 'button', role: 'menuitem', 'data-action': action, disabled, title: disabled ? this.t('ex.empty') : undefined,
      onclick: () => { this.menu = null; this.render(); fn(); } }, label);
    const empty = !this.io.hasMetrics();
    const logFile = h('input', { type: 'file', accept: '.jsonl,.ndjson,application/jsonl,application/x-ndjson', class: 'rp-hidden', 'data-action': 'import-log',
      onchange: (e: Event) => {
        const f = (e.target as HTMLInputElement).files?.[0];
        if (f) void this.io.importLog(f);
        (e.target as HTMLInputElement).value = '';
      } });
    return h('div', { class: 'rp-menu' },
      h('button', { type: 'button', class: `rp-btn${this.opts.embed ? ' rp-small' : ''}`, 'aria-haspopup': 'menu', 'aria-expanded': String(open), 'data-action': 'export-menu',
        onclick: () => { this.menu = open ? null : 'export'; this.render(); } }, this.t('tb.export'), ' ▾'),
      open ? h('div', { class: 'rp-menu-list', role: 'menu' },
        item(this.t('ex.csv'), () => this.io.exportMetrics('csv'), 'csv', empty),
        item(this.t('ex.json'), () => this.io.exportMetrics('json'), 'json', empty),
        empty ? h('small', { class: 'rp-menu-note' }, this.t('ex.empty')) : null,
        item(this.t('ex.save'), () => void this.io.saveModel(), 'save'),
        h('label', { class: 'rp-menu-file', role: 'menuitem' }, this.t('ex.load'), file),
        this.state.mode === 'compare' ? h('small', {}, this.t('ex.load_compare', { run: RUN_LETTERS[this.selected].toUpperCase() })) : null,
        h('label', { class: 'rp-menu-file', role: 'menuitem' }, this.t('ex.log'), logFile),
        h('small', { class: 'rp-menu-note rp-log-note' }, this.t('ex.log_note', { max: MAX_LOG_BYTES / 1048576 }))) : h('span', {}, file, logFile));
  }

  private renderPanelsMenu(): HTMLElement {
    const open = this.menu === 'panels';
    const kind = this.state.config.kind;
    return h('div', { class: 'rp-menu' },
      h('button', { type: 'button', class: 'rp-btn', 'aria-haspopup': 'menu', 'aria-expanded': String(open), onclick: () => { this.menu = open ? null : 'panels'; this.render(); } }, this.t('tb.panels'), ' ▾'),
      open ? h('div', { class: 'rp-menu-list', role: 'menu' }, ...PANELS.filter((p) => panelFits(p, kind)).map((p) => h('label', { class: 'rp-check' },
        h('input', { type: 'checkbox', checked: this.state.panels.includes(p), onchange: (e: Event) => {
          const n = cloneState(this.state);
          const on = (e.target as HTMLInputElement).checked;
          n.panels = PANELS.filter((q) => (q === p ? on : n.panels.includes(q)));
          if (!n.panels.length) n.panels = ['loss'];
          this.menu = 'panels';
          this.setState(n, { rebuild: 'no' });
        } }), this.t(`p.${p}` as MessageKey)))) : null);
  }

  private renderToolbar(): HTMLElement {
    const btn = (cls: string, label: string, ic: string, fn: () => void, key: string) =>
      h('button', { type: 'button', class: `rp-tool ${cls}`, title: `${label} (${key})`, 'aria-label': label, onclick: fn }, icon(ic));
    this.els.play = btn('rp-play', this.t('tb.play'), 'play', () => this.toggle(), 'space');
    const speed = h('select', { class: 'rp-speed', 'aria-label': this.t('tb.speed'), onchange: (e: Event) => { this.session.speed = Number((e.target as HTMLSelectElement).value); } },
      ...SPEEDS.map((v) => h('option', { value: v, selected: v === this.session.speed }, v === 0 ? this.t('tb.speed_max') : this.t('tb.speed_n', { n: v }))));
    this.els.stepCount = h('span', { class: 'rp-num', 'data-stat': 'step' }, '0');
    this.els.rate = h('span', { class: 'rp-num', 'data-stat': 'rate' }, '–');
    this.els.ms = h('span', { class: 'rp-num', 'data-stat': 'ms' }, '–');
    this.els.status = h('span', { class: 'rp-status', 'data-stat': 'status' }, '');
    this.els.params = h('span', { class: 'rp-params' }, '');
    // single run: its numbers here (a comparison shows them on each run's chip)
    const single = this.state.mode === 'single';
    const numStat = (key: string, label: MessageKey, title?: string) => {
      const el = h('span', { class: 'rp-num', 'data-stat': key }, '–');
      this.els[`stat_${key}`] = el;
      return h('div', { class: 'rp-stat rp-stat-metric', 'data-metric': key, title }, h('label', {}, this.t(label)), el);
    };
    for (const k of ['stat_loss', 'stat_val', 'stat_acc']) delete this.els[k];
    return h('div', { class: 'rp-toolbar' },
      h('div', { class: 'rp-tools' },
        btn('rp-reset', this.t('tb.reset'), 'reset', () => this.reset(), 'r'),
        this.els.play,
        btn('rp-stepbtn', this.t('tb.step'), 'step', () => this.step(), 'n')),
      h('div', { class: 'rp-stats' },
        h('div', { class: 'rp-stat rp-stat-big' }, h('label', {}, this.t('tb.step_count')), this.els.stepCount),
        h('div', { class: 'rp-stat' }, h('label', {}, this.t('tb.rate')), this.els.rate),
        h('div', { class: 'rp-stat' }, h('label', {}, this.t('tb.ms')), this.els.ms),
        single ? numStat('loss', 'tb.loss', this.t('tb.loss_title', { n: LOSS_MEAN_STEPS })) : null,
        single ? numStat('val', 'tb.val') : null,
        single && this.state.config.kind !== 'gpt' ? numStat('acc', 'tb.acc') : null,
        h('div', { class: 'rp-stat' }, h('label', {}, this.t('tb.speed')), speed)),
      h('div', { class: 'rp-statusbox' }, this.els.status, this.els.params));
  }

  private renderExperiments(): HTMLElement {
    return h('section', { class: 'rp-exps', 'aria-label': this.t('tb.experiments') },
      h('p', { class: 'rp-exps-intro' }, this.t('exp.intro')),
      h('div', { class: 'rp-exp-cards' }, ...EXPERIMENTS.map((e) => h('article', { class: `rp-exp-card${this.state.exp === e.id ? ' on' : ''}` },
        h('h3', {}, this.t(`exp.${e.id}.title` as MessageKey)),
        h('p', {}, this.t(`exp.${e.id}.short` as MessageKey)),
        h('button', { type: 'button', class: 'rp-btn rp-primary', 'data-exp': e.id, onclick: () => this.openExperiment(e.id) }, this.t('exp.run'))))));
  }

  private renderExplanation(): HTMLElement {
    const e = EXPERIMENTS.find((x) => x.id === this.state.exp)!;
    return h('section', { class: 'rp-explain' },
      h('button', { type: 'button', class: 'rp-close', 'aria-label': this.t('exp.close'), onclick: () => { const n = cloneState(this.state); n.exp = ''; this.setState(n, { rebuild: 'no' }); } }, '×'),
      h('h2', {}, this.t(`exp.${e.id}.title` as MessageKey)),
      h('p', {}, this.t(`exp.${e.id}.body` as MessageKey)),
      h('p', { class: 'rp-look' }, h('strong', {}, this.t('exp.look'), ': '), this.t(`exp.${e.id}.look` as MessageKey)),
      h('p', { class: 'rp-cite' }, e.cite),
      h('button', { type: 'button', class: 'rp-btn rp-small rp-explain-more', 'aria-expanded': 'false', onclick: (ev: Event) => {
        const b = ev.currentTarget as HTMLElement;
        b.closest('.rp-explain')?.classList.add('open');
        b.setAttribute('aria-expanded', 'true');
      } }, this.t('exp.more')));
  }

  private renderRuns(): HTMLElement {
    const s = this.state;
    const chips: HTMLElement[] = [];
    for (let i = 0; i <= s.runs.length; i++) {
      const chip = h('div', { class: `rp-run${i === this.selected ? ' on' : ''}`, style: `--run:${RUN_COLORS[i]}`, 'data-run': RUN_LETTERS[i] },
        h('button', { type: 'button', class: 'rp-run-pick', 'aria-pressed': String(i === this.selected), onclick: () => { this.selected = i; this.render(); } },
          h('span', { class: 'rp-swatch' }), h('span', { class: 'rp-run-label' }, this.runName(i))),
        h('span', { class: 'rp-run-stat' }, ''),
        s.runs.length > 0 ? h('button', { type: 'button', class: 'rp-run-x', 'aria-label': this.t('cmp.remove', { run: RUN_LETTERS[i].toUpperCase() }), title: this.t('cmp.remove', { run: RUN_LETTERS[i].toUpperCase() }),
          onclick: () => { this.selected = 0; this.setState(removeRun(this.state, i), { rebuild: 'now' }); } }, '×') : null);
      chips.push(chip);
    }
    this.els.runs = h('div', { class: 'rp-runs-list' }, ...chips,
      s.runs.length + 1 < MAX_RUNS ? h('button', { type: 'button', class: 'rp-btn rp-add-run', onclick: () => {
        const n = addRun(this.state, this.selected);
        this.selected = n.runs.length;
        this.setState(n, { rebuild: 'now', render: true });
      } }, this.t('cmp.add')) : null);
    return h('section', { class: 'rp-runs' },
      this.els.runs,
      h('p', { class: 'rp-hint' }, this.opts.embed ? '' : (this.selected === 0 ? this.t('cmp.hint') : this.t('cmp.editing', { run: RUN_LETTERS[this.selected].toUpperCase() }))));
  }

  private renderControls(): HTMLElement | null {
    const embed = this.opts.embed;
    const allowed = embed?.controls;
    if (allowed && allowed.length === 0) return null;
    const kind = this.state.config.kind;
    const show = (f: Field) => (!allowed || allowed.includes(f.key)) && shownFor(f, kind);
    const aside = h('aside', { class: 'rp-controls', 'aria-label': 'settings' });
    if (!allowed) {
      const sel = h('select', { 'aria-label': this.t('group.preset'), onchange: (e: Event) => {
        const name = (e.target as HTMLSelectElement).value;
        if (!name) return;
        const n = cloneState(this.state);
        n.config = presetConfig(name);
        n.exp = '';
        if (n.mode === 'compare') n.runs = n.runs.map(() => ({}));
        this.setState(n, { rebuild: 'now' });
      } }, h('option', { value: '' }, this.t('preset.choose')), ...PRESET_NAMES.map((p) => h('option', { value: p }, p)));
      aside.append(h('div', { class: 'rp-group rp-preset' }, h('h3', {}, this.t('group.preset')), sel));
    }
    const groups: [string, Field[]][] = [];
    for (const f of FIELDS) {
      if (!show(f)) continue;
      const g = allowed ? 'all' : f.group;
      let entry = groups.find((x) => x[0] === g);
      if (!entry) groups.push((entry = [g, []]));
      entry[1].push(f);
    }
    const more = h('details', { class: 'rp-more' }, h('summary', {}, this.t('group.more')));
    for (const [g, fields] of groups) {
      const box = h('div', { class: `rp-group rp-group-${g}` });
      if (g !== 'all') box.append(h('h3', {}, this.t(`group.${g}` as MessageKey)));
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
    const label = hasKey(`f.${f.key}`) ? this.t(`f.${f.key}` as MessageKey) : f.key;
    const help = hasKey(`h.${f.key}`) ? this.t(`h.${f.key}` as MessageKey) : '';
    const id = `rp-${f.key}-${Math.random().toString(36).slice(2, 7)}`;
    const msg = h('div', { class: 'rp-field-msg', 'aria-live': 'polite' });
    const inputs: (HTMLInputElement | HTMLSelectElement)[] = [];
    const row = h('div', { class: 'rp-field', 'data-field': f.key });
    row.append(h('label', { for: id, title: help }, label, h('span', { class: 'rp-dot', 'aria-hidden': 'true' })));
    if (f.type === 'enum') {
      const sel = h('select', { id, 'data-key': f.key, title: help, onchange: (e: Event) => this.setField(f.key, (e.target as HTMLSelectElement).value) },
        ...f.options.map((o) => h('option', { value: o }, this.optLabel(o))));
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
    // your own text: on the main page, and in an embed whose `controls=` has the data field (this row)
    if (f.key === 'data' && this.state.config.kind === 'gpt') {
      this.own?.dispose();
      this.own = new OwnTextPanel({
        lang: () => this.state.lang,
        useText: () => { if (this.state.config.data === 'text') void this.rebuild(); else this.setField('data', 'text'); },
        notify: (kind, text) => this.ownNotice(kind, text),
      });
      row.append(this.own.el);
    }
    this.ctrlInputs.set(f.key, { row, inputs, msg });
    return row;
  }

  /** Whether a field's control is shown: always on the main page; in an embed, when `controls=` names it (or is `all`). */
  private embedAllows(key: string): boolean {
    const allowed = this.opts.embed?.controls;
    return !this.opts.embed || !allowed || allowed.includes(key);
  }

  /** A notice about your own data (replaces the previous one). */
  private ownNotice(kind: 'error' | 'info', text: string): void {
    this.messages = this.messages.filter((m) => m.tag !== 'own');
    this.messages.push({ kind, text, tag: 'own' });
    this.renderMessages();
  }

  /** The mlp's points now: your own, or run A's built-in dataset (train and test). */
  private currentPoints(): Pt[] {
    if (this.state.config.data === 'points') return ownPoints() ?? [];
    const p = this.session.runs[0]?.engine?.info?.points;
    const out: Pt[] = [];
    if (!p) return out;
    for (const [x, y] of [[p.xTrain, p.yTrain], [p.xTest, p.yTest]] as const)
      for (let i = 0; i < y.length; i++) out.push({ x: x[2 * i], y: x[2 * i + 1], label: y[i] ? 1 : 0 });  // float32 values: they round-trip exactly
    return out;
  }

  private onNumber(f: NumField, raw: string, msg: HTMLElement, soon = false): void {
    const n = parseNumber(raw.trim());
    const maxDepth = maxDepthFor(this.state.config.kind);
    let err = n === null ? 'not a number' : checkValue(f, n);
    if (!err && f.key === 'depth' && n! > maxDepth) err = `at most ${maxDepth} for ${this.state.config.kind}`;
    const c = this.ctrlInputs.get(f.key);
    const row = c?.row;
    if (err) {
      const sel = this.selected;
      const inUse = (sel === 0 ? this.state.config : mergeConfig(this.state.config, this.state.runs[sel - 1]))[f.key];
      msg.textContent = this.t('h.invalid_kept', { range: rangeText(f, maxDepth), v: String(inUse) });
      row?.classList.add('bad');
      if (c) c.pending = { raw, inUse };
      return;
    }
    if (c) c.pending = undefined;
    msg.textContent = '';
    row?.classList.remove('bad');
    this.setState(setRunField(this.state, this.selected, f.key, n!), { rebuild: soon ? 'soon' : 'now' });
  }

  private renderKeys(): HTMLElement {
    const rows: [string, MessageKey][] = [['Space', 'keys.space'], ['N / →', 'keys.n'], ['R', 'keys.r'], ['C', 'keys.c'], ['L', 'keys.l'], ['E', 'keys.e'], ['?', 'keys.help']];
    return h('div', { class: 'rp-keys', role: 'dialog', 'aria-label': this.t('keys.title') },
      h('h3', {}, this.t('keys.title')),
      h('dl', {}, ...rows.flatMap(([k, m]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, this.t(m))])),
      h('button', { type: 'button', class: 'rp-btn', onclick: () => { this.showKeys = false; this.render(); } }, this.t('notice.dismiss')));
  }

  private renderMessages(): void {
    const box = this.els.messages;
    if (!box) return;
    clear(box);
    if (this.urlNotices.length) {
      box.append(h('div', { class: 'rp-msg warn', 'data-notice': 'url' },
        h('span', {}, this.t('notice.url'), ' ', this.urlNotices.map((n) => {
          if (n.msg) return this.t(n.msg, n.vars);
          const what = n.how === 'ignored' || n.how === undefined || n.used === undefined ? this.t('notice.how.ignored') : this.t(`notice.how.${n.how}`, { v: n.used });
          return `${n.key}=${JSON.stringify(n.value)} (${n.reason}): ${what}`;
        }).join('; ')),
        h('button', { type: 'button', class: 'rp-btn rp-small', onclick: () => { this.urlNotices = []; this.renderMessages(); } }, this.t('notice.dismiss'))));
    }
    if (this.offer) box.append(this.renderOffer(this.offer));
    for (const m of this.messages) {
      box.append(h('div', { class: `rp-msg ${m.kind}`, 'data-tag': m.tag }, h('span', {}, say(m.text)),
        m.action ? h('button', { type: 'button', class: 'rp-btn rp-small', onclick: m.action.run }, say(m.action.label)) : null,
        h('button', { type: 'button', class: 'rp-btn rp-small', onclick: () => { this.messages = this.messages.filter((x) => x !== m); this.renderMessages(); } }, this.t('notice.dismiss'))));
    }
  }

  /** "Continue for N more steps" or "restart", offered by Play on finished runs. */
  private renderOffer(offer: { n: number }): HTMLElement {
    const done = this.session.runs.filter((r) => r.status === 'done' && r.metrics);
    const lrs = [...new Set(done.map((r) => fmtValue(continueLr(r.metrics!, r.config))))].join(', ');
    const steps = fmtInt(this.state.lang, this.session.steps);
    const input = h('input', { type: 'number', min: 1, max: 1000000, step: 1, value: offer.n, class: 'rp-offer-n', 'data-action': 'continue-n',
      'aria-label': this.t('notice.continue_n') }) as HTMLInputElement;
    const go = h('button', { type: 'button', class: 'rp-btn rp-small rp-primary', 'data-action': 'continue', onclick: () => {
      const n = Number(input.value);
      void this.continueRuns(Number.isFinite(n) && n >= 1 ? n : offer.n);
    } }, this.t('notice.continue', { n: fmtInt(this.state.lang, offer.n) }));
    input.addEventListener('input', () => {
      const n = Math.floor(Number(input.value));
      if (Number.isFinite(n) && n >= 1) { offer.n = n; go.textContent = this.t('notice.continue', { n: fmtInt(this.state.lang, n) }); }
    });
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') go.click(); });
    return h('div', { class: 'rp-msg info rp-offer', 'data-notice': 'offer' },
      h('span', {}, this.t(done.length > 1 ? 'notice.offer_many' : 'notice.offer', { n: steps, lr: lrs })),
      h('span', { class: 'rp-offer-actions' },
        input, go,
        h('button', { type: 'button', class: 'rp-btn rp-small', 'data-action': 'restart-run', onclick: () => { this.offer = null; this.restart(); } }, this.t('notice.restart_run')),
        h('button', { type: 'button', class: 'rp-btn rp-small', onclick: () => { this.offer = null; this.renderMessages(); } }, this.t('notice.dismiss'))));
  }

  // ------------------------------------------------------------------ panels

  private visiblePanels(): PanelId[] {
    const kind = this.state.config.kind;
    return this.state.panels.filter((p) => panelFits(p, kind));
  }

  private chartHeight(): number {
    const H = this.opts.embed?.height;
    if (!H) return 200;
    if (this.fitH) return this.fitH;
    const n = this.visiblePanels().length;
    const rows = Math.ceil(n / 2);
    return Math.max(110, Math.min(200, Math.floor((H - 170) / Math.max(1, rows)) - 50));
  }

  /**
   * A widget with a fixed height: after layout, grow or shrink the charts so the content fits
   * (a couple of passes; whatever is left over scrolls inside the widget).
   */
  private fit(): void {
    const H = this.opts.embed?.height;
    if (!H || this.destroyed || this.fitTries >= 3 || !this.root.isConnected) return;
    const over = this.root.scrollHeight - H;
    if (Math.abs(over) < 12) return;
    const tops = new Set(Array.from(this.els.panels.querySelectorAll<HTMLElement>('.rp-panel'), (p) => Math.round(p.offsetTop)));
    const next = Math.round(Math.max(110, Math.min(320, this.chartHeight() - over / Math.max(1, tops.size))));
    if (next === this.chartHeight()) return;
    this.fitH = next;
    this.fitTries++;
    this.destroyCharts();
    this.renderPanels();
    this.resetCharts();
    requestAnimationFrame(() => this.fit());
  }
  private fitH = 0;
  private fitTries = 0;

  private renderPanels(): void {
    const main = this.els.panels;
    clear(main);
    const s = this.state;
    const nRuns = s.mode === 'compare' ? s.runs.length + 1 : 1;
    this.root.classList.toggle('rp-multirun', nRuns > 1);
    if (this.opts.embed) {
      // as many columns as there are panels sharing a row (the heatmaps of a comparison get a row of their own)
      const shared = this.visiblePanels().filter((p) => !(p === 'heatmap' && nRuns > 1)).length;
      const fits = Math.max(1, Math.floor((this.root.clientWidth || 800) / 300));
      main.style.gridTemplateColumns = `repeat(${Math.max(1, Math.min(shared, fits))}, minmax(0, 1fr))`;
    }
    const exp = EXPERIMENTS.find((e) => e.id === s.exp);
    const ch = this.chartHeight();
    const parts: PanelParts = { heat: [], boundary: [], zeroNotes: [], readouts: new Map() };
    const lbl = (i: number) => (nRuns > 1 ? RUN_LETTERS[i].toUpperCase() : '');
    for (const p of this.visiblePanels()) {
      const body = h('div', { class: 'rp-panel-body' });
      const extra: HTMLElement[] = [];
      const png = h('button', { type: 'button', class: 'rp-btn rp-small rp-png', title: this.t('ex.png_title'), 'data-png': p }, this.t('ex.png'));
      const panel = h('section', { class: `rp-panel rp-panel-${p}${exp?.focus.includes(p) ? ' focus' : ''}`, 'data-panel': p },
        h('header', {}, h('h3', {}, this.t(`p.${p}` as MessageKey)), ...extra, png),
        h('p', { class: 'rp-help' }, this.t(`p.${p}.help` as MessageKey)),
        body);
      const header = panel.querySelector('header')!;
      if (p === 'heatmap' || p === 'profile' || p === 'rms' || p === 'update') {
        const note = h('p', { class: 'rp-zero-note', role: 'status', hidden: true, 'data-zero': p });
        panel.insertBefore(note, body);
        parts.zeroNotes.push({ el: note, where: p === 'heatmap' ? 'heat' : p });
      }
      switch (p) {
        case 'loss': {
          const log = h('label', { class: 'rp-check' }, h('input', { type: 'checkbox', checked: s.logScale, 'data-action': 'log', onchange: (e: Event) => {
            const n = cloneState(this.state); n.logScale = (e.target as HTMLInputElement).checked; this.setState(n, { rebuild: 'no' });
          } }), this.t('p.loss.log'));
          header.insertBefore(log, png);
          parts.loss = new LineChart(body, { height: ch + 40, xLabel: this.t('ax.step'), yLabel: this.t('ax.loss'), log: s.logScale });
          body.classList.add('rp-has-empty');
          this.els.empty = h('p', { class: 'rp-empty', 'data-empty': 'loss' }, this.t('p.none_yet'));
          body.append(this.els.empty);
          break;
        }
        case 'heatmap': {
          body.classList.add(nRuns > 1 ? 'rp-multi' : 'rp-single');
          for (let i = 0; i < nRuns; i++) {
            const cell = h('div', { class: 'rp-heat-cell', style: `--run:${RUN_COLORS[i]}` });
            body.append(cell);
            parts.heat.push(new Heatmap(cell, nRuns > 2 && !this.opts.embed ? Math.max(110, ch - 30) : ch, this.heatLabels(), lbl(i)));
          }
          break;
        }
        case 'profile':
          parts.profile = new LineChart(body, { height: ch, xLabel: this.t('ax.block'), yLabel: this.t('ax.grad'), log: true, discreteX: true });
          break;
        case 'rms':
          parts.rms = new LineChart(body, { height: ch, xLabel: this.t('ax.block'), yLabel: this.t('ax.rms'), log: true, discreteX: true });
          break;
        case 'update':
          parts.update = new LineChart(body, { height: ch, xLabel: this.t('ax.block'), yLabel: this.t('ax.ratio'), log: true, discreteX: true });
          break;
        case 'boundary': {
          const test = h('label', { class: 'rp-check' }, h('input', { type: 'checkbox', checked: true, onchange: (e: Event) => {
            for (const b of this.parts.boundary) { b.showTest = (e.target as HTMLInputElement).checked; b.draw(); }
          } }), this.t('p.boundary.test'));
          body.classList.add('rp-boundaries');
          const size = nRuns === 1 ? Math.min(ch + 100, 300) : Math.min(ch, 150);
          for (let i = 0; i < nRuns; i++) {
            const cell = h('div', { class: 'rp-bcell', style: `--run:${RUN_COLORS[i]}` });
            body.append(cell);
            parts.boundary.push(new Boundary(cell, size, 1.5, lbl(i)));
          }
          panel.append(h('div', { class: 'rp-panel-foot' }, test));
          // your own points: on the main page, and in an embed whose `controls=` has the data field
          if (this.embedAllows('data')) {
            this.pts = new PointsEditor({
              lang: () => this.state.lang,
              currentPoints: () => this.currentPoints(),
              usePoints: () => {
                if (this.state.config.data !== 'points') { this.setField('data', 'points'); return; }
                clearTimeout(this.rebuildTimer);
                this.rebuildTimer = window.setTimeout(() => void this.rebuild(), 300);
              },
              regenerate: () => this.setField('dseed', 1 + Math.floor(Math.random() * 4294967295)),  // new points, the same weights (data.seed)
              notify: (kind, text) => this.ownNotice(kind, text),
            });
            panel.append(this.pts.el);
            parts.boundary.forEach((b) => this.pts!.attach(b.canvas));
          }
          break;
        }
        case 'digits':
          parts.digits = new DigitsView(body, (k, v) => this.t(k as MessageKey, v), () => this.session.runs, nRuns);
          break;
        case 'samples':
          parts.samples = body;
          body.classList.add('rp-samples');
          break;
        case 'attention': {
          const layerSel = h('select', { 'aria-label': this.t('p.attention.layer'), onchange: (e: Event) => {
            const n = cloneState(this.state); n.layer = Number((e.target as HTMLSelectElement).value); this.setState(n, { rebuild: 'no' });
            void this.session.refreshPictures(false).then(() => this.invalidate());
          } }, ...Array.from({ length: Number(s.config.depth) }, (_, i) => h('option', { value: i, selected: i === s.layer }, `${this.t('p.attention.layer')} ${i + 1}`)));
          header.insertBefore(layerSel, png);
          parts.attnLayerSel = layerSel;
          if (nRuns > 1) {
            parts.attnRunSel = h('select', { 'aria-label': 'run', onchange: () => this.invalidate() },
              ...Array.from({ length: nRuns }, (_, i) => h('option', { value: i }, RUN_LETTERS[i].toUpperCase())));
            header.insertBefore(parts.attnRunSel, layerSel);
          }
          parts.attention = new AttentionView(body, 380, (hd) => {
            const n = cloneState(this.state); n.head = hd; this.setState(n, { rebuild: 'no' });
          });
          parts.attention.weightLabel = this.t('p.attention.weight');
          break;
        }
      }
      if (p !== 'samples') {
        const ro = h('p', { class: 'rp-readout', 'data-readout': p }, this.t('ro.hint'));
        body.after(ro);
        parts.readouts.set(p, { el: ro, text: null, pinned: false });
      }
      png.addEventListener('click', () => void this.exportPng(p, panel));
      main.append(panel);
    }
    this.parts = parts;
    this.wireReadouts(parts);
    // Decision boundaries side by side: fit them to the panel's width (known now that it is laid out).
    const bbody = main.querySelector<HTMLElement>('.rp-boundaries');
    if (bbody && parts.boundary.length) {
      const w = bbody.clientWidth;
      const n = parts.boundary.length;
      if (w > 0) {
        const size = n === 1 ? Math.min(ch + 100, 300, w) : Math.max(96, Math.min(200, Math.floor((w - 10 * (n - 1)) / n)));
        parts.boundary.forEach((b) => b.setSize(size));
      }
    }
  }

  // ------------------------------------------------------------------ hover / tap read-outs

  /** Pointer watchers on every chart: what lies under a mouse (or a tap) goes to the panel's read-out line. */
  private wireReadouts(parts: PanelParts): void {
    const line = (p: PanelId, chart: LineChart | undefined, text: (hit: LineHit | null) => string | null) => {
      if (!chart) return;
      chart.onProbe = (hit, touch) => this.probe(p, hit ? () => text(chart.hit()) : null, touch);
    };
    line('loss', parts.loss, (hit) => this.lossReadout(hit));
    line('profile', parts.profile, (hit) => this.blockReadout('profile', hit));
    line('rms', parts.rms, (hit) => this.blockReadout('rms', hit));
    line('update', parts.update, (hit) => this.blockReadout('update', hit));
    const picture = (p: PanelId, canvas: HTMLCanvasElement, text: (at: At) => string | null) =>
      watchPointer(canvas, (at, touch) => this.probe(p, () => text(at), touch), () => this.probe(p, null, false));
    parts.heat.forEach((hm, i) => picture('heatmap', hm.canvas, (at) => this.heatReadout(i, at)));
    parts.boundary.forEach((b, i) => picture('boundary', b.canvas, (at) => this.boundaryReadout(i, at)));
    if (parts.attention) picture('attention', parts.attention.canvas, (at) => this.attentionReadout(at));
    const dv = parts.digits;
    if (dv) { picture('digits', dv.grid, (at) => dv.gridReadout(at)); picture('digits', dv.conf, (at) => dv.confReadout(at)); picture('digits', dv.feat, (at) => dv.featReadout(at)); }
  }

  /**
   * Shows `text` (re-read after every redraw while it stays) on panel p's read-out line; null: the
   * pointer left, back to the hint, unless a tap pinned the read-out (a phone has no "leave").
   */
  private probe(p: PanelId, text: (() => string | null) | null, touch: boolean): void {
    const r = this.parts.readouts.get(p);
    if (!r) return;
    if (!text) {
      if (r.pinned) return;
      r.text = null;
    } else {
      r.text = text;
      r.pinned = touch;
    }
    this.showReadout(r);
  }

  private showReadout(r: Readout): void {
    const text = r.text?.() ?? null;
    if (text === null && r.pinned) r.pinned = false;  // a tap beside the cells unpins
    setText(r.el, text ?? this.t('ro.hint'));
    r.el.classList.toggle('on', text !== null);
  }

  /** Between the items of a list in the page's language. */
  private listSep(): string { return this.state.lang === 'zh' ? '，' : ', '; }

  private who(r: Run): string {
    return this.session.runs.length > 1 ? this.t('ro.run', { run: RUN_LETTERS[r.index].toUpperCase() }) : '';
  }

  /** The loss chart: the step under the pointer, each run's training loss there and its latest evaluation by then. */
  private lossReadout(hit: LineHit | null): string | null {
    if (!hit) return null;
    const runs = this.session.runs.filter((r) => r.metrics && r.metrics.step.length);
    if (!runs.length) return null;
    const lang = this.state.lang;
    const want = Math.round(hit.x);
    let shown = -1;
    const bits: string[] = [];
    for (const r of runs) {
      const m = r.metrics!;
      const i = Math.max(0, lastAtOrBelow(m.step.data, m.step.length, want));
      const step = m.step.data[i];
      if (shown < 0) shown = step;
      const vals = [this.t('ro.train', { v: fmtValue(m.loss.data[i]) })];
      let e = null;
      for (let k = m.evals.length - 1; k >= 0; k--) if (m.evals[k].step <= step) { e = m.evals[k]; break; }
      if (e) vals.push(this.t('ro.val', { v: fmtValue(e.valLoss), s: fmtInt(lang, e.step) }));
      const own = step !== shown ? ` (${this.t('ro.step', { s: fmtInt(lang, step) })})` : '';
      bits.push(this.who(r) + vals.join(this.listSep()) + own);
    }
    return `${this.t('ro.step', { s: fmtInt(lang, shown) })} · ${bits.join(' · ')}`;
  }

  /** The per-block charts: the block under the pointer and each run's latest value there. */
  private blockReadout(p: 'profile' | 'rms' | 'update', hit: LineHit | null): string | null {
    if (!hit) return null;
    const b = Math.round(hit.x);
    const runs = this.session.runs.filter((r) => r.metrics && r.metrics.step.length && b >= 1 && b <= r.metrics.depth);
    if (!runs.length) return null;
    const name = this.t(p === 'profile' ? 'ax.grad' : p === 'rms' ? 'ax.rms' : 'ax.ratio');
    const vals = runs.map((r) => {
      const m = r.metrics!;
      const v = (p === 'profile' ? m.gradBlocks : p === 'rms' ? m.rmsBlocks : m.updBlocks).latest[b - 1];
      return `${this.who(r)}${fmtValue(v)}`;
    });
    const step = this.t('ro.step', { s: fmtInt(this.state.lang, this.session.steps) });
    return `${this.t('ro.block', { b })} · ${step} · ${name} ${vals.join(this.listSep())}`;
  }

  /** The heatmap: block, step (the steps its column averages) and gradient norm under the pointer. */
  private heatReadout(i: number, at: At): string | null {
    const hit = this.parts.heat[i]?.hit(at.x, at.y);
    const r = this.session.runs[i];
    if (!hit || !r) return null;
    const lang = this.state.lang;
    const v = fmtValue(hit.value);
    return this.who(r) + (hit.span > 1
      ? this.t('ro.heat_span', { b: hit.block, a: fmtInt(lang, hit.endStep - hit.span + 1), s: fmtInt(lang, hit.endStep), n: hit.span, v })
      : this.t('ro.heat', { b: hit.block, s: fmtInt(lang, hit.endStep), v }));
  }

  /** The decision boundary: the point under the pointer and the network's P(class) there. */
  private boundaryReadout(i: number, at: At): string | null {
    const hit = this.parts.boundary[i]?.hit(at.x, at.y);
    const r = this.session.runs[i];
    if (!hit || !r) return null;
    const c = (v: number) => v.toFixed(2).replace('-', '−');
    const xy = { x: c(hit.x1), y: c(hit.x2) };
    if (hit.p === null || !Number.isFinite(hit.p)) return this.who(r) + this.t('ro.boundary_none', xy);
    return this.who(r) + this.t('ro.boundary', { ...xy, p1: hit.p.toFixed(3), p0: (1 - hit.p).toFixed(3) });
  }

  /** The attention map: query and key characters under the pointer and the weight between them. */
  private attentionReadout(at: At): string | null {
    const view = this.parts.attention;
    const hit = view?.hit(at.x, at.y);
    if (!hit) return null;
    const i = this.parts.attnRunSel ? Number(this.parts.attnRunSel.value) : 0;
    const r = this.session.runs[i];
    return (r ? this.who(r) : '') + this.t('ro.attn', {
      h: hit.head + 1, q: showChar(hit.qChar), qi: hit.query + 1, k: showChar(hit.kChar), ki: hit.key + 1, w: fmtValue(hit.weight),
    }) + (hit.key > hit.query ? this.t('ro.masked') : '');
  }

  private heatLabels() {
    return { block: this.t('ax.block'), step: this.t('ax.step'), first: '1', last: String(this.state.config.depth) };
  }

  /** A panel as a PNG: its title, a legend of its colours and lines, and its canvases with their axes. */
  private async exportPng(p: PanelId, panel: HTMLElement): Promise<void> {
    const canvases = Array.from(panel.querySelectorAll('canvas')).filter((c) => c.width > 0 && !c.classList.contains('u-cursor'));
    const { parts, legend } = this.pngLegend(p, canvases);
    // one run: what it is goes in the title (a comparison names its runs in the legend)
    const c = this.session.runs[0]?.config;
    const what = c ? `${c.kind} · depth=${c.depth} · residual=${c.residual} · norm=${c.norm} · placement=${c.placement} · lr=${c.lr}` : '';
    const title = this.session.runs.length === 1 && what ? `${this.t(`p.${p}` as MessageKey)} — ${what}` : this.t(`p.${p}` as MessageKey);
    const blob = await canvasesToPng(title, parts, legend);
    download(`${this.io.baseName()}-${p}.png`, blob, 'image/png');
  }

  /** What an exported panel's legend says, and the axes the pictures without their own get. */
  pngLegend(p: PanelId, canvases: HTMLCanvasElement[]): { parts: PngPart[]; legend: LegendItem[] } {
    const runs = this.session.runs;
    const multi = runs.length > 1;
    const name = (r: Run) => (multi ? this.runName(r.index) : runLabel(this.state, r.index));
    const legend: LegendItem[] = [];
    let parts: PngPart[] = canvases.map((canvas) => ({ canvas }));
    const rgb = (c: readonly number[]) => `rgb(${c[0]},${c[1]},${c[2]})`;
    switch (p) {
      case 'loss':
        for (const r of runs) {
          const who = multi ? `${RUN_LETTERS[r.index].toUpperCase()} ` : '';
          legend.push({ kind: 'line', label: `${who}${this.t('p.loss.train')}`, color: RUN_COLORS[r.index] });
          legend.push({ kind: 'line', label: `${who}${this.t('p.loss.val')}`, color: RUN_COLORS[r.index], dash: true });
        }
        this.io.logs.forEach((l, i) => {
          const who = `${this.t('log.name', { file: l.name })} `;
          legend.push({ kind: 'line', label: `${who}${this.t('p.loss.train')}`, color: LOG_COLORS[i] });
          legend.push({ kind: 'line', label: `${who}${this.t('p.loss.val')}`, color: LOG_COLORS[i], dash: true });
        });
        break;
      case 'profile': case 'rms': case 'update':
        for (const r of runs) legend.push({ kind: 'line', label: name(r), color: RUN_COLORS[r.index] });
        this.io.logs.forEach((l, i) => legend.push({ kind: 'line', label: this.t('log.name', { file: l.name }), color: LOG_COLORS[i] }));
        break;
      case 'heatmap':
        for (const r of runs) legend.push({ kind: 'box', label: name(r), color: RUN_COLORS[r.index] });
        break;
      case 'boundary': {
        const ext = this.parts.boundary[0]?.range ?? 1.5;
        const ticks = [-ext, -ext / 2, 0, ext / 2, ext];
        parts = canvases.map((canvas) => ({ canvas, axes: { x: [-ext, ext], y: [-ext, ext], ticks, xLabel: 'x', yLabel: 'y' } }));
        for (const r of runs) if (multi) legend.push({ kind: 'box', label: name(r), color: RUN_COLORS[r.index] });
        legend.push({ kind: 'ramp', label: 'P(class 1)', lut: BOUNDARY_LUT, from: '0', to: '1' });
        legend.push({ kind: 'box', label: this.t('ex.class0'), color: rgb(CLASS_COLORS.zero) });
        legend.push({ kind: 'box', label: this.t('ex.class1'), color: rgb(CLASS_COLORS.one) });
        legend.push({ kind: 'box', label: this.t('ex.rims'), color: '#fff', rim: '#222' });
        break;
      }
      case 'attention': {
        const i = this.parts.attnRunSel ? Number(this.parts.attnRunSel.value) : 0;
        if (runs[i]) legend.push({ kind: 'box', label: name(runs[i]), color: RUN_COLORS[i] });
        legend.push({ kind: 'ramp', label: this.t('p.attention.weight'), lut: BLUES_LUT, from: '0', to: '1' });
        break;
      }
      default:
        for (const r of runs) legend.push({ kind: 'box', label: name(r), color: RUN_COLORS[r.index] });
    }
    return { parts, legend };
  }

  private destroyCharts(): void {
    const p = this.parts;
    p.loss?.destroy(); p.profile?.destroy(); p.rms?.destroy(); p.update?.destroy();
    p.heat.forEach((x) => x.destroy()); p.boundary.forEach((x) => x.destroy()); p.attention?.destroy(); p.digits?.destroy();
    this.parts = { heat: [], boundary: [], zeroNotes: [], readouts: new Map() };
    this.frames.clear();  // the redraws of the charts just removed
  }

  /** New runs (or a new page layout): series specs, data points, labels. */
  private resetCharts(): void {
    this.resetSeries();
    const runs = this.session.runs;
    const p = this.parts;
    p.boundary.forEach((b, i) => {
      const info = runs[i]?.engine?.info;
      b.reset(info?.points ?? null);
    });
    this.session.wants = {
      grid: this.visiblePanels().includes('boundary'),
      samples: this.visiblePanels().includes('samples'),
      attention: this.visiblePanels().includes('attention'),
      layer: this.state.layer,
    };
    this.invalidate();
  }

  /**
   * The line charts' series, one set per run of the session. Also done by draw() whenever the runs
   * changed since: the page can draw between a new state (one run) and the new engines being built,
   * and series and data must always agree.
   */
  private resetSeries(): void {
    const runs = this.session.runs;
    const p = this.parts;
    this.chartRuns = this.chartKey();
    const multi = runs.length > 1;
    const logs = this.io.logs;
    const name = (i: number) => (multi ? RUN_LETTERS[i].toUpperCase() : '');
    const specs: SeriesSpec[] = [];
    runs.forEach((r) => {
      specs.push({ label: `${name(r.index)} ${this.t('p.loss.train')}`.trim(), color: `${RUN_COLORS[r.index]}b0`, width: 1.25 });
      specs.push({ label: `${name(r.index)} ${this.t('p.loss.val')}`.trim(), color: RUN_COLORS[r.index], dash: [6, 4], width: 2.5, points: true });
    });
    logs.forEach((l, i) => {
      const name = this.t('log.name', { file: l.name });
      specs.push({ label: `${name} ${this.t('p.loss.train')}`, color: `${LOG_COLORS[i]}b0`, width: 1.25 });
      specs.push({ label: `${name} ${this.t('p.loss.val')}`, color: LOG_COLORS[i], dash: [6, 4], width: 2.5, points: true });
    });
    p.loss?.reset(specs);
    const few = Math.max(maxDepthOf(runs), ...logs.map((l) => l.metrics.depth)) <= 40;
    const blockSpecs: SeriesSpec[] = runs.map((r) => ({ label: runLabel(this.state, r.index), color: RUN_COLORS[r.index], width: 2, points: few, pointSize: 5 }));
    logs.forEach((l, i) => blockSpecs.push({ label: this.t('log.name', { file: l.name }), color: LOG_COLORS[i], width: 2, points: few, pointSize: 5 }));
    p.profile?.reset(blockSpecs);
    p.rms?.reset(blockSpecs);
    p.update?.reset(blockSpecs);
  }

  /** The runs and imported logs the line charts' series were set up for. */
  private chartKey(): string { return `${this.session.runs.map((r) => r.index).join()}|${this.io.logs.length}`; }

  private invalidate(): void { this.frames.invalidate(); }

  /** How many times the charts were redrawn (the benchmark reads it). */
  get drawCount(): number { return this.frames.draws; }

  private draw(): void {
    const runs = this.session.runs;
    const p = this.parts;
    if (this.chartKey() !== this.chartRuns) this.resetSeries();
    this.syncToolbar();
    // loss: x = the longest run's steps, decimated to at most ~1000 points (bucket means)
    if (p.loss) {
      const { x, ys, n } = lossSeries([...runs.map((r) => r.metrics), ...this.io.logs.map((l) => l.metrics)], this.state.logScale);
      p.loss.setData(x, ys, robustCap(ys));
      this.root.classList.toggle('rp-started', n > 0);
    }
    // Paused or done: every panel at once, so the picture is whole; training: spread over frames.
    this.frames.queuePanels(this.panelJobs(), this.session.playing);
    this.syncRunStats();
    this.syncZeroNotes();
    for (const r of p.readouts.values()) if (r.text) this.showReadout(r);
  }

  /**
   * The redraws of every panel but the loss chart, one per canvas, each reading the latest metrics
   * when it runs. Each returns whether it drew anything.
   */
  private panelJobs(): (() => boolean)[] {
    const p = this.parts;
    const jobs: (() => boolean)[] = [];
    const profile = (chart: LineChart | undefined, pick: (m: RunMetrics) => Float32Array) => {
      if (chart) jobs.push(() => { this.drawProfile(chart, pick); return true; });
    };
    profile(p.profile, (m) => m.gradBlocks.latest);
    profile(p.rms, (m) => m.rmsBlocks.latest);
    profile(p.update, (m) => m.updBlocks.latest);
    p.heat.forEach((_, i) => jobs.push(() => this.drawHeatmap(i)));
    p.boundary.forEach((_, i) => jobs.push(() => this.drawBoundary(i)));
    if (p.samples) jobs.push(() => this.drawSamples());
    if (p.attention) jobs.push(() => { this.drawAttention(); return true; });
    if (p.digits) jobs.push(() => p.digits!.update());
    return jobs;
  }

  /** Values per block: a run's current profile (one line per run). */
  private drawProfile(chart: LineChart, pick: (m: RunMetrics) => Float32Array): void {
    const runs = this.session.runs;
    // imported logs after the runs (their per-block values where the log has them)
    const logs = this.io.logs.map((l) => l.metrics);
    const maxDepth = Math.max(1, ...runs.map((r) => r.metrics?.depth ?? 0), ...logs.map((m) => m.depth));
    const bx = Float64Array.from({ length: maxDepth }, (_, i) => i + 1);
    // exact zeros (a dead block): a log axis cannot draw them, so they get marks along the bottom
    const zeros: { x: number; color: string; row: number }[] = [];
    for (const r of runs) {
      if (!r.metrics || !r.metrics.step.length) continue;
      const v = pick(r.metrics);
      for (let b = 0; b < r.metrics.depth; b++) if (v[b] === 0) zeros.push({ x: b + 1, color: RUN_COLORS[r.index], row: r.index });
    }
    chart.setZeros(zeros);
    const values = (m: RunMetrics | null) => Array.from({ length: maxDepth }, (_, b) =>
      (m && b < m.depth && m.step.length && !Number.isNaN(pick(m)[b]) ? logSafe(pick(m)[b]) : null));
    chart.setData(bx, [...runs.map((r) => values(r.metrics)), ...logs.map(values)]);
  }

  /** Run i's gradient-norm heatmap over time, on the colour scale and step axis shared by all runs. */
  private drawHeatmap(i: number): boolean {
    const runs = this.session.runs;
    const hm = this.parts.heat[i];
    if (!hm) return false;
    const series = runs.map((r) => r.metrics?.gradBlocks).filter((x): x is NonNullable<typeof x> => !!x);
    const range = logRange(series);
    // x axis: the run's length when the run is short or well under way, else a little past now
    const horizon = Math.max(1, ...runs.map((r) => {
      const total = Number(r.config.steps);
      const done = r.metrics?.steps ?? 0;
      return done * 4 >= total ? total : Math.min(total, niceCeil(Math.max(50, done * 1.25)));
    }));
    const r = runs[i];
    // labels from the run itself: its depth is what the rows are, whatever the state says now
    const depth = r?.metrics?.depth ?? Number(r?.config.depth ?? this.state.config.depth);
    hm.setLabels({ ...this.heatLabels(), last: String(depth) });
    const who = runs.length > 1 && r ? ` ${RUN_LETTERS[r.index].toUpperCase()}` : '';
    hm.setDescription(this.t('p.heatmap.aria', { run: who, d: depth, h: horizon }));
    return hm.draw(r?.metrics?.gradBlocks ?? null, range, horizon, r?.metrics?.diverged?.step ?? null);
  }

  /**
   * Exactly-zero gradients (dead ReLUs, a dead network) in words: a log axis cannot draw 0 and the
   * heatmap's black is easy to miss, so the panels say which blocks of which run have none.
   */
  private syncZeroNotes(): void {
    const notes = this.parts.zeroNotes;
    if (!notes.length) return;
    const runs = this.session.runs;
    const sep = this.state.lang === 'zh' ? '' : ' ';
    for (const n of notes) {
      const series = n.where === 'rms' ? 'rmsBlocks' : n.where === 'update' ? 'updBlocks' : 'gradBlocks';
      const bits: string[] = [];
      for (const r of runs) {
        const m = r.metrics;
        if (!m || !m.step.length) continue;
        const v = m[series].latest;
        const dead: number[] = [];
        for (let b = 0; b < v.length; b++) if (v[b] === 0) dead.push(b + 1);
        if (!dead.length) continue;
        const who = runs.length > 1 ? this.t('zero.run', { run: RUN_LETTERS[r.index].toUpperCase() }) : '';
        const vars = { n: dead.length, d: v.length, blocks: blockRanges(dead) };
        const text = series === 'gradBlocks' ? (dead.length === v.length ? this.t('zero.all') : this.t('zero.some', vars))
          : this.t(series === 'rmsBlocks' ? 'zero.rms' : 'zero.upd', vars);
        bits.push(who ? who + text : text.charAt(0).toUpperCase() + text.slice(1));
      }
      const text = bits.length ? bits.join(sep) + sep + this.t(n.where === 'heat' ? 'zero.heat' : 'zero.now') : '';
      setText(n.el, text);
      n.el.hidden = !text;
    }
  }

  /** Run i's decision boundary, when the engine has sent a new grid. */
  private drawBoundary(i: number): boolean {
    const b = this.parts.boundary[i];
    const r = this.session.runs[i];
    if (!b || !r?.grid || b.grid === r.grid) return false;
    b.setGrid(r.grid, GRID_RES);
    return true;
  }

  private drawSamples(): boolean {
    const runs = this.session.runs;
    const box = this.parts.samples;
    const sampleKey = runs.map((r) => `${r.samples.length}:${r.samples[0]?.step ?? -1}`).join('|');
    if (!box || box.dataset.key === sampleKey) return false;
    box.dataset.key = sampleKey;
    clear(box);
    for (const r of runs) {
      const col = h('div', { class: 'rp-sample-col', style: `--run:${RUN_COLORS[r.index]}` });
      if (runs.length > 1) col.append(h('h4', {}, runLabel(this.state, r.index)));
      if (!r.samples.length) col.append(h('p', { class: 'rp-muted' }, this.t('p.none_yet')));
      for (const smp of r.samples.slice(0, 3)) col.append(h('div', { class: 'rp-sample' }, h('span', { class: 'rp-sample-step' }, `${this.t('ax.step')} ${smp.step}`), h('pre', {}, smp.text)));
      box.append(col);
    }
    return true;
  }

  private drawAttention(): void {
    const p = this.parts;
    if (!p.attention) return;
    const runs = this.session.runs;
    const i = p.attnRunSel ? Number(p.attnRunSel.value) : 0;
    const a = runs[i]?.attention ?? null;
    p.attention.set(a, this.state.head, a ? `${this.t('p.attention.layer')} ${a.layer + 1} · ${this.t('p.attention.head')} ${Math.min(this.state.head, a.heads - 1) + 1}` : '');
  }

  // ------------------------------------------------------------------ sync (values, not structure)

  sync(): void {
    const s = this.state;
    const sel = this.selected;
    const cfg: FlatConfig = sel === 0 ? s.config : mergeConfig(s.config, s.runs[sel - 1]);
    for (const [key, c] of this.ctrlInputs) {
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
      c.row.title = differs ? this.t('h.differs') : s.mode === 'compare' && f.shared ? this.t('h.shared') : '';
      c.row.style.setProperty('--run', RUN_COLORS[sel]);
      // Show only the fields that matter for the current choices (all stay in the URL and the config).
      const hidden = (key === 'momentum' && cfg.optim !== 'sgd') || ((key === 'beta1' || key === 'beta2' || key === 'opt_eps') && cfg.optim !== 'adamw') ||
        (key === 'min_lr' && cfg.schedule !== 'cosine') || (key === 'act' && cfg.kind === 'gpt') ||
        ((key === 'noise' || key === 'samples') && cfg.data === 'points');
      c.row.hidden = hidden;
      if (key === 'data') {
        for (const o of (c.inputs[0] as HTMLSelectElement).options) o.disabled = !dataFits(cfg.kind, o.value);
      }
      if (key === 'depth') {
        const box = c.inputs[c.inputs.length - 1] as HTMLInputElement;
        box.max = String(maxDepthFor(cfg.kind));
      }
    }
    // the loss chart's scale (checkbox, L key, a pasted link)
    this.parts.loss?.setLog(s.logScale);
    const logBox = this.root.querySelector<HTMLInputElement>('[data-action="log"]');
    if (logBox) logBox.checked = s.logScale;
    // run chips: what each run changes (A's summary too), as the settings are now
    if (s.mode === 'compare' && this.els.runs) {
      for (let i = 0; i <= s.runs.length; i++) {
        const el = this.els.runs.querySelector(`[data-run="${RUN_LETTERS[i]}"] .rp-run-label`);
        if (el) setText(el, this.runName(i));
      }
    }
    // the attention view's layers (gpt depth)
    const layerSel = this.parts.attnLayerSel;
    const depth = Number(s.config.depth);
    if (layerSel && layerSel.options.length !== depth) {
      layerSel.replaceChildren(...Array.from({ length: depth }, (_, i) => h('option', { value: i, selected: i === s.layer }, `${this.t('p.attention.layer')} ${i + 1}`)));
    }
    this.syncToolbar();
  }

  /** Run i's chip label, in the page's language. */
  private runName(i: number): string {
    return runLabel(this.state, i).replace('same as A', this.t('cmp.same'));
  }

  private syncToolbar(): void {
    const e = this.els;
    if (!e.play) return;
    const playing = this.session.playing;
    e.play.classList.toggle('on', playing);
    e.play.setAttribute('aria-label', playing ? this.t('tb.pause') : this.t('tb.play'));
    e.play.title = `${playing ? this.t('tb.pause') : this.t('tb.play')} (space)`;
    if (e.play.dataset.icon !== String(playing)) {
      e.play.dataset.icon = String(playing);
      e.play.replaceChildren(icon(playing ? 'pause' : 'play'));
    }
    const runs = this.session.runs;
    setText(e.stepCount, fmtInt(this.state.lang, this.session.steps));
    const rate = this.session.rate;
    setText(e.rate, playing || rate ? (rate < 10 ? rate.toFixed(1) : fmtInt(this.state.lang, rate)) : '–');
    const ms = runs.map((r) => r.metrics?.recentMs(50) ?? NaN).filter(Number.isFinite);
    setText(e.ms, ms.length ? fmtMs(ms.reduce((a, b) => a + b, 0) / ms.length) : '–');
    let status: string;
    const st = runs.map((r) => r.status);
    if (!runs.length) status = '';
    else if (st.includes('building')) status = this.t('status.building');
    else if (st.includes('error')) status = this.t('status.error');
    else if (playing) status = this.t('status.running');
    else if (this.offscreen && this.wasPlaying) status = this.t('el.offscreen');
    else if (st.every((x) => x === 'done')) status = this.t('status.done', { n: fmtInt(this.state.lang, this.session.steps) });
    else if (st.includes('diverged')) status = this.t('status.diverged');
    else if (st.includes('crashed')) status = this.t('status.crashed');
    else status = this.session.steps ? this.t('status.paused') : this.t('status.ready');
    setText(e.status, status);
    // before the first step: "Press Play", and once Play is pressed "First step…" until it comes back
    if (e.empty) setText(e.empty, playing && this.session.steps === 0 ? this.t('p.first_step') : this.t('p.none_yet'));
    e.status.dataset.state = playing ? 'running' : st.includes('diverged') || st.includes('error') || st.includes('crashed') ? 'bad' : 'idle';
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
    if (this.menu === 'export') {
      const empty = !this.io.hasMetrics();
      this.root.querySelectorAll<HTMLButtonElement>('[data-action="csv"], [data-action="json"]').forEach((b) => {
        b.disabled = empty;
        b.title = empty ? this.t('ex.empty') : '';
      });
      const note = this.root.querySelector<HTMLElement>('.rp-menu-note:not(.rp-log-note)');
      if (note) note.hidden = !empty;
    }
    const info = runs[0]?.engine?.info;
    setText(e.params, info ? this.t('tb.params', { n: fmtInt(this.state.lang, info.params) }) : '');
    this.root.dataset.steps = String(this.session.steps);
    this.root.dataset.playing = String(playing);
  }

  private syncRunStats(): void {
    const box = this.els.runs;
    if (!box || this.state.mode !== 'compare') return;
    for (const r of this.session.runs) {
      const el = box.querySelector(`[data-run="${RUN_LETTERS[r.index]}"] .rp-run-stat`);
      if (!el) continue;
      const m = r.metrics;
      const last = m?.evals[m.evals.length - 1];
      const bits: string[] = [];
      if (m && Number.isFinite(m.recentMs())) bits.push(`${fmtMs(m.recentMs())} ${this.t('tb.ms')}`);
      if (last) bits.push(last.accuracy >= 0 ? this.t('eval.acc', { acc: `${(last.accuracy * 100).toFixed(1)}%` }) : this.t('eval.val', { v: last.valLoss.toFixed(3) }));
      if (r.status !== 'ready' && r.status !== 'done') bits.push(this.t(`status.${r.status}` as MessageKey, { n: m?.steps ?? 0 }));
      setText(el, bits.join(' · '));
      el.parentElement!.classList.toggle('bad', r.status === 'diverged' || r.status === 'crashed' || r.status === 'error');
    }
  }
}

export function panelFits(p: PanelId, kind: string | number): boolean {
  if (p === 'boundary') return kind === 'mlp';
  if (p === 'digits') return kind === 'cnn';
  if (p === 'samples' || p === 'attention') return kind === 'gpt';
  return true;
}

function rangeText(f: NumField, maxDepth: number): string {
  const max = f.key === 'depth' ? maxDepth : f.max;
  return f.minOpen ? `> ${f.min} … ${max}` : `${f.min} … ${max}${f.type === 'int' ? ' (integer)' : ''}`;
}

function maxDepthOf(runs: readonly Run[]): number {
  return Math.max(1, ...runs.map((r) => Number(r.config.depth)));
}

/** The toolbar's train loss: the mean over this many latest steps (one step's loss is noisy). */
const LOSS_MEAN_STEPS = 20;






/** Sets text only when it changed (an unchanged write would still cost a layout). */
function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

