// The one glue file: builds the playground inside a root element and wires controls -> state ->
// engines (Session) -> charts. The main page, embed.html and the <resnorm-playground> element all
// mount this with different options.
import { crossProblems, type FlatConfig } from './config/fields';
import { kindConfig } from './config/presets';
import { runLabel, setRunField } from './compare';
import { experimentState } from './experiments';
import { engineText } from './i18n/engine';
import { FileIO } from './fileio';
import { fmtInt, hasKey, translate, type MessageKey } from './i18n';
import { RUN_LETTERS, cloneState, runConfigs, type AppState, type Notice } from './state';
import { serialize } from './url';
import { Session, type EngineFactory, type EngineLike, type Run } from './session';
import { h, clear, setText } from './dom';
import { ChartPanels, type PanelParts } from './panels';
import { ControlPanel } from './controls';
import { keyAction, renderKeys } from './keys';
import { Chrome, type Message } from './chrome';
import { fmtValue } from './charts/readout';
import { mib } from './engine/budget';
import { FrameScheduler } from './frames';
import { blowupWhere } from './chartData';
import { changedKeys, diffEdits, editSchedule, onlyLive, startState } from './edits';
import { OwnData } from './owndata/wiring';
import { embedText } from './embedText';

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


export class App {
  state: AppState;
  readonly session: Session;
  readonly root: HTMLElement;
  urlNotices: Notice[];
  /** Notices. Text and labels are functions of the current language where they are translated, so a
   *  language switch re-renders them in the new one (plain strings are messages from the core). */
  messages: Message[] = [];
  selected = 0;            // the run whose settings the controls edit (compare mode)
  /** When the charts redraw (frames.ts). */
  private readonly frames = new FrameScheduler(() => this.draw());
  /** The chart panels (panels.ts). */
  readonly charts: ChartPanels;
  /** Header, toolbar, menus, experiment cards, run chips (chrome.ts). */
  private readonly chrome: Chrome;
  /** The settings panel (controls.ts). */
  private readonly controls: ControlPanel;
  /** The charts' parts (tests and the benchmark read them). */
  get parts(): PanelParts { return this.charts.parts; }
  private rebuildTimer = 0;
  private hashTimer = 0;
  showExps: boolean;
  showKeys = false;
  menu: 'export' | 'panels' | null = null;
  els: Record<string, HTMLElement> = {};
  private destroyed = false;
  /** Your own text and points (owndata/wiring.ts). */
  private readonly own: OwnData;
  private builtConfigs = '';
  private keyHandler: (e: Event) => void;
  /** Files in and out: metrics, models, training logs, drops (fileio.ts). */
  readonly io: FileIO;
  private unwatchDrops: () => void;
  wasPlaying = false;
  offscreen = false;
  private startStep: number[] = [];
  /** Play once the engines being built are ready ("Run this" on an experiment, or Play pressed while
   *  the widget says "Building…"): the toolbar shows it as starting (chrome.ts syncToolbar). */
  playAfterBuild = false;
  /** A rebuild is under way (from its start, before the session has runs, until 'built' or its early end). */
  private buildingNow = false;
  /** Play pressed on finished runs: the offer to continue them (for `n` more steps) or restart. */
  offer: { n: number } | null = null;

  constructor(readonly opts: AppOptions) {
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
    this.session.on('playing', () => this.chrome.syncToolbar());
    this.session.on('stopped', (run, reason) => this.onStopped(run, reason));
    this.session.on('built', (ok) => this.onBuilt(ok));
    this.own = new OwnData({
      get state() { return self.state; },
      session: this.session,
      controls: opts.embed ? opts.embed.controls : undefined,
      setField: (k, v) => this.setField(k, v),
      rebuild: (when) => {
        clearTimeout(this.rebuildTimer);
        if (when === 'now') void this.rebuild();
        else this.rebuildTimer = window.setTimeout(() => void this.rebuild(), 300);
      },
      notice: (tag, kind, text, action) => this.notice(tag, kind, text, action),
    });
    this.io = new FileIO({
      get state() { return self.state; },
      session: this.session,
      factory: opts.factory,
      get selected() { return self.selected; },
      notice: (tag, kind, text, action) => this.notice(tag, kind, text, action),
      dismiss: (tag) => { this.messages = this.messages.filter((m) => m.tag !== tag); this.renderMessages(); },
      adopt: (engine, config, step) => this.adopt(engine, config, step),
      reloaded: () => this.resetCharts(),
      logsChanged: () => {
        this.messages = this.messages.filter((m) => !m.tag?.startsWith('log:') || this.io.logs.some((l) => m.tag!.endsWith(`:${l.name}`)));
        this.renderMessages();
        this.resetCharts();
      },
      get text() { return self.own.text ?? undefined; },
      get points() { return self.own.points ?? undefined; },
    });
    this.unwatchDrops = this.io.watchDrops(this.root);
    this.controls = new ControlPanel({
      get state() { return self.state; },
      get selected() { return self.selected; },
      allowed: opts.embed ? opts.embed.controls : null,
      t: (k, v) => this.t(k, v),
      optLabel: (v) => this.optLabel(v),
      setField: (k, v) => this.setField(k, v),
      setState: (next, how) => this.setState(next, how),
      dataExtra: () => this.own.textPanel(),
    });
    this.chrome = new Chrome(this);
    this.charts = new ChartPanels({
      get state() { return self.state; },
      session: this.session,
      root: this.root,
      embedHeight: opts.embed?.height ?? 0,
      isEmbed: !!opts.embed,
      get destroyed() { return self.destroyed; },
      logs: () => this.io.logs,
      t: (k, v) => this.t(k, v),
      setState: (next, how) => this.setState(next, how),
      invalidate: () => this.invalidate(),
      runName: (i) => this.runName(i),
      baseName: () => this.io.baseName(),
      pointsEditor: () => this.own.pointsEditor(),
      relayout: () => { this.destroyCharts(); this.charts.render(); this.resetCharts(); },
    }, h('main', { class: 'rp-panels' }));
    this.keyHandler = (e) => this.onKey(e as KeyboardEvent);
    opts.keyTarget.addEventListener('keydown', this.keyHandler);
    this.root.classList.add('rp-app');
    if (opts.embed) this.root.classList.add('rp-embed');
    this.offscreen = !!opts.lazy;
    this.render();
    if (!opts.lazy) void this.rebuild();
  }

  t(key: MessageKey, vars?: Record<string, string | number>): string {
    return translate(this.state.lang, key, vars);
  }
  private optLabel(v: string): string {
    const k = `opt.${v}`;
    return hasKey(k) ? this.t(k) : v;
  }

  // ------------------------------------------------------------------ state changes

  /** Applies a new state: what needs rebuilding is worked out from what changed. */
  setState(next: AppState, how: { rebuild?: 'now' | 'soon' | 'no'; render?: boolean; replace?: boolean } = {}): void {
    const prev = this.state;
    this.state = next;
    const structural = prev.lang !== next.lang || prev.mode !== next.mode || prev.runs.length !== next.runs.length ||
      prev.config.kind !== next.config.kind || prev.panels.join() !== next.panels.join() || prev.exp !== next.exp;
    if (this.selected > next.runs.length || next.mode === 'single') this.selected = 0;
    const configsChanged = JSON.stringify(runConfigs(next)) !== this.builtConfigs;
    if (how.render || structural) this.render();
    else this.sync();
    if (configsChanged && how.rebuild !== 'no') {
      // new runs chosen as a whole (an experiment, a preset): no "restarted" notice, nothing was edited
      this.replacing = !!how.replace;
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
  /** The pending change replaces the runs as a whole ("Run this", a preset): not an edit of a watched run. */
  private replacing = false;
  /** Why the next build happens: a link (or the first load) names its data; an edit chose it from a menu. */
  private origin: 'link' | 'edit' = 'link';
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
    const replacing = this.replacing;
    this.replacing = false;
    this.origin = this.fromLink ? 'link' : 'edit';
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
    // The notice is for a reader who edited a setting of runs they were watching: not for a link,
    // an experiment's "Run this" or a preset, which choose new runs on purpose.
    this.restartedFor = !this.fromLink && !replacing && before && trained && before.mode === this.state.mode
      ? changedKeys(runConfigs(before), now) : [];
    if (!this.fromLink) this.state.edits = [];
    this.writeHash();
    void this.rebuild();
  }

  async rebuild(): Promise<void> {
    clearTimeout(this.rebuildTimer);
    this.buildingNow = true;
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
      this.buildingNow = false;
      this.session.dispose();
      this.messages.push({ kind: 'error', text: problems.join('; ') });
      this.renderMessages();
      return;
    }
    if (!(await this.own.ready(configs, this.origin))) {  // a shared link names your own data, which links never carry
      this.playAfterBuild = false;
      this.buildingNow = false;
      this.session.dispose();
      return;
    }
    this.chrome.syncToolbar();
    // Built from the settings before any mid-run edit; the session applies each edit at its step.
    if (this.state.edits.length) await this.session.build(runConfigs(startState(this.state)), undefined, editSchedule(this.state, runConfigs));
    else await this.session.build(configs);
  }

  private onBuilt(ok: boolean): void {
    if (this.destroyed) return;
    this.buildingNow = false;
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
    this.chrome.syncToolbar();
    const want = ok && (this.opts.autoplay || this.playAfterBuild);
    this.playAfterBuild = false;
    if (want && !this.offscreen) this.session.play();
    else if (want) this.wasPlaying = true;  // built while scrolled away: it starts when seen
    this.chrome.syncToolbar();
  }

  private onStopped(run: Run, reason: string): void {
    const letter = RUN_LETTERS[run.index].toUpperCase();
    if (reason === 'diverged') {
      const d = run.metrics?.diverged;
      const w = run.metrics ? blowupWhere(run.metrics) : null;
      const why = d?.message || run.message, step = d?.step ?? '?';
      const where = () => [why ? engineText(this.state.lang, why) : '', w ? this.t('notice.where', { b: w.block, v: w.rms }) : ''].filter(Boolean).join(this.state.lang === 'zh' ? '；' : '; ');
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
    this.chrome.syncToolbar();
    this.invalidate();
  }

  // ------------------------------------------------------------------ actions

  play(): void { this.session.play(); }
  pause(): void { this.session.pause(); }
  /** The engines are being built, or a lazy widget's first build has not begun: Play is remembered. */
  get building(): boolean {
    return this.buildingNow || !this.builtConfigs || this.session.runs.some((r) => r.status === 'building');
  }

  toggle(): void {
    if (this.session.playing) this.session.pause();
    // Play while "Building…": start when the build ends; pressed again before that, it is cancelled
    else if (this.playAfterBuild) this.playAfterBuild = false;
    else if (this.building) this.playAfterBuild = true;
    else if (this.session.live.length) this.session.play();
    else if (this.session.runs.length && this.session.runs.every((r) => r.status === 'inspect')) this.notice('inspect', 'info', () => this.t('notice.inspect_only'));
    else if (this.session.runs.some((r) => r.status === 'done') && this.session.runs.every((r) => r.status === 'done' || r.status === 'diverged')) this.offerContinue();
    else if (this.session.runs.length && this.session.runs.every((r) => r.status === 'done' || r.status === 'diverged')) void this.rebuild().then(() => this.session.play());
    this.chrome.syncToolbar();
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
    this.chrome.syncToolbar();
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
    this.setState(next, { render: true, rebuild: 'now', replace: true });
    // the same runs as now (nothing to rebuild): start them over and play
    if (same) void this.rebuild();
    if (!this.opts.embed) this.root.querySelector('.rp-explain')?.scrollIntoView({ block: 'nearest' });
  }

  setMode(mode: 'single' | 'compare'): void {
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

  async copyLink(btn: HTMLElement): Promise<void> {
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
    const action = keyAction(e, e.composedPath()[0] as HTMLElement | undefined, !!this.opts.embed);
    if (action === null) return;
    switch (action) {
      case 'toggle': this.toggle(); break;
      case 'step': this.step(); break;
      case 'reset': this.reset(); break;
      case 'mode': this.setMode(this.state.mode === 'single' ? 'compare' : 'single'); break;
      case 'log': { const n = cloneState(this.state); n.logScale = !n.logScale; this.setState(n, { rebuild: 'no' }); break; }
      case 'experiments': this.showExps = !this.showExps; this.render(); break;
      case 'help': this.showKeys = !this.showKeys; this.render(); break;
      case 'escape': if (this.showKeys || this.menu) { this.showKeys = false; this.menu = null; this.render(); } break;
      case 'none': break;
    }
    e.preventDefault();
  }

  destroy(): void {
    this.destroyed = true;
    this.own.dispose();
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
    this.root.lang = this.state.lang === 'zh' ? 'zh-CN' : 'en';
    this.root.dataset.mode = this.state.mode;
    this.root.dataset.kind = String(this.state.config.kind);
    this.root.dataset.dropHint = this.t('drop.hint');
    const embed = this.opts.embed;
    if (embed?.height) this.root.style.height = `${embed.height}px`;
    this.root.classList.toggle('rp-fixed', !!embed?.height);
    if (!embed) this.root.append(this.chrome.renderHeader());
    else this.root.append(this.chrome.renderEmbedHeader());
    this.root.append(this.chrome.renderToolbar());
    this.els.messages = h('div', { class: 'rp-messages', role: 'status', 'aria-live': 'polite' });
    this.root.append(this.els.messages);
    if (!embed && this.showExps) this.root.append(this.chrome.renderExperiments());
    if (!embed && this.state.exp) this.root.append(this.chrome.renderExplanation());
    if (this.state.mode === 'compare') this.root.append(this.chrome.renderRuns());
    const body = h('div', { class: 'rp-body' });
    const controls = this.controls.render();
    if (controls) body.append(embed?.height ? this.drawer(controls) : controls);
    this.els.panels = this.charts.main;
    body.append(this.els.panels);
    this.root.append(body);
    if (this.showKeys) this.root.append(renderKeys((k) => this.t(k), () => { this.showKeys = false; this.render(); }));
    this.charts.render();
    this.renderMessages();
    this.sync();
    this.resetCharts();
    this.charts.refit();
  }

  /** Open state of a fixed-height widget's folded controls (kept across renders). */
  private drawerOpen = false;
  /**
   * A fixed-height widget's controls in a drawer: shown in place while they fit beside a chart; folded
   * (root class rp-folded, set by ChartPanels.fit) to one button row that opens them over the charts.
   */
  private drawer(controls: HTMLElement): HTMLElement {
    const n = controls.querySelectorAll('.rp-field').length;
    const wrap = h('div', { class: `rp-drawer${this.drawerOpen ? ' open' : ''}` });
    const btn = h('button', { type: 'button', class: 'rp-btn rp-small rp-drawer-toggle', 'aria-expanded': String(this.drawerOpen), onclick: () => {
      this.drawerOpen = !this.drawerOpen;
      wrap.classList.toggle('open', this.drawerOpen);
      btn.setAttribute('aria-expanded', String(this.drawerOpen));
    } }, `${embedText(this.state.lang, 'settings')} (${n})`);
    wrap.append(btn, controls);
    return wrap;
  }

  /** Shows a notice, replacing the one with the same tag. */
  private notice(tag: string, kind: Message['kind'], text: Message['text'], action?: Message['action']): void {
    this.messages = this.messages.filter((m) => m.tag !== tag);
    this.messages.push({ kind, text, tag, action });
    this.renderMessages();
  }

  /** Redraws the notices (chrome.ts). */
  renderMessages(): void { this.chrome.renderMessages(); }

  // ------------------------------------------------------------------ charts

  private destroyCharts(): void {
    this.charts.destroy();
    this.frames.clear();  // the redraws of the charts just removed
  }

  /** New runs (or a new page layout): series specs, data points, labels. */
  private resetCharts(): void { this.charts.reset(); }

  private invalidate(): void { this.frames.invalidate(); }

  /** How many times the charts were redrawn (the benchmark reads it). */
  get drawCount(): number { return this.frames.draws; }

  private draw(): void {
    this.charts.drawLoss();
    this.chrome.syncToolbar();
    // Paused or done: every panel at once, so the picture is whole; training: spread over frames.
    this.frames.queuePanels(this.charts.jobs(), this.session.playing);
    this.chrome.syncRunStats();
    this.charts.afterDraw();
  }

  // ------------------------------------------------------------------ sync (values, not structure)

  sync(): void {
    const s = this.state;
    this.controls.sync();
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
    this.chrome.syncToolbar();
  }

  /** Run i's chip label, in the page's language. */
  runName(i: number): string {
    return runLabel(this.state, i, { same: this.t('cmp.same'), base: this.t('cmp.base') });
  }

}
