// The chart panels of the playground: building them (loss, heatmaps, per-block charts, decision
// boundary, samples, attention, digits), drawing them from the runs' metrics and any imported
// training logs, the hover/tap read-outs, PNG export with a legend, and fitting a fixed-height
// widget (layout.ts has the arithmetic). The App (app.ts) decides when; this module draws.
import { EXPERIMENTS } from './experiments';
import { canvasesToPng, download, type LegendItem, type PngPart } from './export';
import { fmtInt, type MessageKey } from './i18n';
import { RUN_LETTERS, cloneState, type AppState, type PanelId } from './state';
import { GRID_RES, type Run, type Session } from './session';
import type { BlockSeries, RunMetrics } from './metrics';
import type { RunLog } from './runlog';
import { h, clear, setText } from './dom';
import { LineChart, type LineHit, type SeriesSpec } from './charts/lineChart';
import { Heatmap, logRange, type HeatHit } from './charts/heatmap';
import { Boundary } from './charts/boundary';
import { AttentionView, showChar } from './charts/attention';
import { DigitsView } from './charts/digits';
import { BOUNDARY_LUT, BLUES_LUT, CLASS_COLORS, LOG_COLORS, RUN_COLORS, logSafe } from './charts/colors';
import { fmtValue, lastAtOrBelow, watchPointer, type At } from './charts/readout';
import { blockRanges, blocksAt, logHeat, logStepRange, lossSeries, lossSpecs, niceCeil, robustCap } from './chartData';
import { FIT_PASSES, MIN_FIXED_CHART, boundarySize, chartHeight, embedColumns, fitHeight, mustFold } from './layout';
import type { PointsEditor } from './owndata/pointsPanel';

type ZeroWhere = 'heat' | 'profile' | 'rms' | 'update';

export interface PanelParts {
  loss?: LineChart;
  heat: Heatmap[];
  /** The heatmap panel's cells, and one map per imported log with per-block gradient norms, after the runs'. */
  heatBody?: HTMLElement;
  logHeat: { map: Heatmap; log: RunLog }[];
  /** The per-block panels' sliders: which step of the imported logs they show. */
  logSteps: { box: HTMLElement; input: HTMLInputElement; value: HTMLElement }[];
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

/** What the panels need from the page. */
export interface PanelsHost {
  readonly state: AppState;
  readonly session: Session;
  readonly root: HTMLElement;
  /** A widget's fixed height in CSS px (0 or absent: the page's natural height). */
  readonly embedHeight: number;
  readonly isEmbed: boolean;
  readonly destroyed: boolean;
  /** Imported training logs, drawn after the runs. */
  logs(): readonly RunLog[];
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  setState(next: AppState, how: { rebuild?: 'now' | 'soon' | 'no'; render?: boolean }): void;
  invalidate(): void;
  runName(i: number): string;
  baseName(): string;
  /** Builds the panels again (destroy, render, reset), dropping the redraws queued for the old ones. */
  relayout(): void;
  /** The own-points tools to put under the decision boundary, or null where this widget has none. */
  pointsEditor(): PointsEditor | null;
}

export function panelFits(p: PanelId, kind: string | number): boolean {
  if (p === 'boundary') return kind === 'mlp';
  if (p === 'digits') return kind === 'cnn';
  if (p === 'samples' || p === 'attention') return kind === 'gpt';
  return true;
}

function maxDepthOf(runs: readonly Run[]): number {
  return Math.max(1, ...runs.map((r) => Number(r.config.depth)));
}

export class ChartPanels {
  parts: PanelParts = { heat: [], logHeat: [], logSteps: [], boundary: [], zeroNotes: [], readouts: new Map() };
  /** The loss chart's "Press Play" / "First step…" line. */
  empty: HTMLElement | null = null;
  /** The runs and logs the line charts' series were last set up for. */
  private chartRuns = '';
  private fitH = 0;
  private fitTries = 0;
  /** The step of the imported logs the per-block charts show (null: their last). */
  logStep: number | null = null;

  constructor(private readonly host: PanelsHost, readonly main: HTMLElement) {}


  visiblePanels(): PanelId[] {
    const kind = this.host.state.config.kind;
    return this.host.state.panels.filter((p) => panelFits(p, kind));
  }

  /** The charts' height: the page's, a widget's share of its height, or what the last fitting pass chose. */
  chartHeight(): number {
    return this.fitH || chartHeight(this.host.embedHeight, this.visiblePanels().length);
  }

  /** The widget's width when its fitting passes last ran, and the observer that refits on a new width. */
  private fitWidth = 0;
  private widthWatch: ResizeObserver | null = null;

  /**
   * A new page layout: a fixed-height widget gets its fitting passes again. At a new width (a phone turned,
   * a column resized) the controls unfold and the fold is decided again; at the same width they stay as
   * they were, so a re-render does not flicker.
   */
  refit(): void {
    this.fitTries = 0;
    if (!this.host.embedHeight) return;
    const root = this.host.root;
    if (Math.abs(root.clientWidth - this.fitWidth) >= 24) root.classList.remove('rp-folded');
    this.fitWidth = root.clientWidth;
    if (!this.widthWatch) {
      this.widthWatch = new ResizeObserver(() => {
        if (this.host.destroyed || !root.isConnected || Math.abs(root.clientWidth - this.fitWidth) < 24) return;
        this.fitH = 0;
        this.host.relayout();
        this.refit();
      });
      this.widthWatch.observe(root);
    }
    requestAnimationFrame(() => this.fit());
  }

  /**
   * A widget with a fixed height (issue 20): its charts area (.rp-panels) takes the room left under the
   * header, toolbar and controls; the charts grow or shrink until the first panel fills exactly that room
   * (a few passes), so at least one live chart shows without scrolling. The rest scroll in the charts area.
   * When the first panel does not fit even at MIN_FIXED_CHART beside the chosen controls, they fold into a
   * one-row drawer (App.render) and the pass starts over.
   */
  private fit(): void {
    const H = this.host.embedHeight, root = this.host.root;
    if (!H || this.host.destroyed || this.fitTries >= FIT_PASSES + 1 || !root.isConnected) return;
    const panels = Array.from(this.main.querySelectorAll<HTMLElement>('.rp-panel'));
    if (!panels.length) return;
    // the first panel (the loss chart, when shown) is the one that must fit; its row neighbours (a decision
    // boundary is square, so taller) may run on into the scrolling charts area
    const rowBottom = panels[0].getBoundingClientRect().bottom;
    const room = this.main.getBoundingClientRect().bottom - (parseFloat(getComputedStyle(this.main).paddingBottom) || 0);
    const over = Math.ceil(rowBottom - room);
    const cur = this.chartHeight();
    if (mustFold(cur, over) && !root.classList.contains('rp-folded') && root.querySelector('.rp-drawer')) {
      root.classList.add('rp-folded');
      this.fitTries++;
      requestAnimationFrame(() => this.fit());
      return;
    }
    const next = fitHeight(cur, over, 1, MIN_FIXED_CHART);
    if (next === null) return;
    this.fitH = next;
    this.fitTries++;
    this.host.relayout();  // the charts again at the new height (the App drops the old ones' queued redraws)
    requestAnimationFrame(() => this.fit());
  }

  /** Builds every visible panel into `main`. */
  render(): void {
    const main = this.main;
    clear(main);
    const s = this.host.state;
    const nRuns = s.mode === 'compare' ? s.runs.length + 1 : 1;
    this.host.root.classList.toggle('rp-multirun', nRuns > 1);
    if (this.host.isEmbed) {
      // as many columns as there are panels sharing a row (the heatmaps of a comparison get a row of their own)
      const shared = this.visiblePanels().filter((p) => !(p === 'heatmap' && nRuns > 1)).length;
      main.style.gridTemplateColumns = `repeat(${embedColumns(this.host.root.clientWidth, shared)}, minmax(0, 1fr))`;
    }
    const exp = EXPERIMENTS.find((e) => e.id === s.exp);
    const ch = this.chartHeight();
    const parts: PanelParts = { heat: [], logHeat: [], logSteps: [], boundary: [], zeroNotes: [], readouts: new Map() };
    const lbl = (i: number) => (nRuns > 1 ? RUN_LETTERS[i].toUpperCase() : '');
    for (const p of this.visiblePanels()) {
      const body = h('div', { class: 'rp-panel-body' });
      const extra: HTMLElement[] = [];
      const png = h('button', { type: 'button', class: 'rp-btn rp-small rp-png', title: this.host.t('ex.png_title'), 'data-png': p }, this.host.t('ex.png'));
      const panel = h('section', { class: `rp-panel rp-panel-${p}${exp?.focus.includes(p) ? ' focus' : ''}`, 'data-panel': p },
        h('header', {}, h('h3', {}, this.host.t(`p.${p}` as MessageKey)), ...extra, png),
        h('p', { class: 'rp-help' }, this.host.t(`p.${p}.help` as MessageKey)),
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
            const n = cloneState(this.host.state); n.logScale = (e.target as HTMLInputElement).checked; this.host.setState(n, { rebuild: 'no' });
          } }), this.host.t('p.loss.log'));
          header.insertBefore(log, png);
          parts.loss = new LineChart(body, { height: ch + 40, xLabel: this.host.t('ax.step'), yLabel: this.host.t('ax.loss'), log: s.logScale });
          body.classList.add('rp-has-empty');
          this.empty = h('p', { class: 'rp-empty', 'data-empty': 'loss' }, this.host.t('p.none_yet'));
          body.append(this.empty);
          break;
        }
        case 'heatmap': {
          body.classList.add(nRuns > 1 ? 'rp-multi' : 'rp-single');
          parts.heatBody = body;
          for (let i = 0; i < nRuns; i++) {
            const cell = h('div', { class: 'rp-heat-cell', style: `--run:${RUN_COLORS[i]}` });
            body.append(cell);
            parts.heat.push(new Heatmap(cell, nRuns > 2 && !this.host.isEmbed ? Math.max(110, ch - 30) : ch, this.heatLabels(), lbl(i)));
          }
          break;
        }
        case 'profile':
          parts.profile = new LineChart(body, { height: ch, xLabel: this.host.t('ax.block'), yLabel: this.host.t('ax.grad'), log: true, discreteX: true });
          break;
        case 'rms':
          parts.rms = new LineChart(body, { height: ch, xLabel: this.host.t('ax.block'), yLabel: this.host.t('ax.rms'), log: true, discreteX: true });
          break;
        case 'update':
          parts.update = new LineChart(body, { height: ch, xLabel: this.host.t('ax.block'), yLabel: this.host.t('ax.ratio'), log: true, discreteX: true });
          break;
        case 'boundary': {
          const test = h('label', { class: 'rp-check' }, h('input', { type: 'checkbox', checked: true, onchange: (e: Event) => {
            for (const b of this.parts.boundary) { b.showTest = (e.target as HTMLInputElement).checked; b.draw(); }
          } }), this.host.t('p.boundary.test'));
          body.classList.add('rp-boundaries');
          const size = boundarySize(nRuns, ch);
          for (let i = 0; i < nRuns; i++) {
            const cell = h('div', { class: 'rp-bcell', style: `--run:${RUN_COLORS[i]}` });
            body.append(cell);
            parts.boundary.push(new Boundary(cell, size, 1.5, lbl(i)));
          }
          panel.append(h('div', { class: 'rp-panel-foot' }, test));
          // your own points (the App decides whether this widget has them)
          const pts = this.host.pointsEditor();
          if (pts) {
            panel.append(pts.el);
            parts.boundary.forEach((b) => pts.attach(b.canvas));
          }
          break;
        }
        case 'digits':
          parts.digits = new DigitsView(body, (k, v) => this.host.t(k as MessageKey, v), () => this.host.session.runs, nRuns, exp?.digitsRun ?? 0);
          break;
        case 'samples':
          parts.samples = body;
          body.classList.add('rp-samples');
          break;
        case 'attention': {
          const layerSel = h('select', { 'aria-label': this.host.t('p.attention.layer'), onchange: (e: Event) => {
            const n = cloneState(this.host.state); n.layer = Number((e.target as HTMLSelectElement).value); this.host.setState(n, { rebuild: 'no' });
            void this.host.session.refreshPictures(false).then(() => this.host.invalidate());
          } }, ...Array.from({ length: Number(s.config.depth) }, (_, i) => h('option', { value: i, selected: i === s.layer }, `${this.host.t('p.attention.layer')} ${i + 1}`)));
          header.insertBefore(layerSel, png);
          parts.attnLayerSel = layerSel;
          if (nRuns > 1) {
            parts.attnRunSel = h('select', { 'aria-label': this.host.t('p.digits.run'), onchange: () => this.host.invalidate() },
              ...Array.from({ length: nRuns }, (_, i) => h('option', { value: i }, RUN_LETTERS[i].toUpperCase())));
            header.insertBefore(parts.attnRunSel, layerSel);
          }
          parts.attention = new AttentionView(body, 380, (hd) => {
            const n = cloneState(this.host.state); n.head = hd; this.host.setState(n, { rebuild: 'no' });
          });
          parts.attention.weightLabel = this.host.t('p.attention.weight');
          break;
        }
      }
      if (p === 'profile' || p === 'rms' || p === 'update') panel.append(this.logStepSlider(parts));
      if (p !== 'samples') {
        const ro = h('p', { class: 'rp-readout', 'data-readout': p }, this.host.t('ro.hint'));
        body.after(ro);
        parts.readouts.set(p, { el: ro, text: null, pinned: false });
      }
      png.addEventListener('click', () => void this.exportPng(p, panel));
      main.append(panel);
    }
    this.parts = parts;
    this.wireReadouts(parts);
    this.logHeatKey = '-';  // new panels: the logs' maps and sliders again
    this.syncLogs();
    // Decision boundaries side by side: fit them to the panel's width (known now that it is laid out).
    const bbody = main.querySelector<HTMLElement>('.rp-boundaries');
    if (bbody && parts.boundary.length) {
      const w = bbody.clientWidth;
      const n = parts.boundary.length;
      if (w > 0) {
        const size = boundarySize(n, ch, w);
        parts.boundary.forEach((b) => b.setSize(size));
      }
    }
  }

  // ------------------------------------------------------------------ hover / tap read-outs

  /** Pointer watchers on every chart: what lies under a mouse (or a tap) goes to the panel's read-out line. */
  wireReadouts(parts: PanelParts): void {
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
  probe(p: PanelId, text: (() => string | null) | null, touch: boolean): void {
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

  showReadout(r: Readout): void {
    const text = r.text?.() ?? null;
    if (text === null && r.pinned) r.pinned = false;  // a tap beside the cells unpins
    setText(r.el, text ?? this.host.t('ro.hint'));
    r.el.classList.toggle('on', text !== null);
  }

  /** Between the items of a list in the page's language. */
  listSep(): string { return this.host.state.lang === 'zh' ? '，' : ', '; }

  who(r: Run): string {
    return this.host.session.runs.length > 1 || this.host.logs().length ? this.host.t('ro.run', { run: RUN_LETTERS[r.index].toUpperCase() }) : '';
  }

  /** The loss chart: the step under the pointer, each run's training loss there and its latest evaluation by then. */
  lossReadout(hit: LineHit | null): string | null {
    if (!hit) return null;
    // the runs, then the imported logs (named by their file)
    const series: [string, RunMetrics][] = [
      ...this.host.session.runs.filter((r) => r.metrics && r.metrics.step.length).map((r): [string, RunMetrics] => [this.who(r), r.metrics!]),
      ...this.host.logs().map((l): [string, RunMetrics] => [this.host.t('ro.run', { run: this.host.t('log.name', { file: l.name }) }), l.metrics]),
    ];
    if (!series.length) return null;
    const lang = this.host.state.lang;
    const want = Math.round(hit.x);
    let shown = -1;
    const bits: string[] = [];
    for (const [who, m] of series) {
      const i = Math.max(0, lastAtOrBelow(m.step.data, m.step.length, want));
      const step = m.step.data[i];
      if (shown < 0) shown = step;
      const vals = [this.host.t('ro.train', { v: fmtValue(m.loss.data[i]) })];
      let e = null;
      for (let k = m.evals.length - 1; k >= 0; k--) if (m.evals[k].step <= step) { e = m.evals[k]; break; }
      if (e) vals.push(this.host.t('ro.val', { v: fmtValue(e.valLoss), s: fmtInt(lang, e.step) }));
      const own = step !== shown ? ` (${this.host.t('ro.step', { s: fmtInt(lang, step) })})` : '';
      bits.push(who + vals.join(this.listSep()) + own);
    }
    return `${this.host.t('ro.step', { s: fmtInt(lang, shown) })} · ${bits.join(' · ')}`;
  }

  /** The per-block charts: the block under the pointer and each run's latest value there. */
  blockReadout(p: 'profile' | 'rms' | 'update', hit: LineHit | null): string | null {
    if (!hit) return null;
    const b = Math.round(hit.x);
    const runs = this.host.session.runs.filter((r) => r.metrics && r.metrics.step.length && b >= 1 && b <= r.metrics.depth);
    const logs = this.host.logs().filter((l) => l.metrics.step.length && b >= 1 && b <= l.metrics.depth);
    if (!runs.length && !logs.length) return null;
    const name = this.host.t(p === 'profile' ? 'ax.grad' : p === 'rms' ? 'ax.rms' : 'ax.ratio');
    const pick = (m: RunMetrics) => (p === 'profile' ? m.gradBlocks : p === 'rms' ? m.rmsBlocks : m.updBlocks);
    const lang = this.host.state.lang;
    const vals = runs.map((r) => `${this.who(r)}${fmtValue(pick(r.metrics!).latest[b - 1])}`);
    // a log's value at the step its slider shows, and which steps that is
    for (const l of logs) {
      const at = blocksAt(pick(l.metrics), l.metrics.steps, this.logStep);
      const when = at.from === at.to ? this.host.t('ro.step', { s: fmtInt(lang, at.to) })
        : this.host.t('log.steps_mean', { a: fmtInt(lang, at.from), s: fmtInt(lang, at.to), n: at.to - at.from + 1 });
      vals.push(`${this.host.t('ro.run', { run: this.host.t('log.name', { file: l.name }) })}${fmtValue(at.values[b - 1])} (${when})`);
    }
    const step = this.host.t('ro.step', { s: fmtInt(this.host.state.lang, this.host.session.steps) });
    return `${this.host.t('ro.block', { b })} · ${step} · ${name} ${vals.join(this.listSep())}`;
  }

  /** The heatmap: block, step (the steps its column averages) and gradient norm under the pointer. */
  heatReadout(i: number, at: At): string | null {
    const hit = this.parts.heat[i]?.hit(at.x, at.y);
    const r = this.host.session.runs[i];
    if (!hit || !r) return null;
    return this.who(r) + this.heatText(hit);
  }

  /** A heatmap cell in words: block, step (or the steps its column averages), gradient norm. */
  heatText(hit: HeatHit): string {
    const lang = this.host.state.lang;
    const v = fmtValue(hit.value);
    return hit.span > 1
      ? this.host.t('ro.heat_span', { b: hit.block, a: fmtInt(lang, hit.endStep - hit.span + 1), s: fmtInt(lang, hit.endStep), n: hit.span, v })
      : this.host.t('ro.heat', { b: hit.block, s: fmtInt(lang, hit.endStep), v });
  }

  /** The decision boundary: the point under the pointer and the network's P(class) there. */
  boundaryReadout(i: number, at: At): string | null {
    const hit = this.parts.boundary[i]?.hit(at.x, at.y);
    const r = this.host.session.runs[i];
    if (!hit || !r) return null;
    const c = (v: number) => v.toFixed(2).replace('-', '−');
    const xy = { x: c(hit.x1), y: c(hit.x2) };
    if (hit.p === null || !Number.isFinite(hit.p)) return this.who(r) + this.host.t('ro.boundary_none', xy);
    return this.who(r) + this.host.t('ro.boundary', { ...xy, p1: hit.p.toFixed(3), p0: (1 - hit.p).toFixed(3) });
  }

  /** The attention map: query and key characters under the pointer and the weight between them. */
  attentionReadout(at: At): string | null {
    const view = this.parts.attention;
    const hit = view?.hit(at.x, at.y);
    if (!hit) return null;
    const i = this.parts.attnRunSel ? Number(this.parts.attnRunSel.value) : 0;
    const r = this.host.session.runs[i];
    return (r ? this.who(r) : '') + this.host.t('ro.attn', {
      h: hit.head + 1, q: showChar(hit.qChar), qi: hit.query + 1, k: showChar(hit.kChar), ki: hit.key + 1, w: fmtValue(hit.weight),
    }) + (hit.key > hit.query ? this.host.t('ro.masked') : '');
  }

  heatLabels() {
    return { block: this.host.t('ax.block'), step: this.host.t('ax.step'), first: '1', last: String(this.host.state.config.depth) };
  }

  /** A panel as a PNG: its title, a legend of its colours and lines, and its canvases with their axes. */
  async exportPng(p: PanelId, panel: HTMLElement): Promise<void> {
    const canvases = Array.from(panel.querySelectorAll('canvas')).filter((c) => c.width > 0 && !c.classList.contains('u-cursor'));
    const { parts, legend } = this.pngLegend(p, canvases);
    // one run: what it is goes in the title (a comparison names its runs in the legend)
    const c = this.host.session.runs[0]?.config;
    const what = c ? `${c.kind} · depth=${c.depth} · residual=${c.residual} · norm=${c.norm} · placement=${c.placement} · lr=${c.lr}` : '';
    const title = this.host.session.runs.length === 1 && what ? `${this.host.t(`p.${p}` as MessageKey)} — ${what}` : this.host.t(`p.${p}` as MessageKey);
    const blob = await canvasesToPng(title, parts, legend);
    download(`${this.host.baseName()}-${p}.png`, blob, 'image/png');
  }

  /** What an exported panel's legend says, and the axes the pictures without their own get. */
  pngLegend(p: PanelId, canvases: HTMLCanvasElement[]): { parts: PngPart[]; legend: LegendItem[] } {
    const runs = this.host.session.runs;
    const multi = runs.length > 1;
    const name = (r: Run) => this.host.runName(r.index);
    const legend: LegendItem[] = [];
    let parts: PngPart[] = canvases.map((canvas) => ({ canvas }));
    const rgb = (c: readonly number[]) => `rgb(${c[0]},${c[1]},${c[2]})`;
    switch (p) {
      case 'loss':
        for (const r of runs) {
          const who = multi ? `${RUN_LETTERS[r.index].toUpperCase()} ` : '';
          legend.push({ kind: 'line', label: `${who}${this.host.t('p.loss.train')}`, color: RUN_COLORS[r.index] });
          legend.push({ kind: 'line', label: `${who}${this.host.t('p.loss.val')}`, color: RUN_COLORS[r.index], dash: true });
        }
        this.host.logs().forEach((l, i) => {
          const who = `${this.host.t('log.name', { file: l.name })} `;
          legend.push({ kind: 'line', label: `${who}${this.host.t('p.loss.train')}`, color: LOG_COLORS[i] });
          legend.push({ kind: 'line', label: `${who}${this.host.t('p.loss.val')}`, color: LOG_COLORS[i], dash: true });
        });
        break;
      case 'profile': case 'rms': case 'update':
        for (const r of runs) legend.push({ kind: 'line', label: name(r), color: RUN_COLORS[r.index] });
        this.host.logs().forEach((l, i) => legend.push({ kind: 'line', label: this.host.t('log.name', { file: l.name }), color: LOG_COLORS[i] }));
        break;
      case 'heatmap':
        for (const r of runs) legend.push({ kind: 'box', label: name(r), color: RUN_COLORS[r.index] });
        this.host.logs().forEach((l, i) => { if (l.blocks.grad) legend.push({ kind: 'box', label: this.host.t('log.name', { file: l.name }), color: LOG_COLORS[i] }); });
        break;
      case 'boundary': {
        const ext = this.parts.boundary[0]?.range ?? 1.5;
        const ticks = [-ext, -ext / 2, 0, ext / 2, ext];
        parts = canvases.map((canvas) => ({ canvas, axes: { x: [-ext, ext], y: [-ext, ext], ticks, xLabel: 'x', yLabel: 'y' } }));
        for (const r of runs) if (multi) legend.push({ kind: 'box', label: name(r), color: RUN_COLORS[r.index] });
        legend.push({ kind: 'ramp', label: 'P(class 1)', lut: BOUNDARY_LUT, from: '0', to: '1' });
        legend.push({ kind: 'box', label: this.host.t('ex.class0'), color: rgb(CLASS_COLORS.zero) });
        legend.push({ kind: 'box', label: this.host.t('ex.class1'), color: rgb(CLASS_COLORS.one) });
        legend.push({ kind: 'box', label: this.host.t('ex.rims'), color: '#fff', rim: '#222' });
        break;
      }
      case 'attention': {
        const i = this.parts.attnRunSel ? Number(this.parts.attnRunSel.value) : 0;
        if (runs[i]) legend.push({ kind: 'box', label: name(runs[i]), color: RUN_COLORS[i] });
        legend.push({ kind: 'ramp', label: this.host.t('p.attention.weight'), lut: BLUES_LUT, from: '0', to: '1' });
        break;
      }
      default:
        for (const r of runs) legend.push({ kind: 'box', label: name(r), color: RUN_COLORS[r.index] });
    }
    return { parts, legend };
  }

  destroy(): void {
    const p = this.parts;
    p.loss?.destroy(); p.profile?.destroy(); p.rms?.destroy(); p.update?.destroy();
    p.heat.forEach((x) => x.destroy()); p.logHeat.forEach((x) => x.map.destroy()); p.boundary.forEach((x) => x.destroy()); p.attention?.destroy(); p.digits?.destroy();
    this.parts = { heat: [], logHeat: [], logSteps: [], boundary: [], zeroNotes: [], readouts: new Map() };
  }

  /** New runs (or a new page layout): series specs, data points, labels. */
  reset(): void {
    this.resetSeries();
    const runs = this.host.session.runs;
    const p = this.parts;
    p.boundary.forEach((b, i) => {
      const info = runs[i]?.engine?.info;
      b.reset(info?.points ?? null);
    });
    this.host.session.wants = {
      grid: this.visiblePanels().includes('boundary'),
      samples: this.visiblePanels().includes('samples'),
      attention: this.visiblePanels().includes('attention'),
      layer: this.host.state.layer,
    };
    this.host.invalidate();
  }

  /**
   * The line charts' series, one set per run of the session. Also done by draw() whenever the runs
   * changed since: the page can draw between a new state (one run) and the new engines being built,
   * and series and data must always agree.
   */
  resetSeries(): void {
    const runs = this.host.session.runs;
    const p = this.parts;
    this.chartRuns = this.chartKey();
    const multi = runs.length > 1;
    const logs = this.host.logs();
    const name = (i: number) => (multi ? RUN_LETTERS[i].toUpperCase() : '');
    const train = this.host.t('p.loss.train'), val = this.host.t('p.loss.val');
    const specs = lossSpecs([
      ...runs.map((r) => ({ name: name(r.index), color: RUN_COLORS[r.index] })),
      ...logs.map((l, i) => ({ name: this.host.t('log.name', { file: l.name }), color: LOG_COLORS[i] })),
    ], train, val);
    p.loss?.reset(specs);
    const few = Math.max(maxDepthOf(runs), ...logs.map((l) => l.metrics.depth)) <= 40;
    const blockSpecs: SeriesSpec[] = runs.map((r) => ({ label: this.host.runName(r.index), color: RUN_COLORS[r.index], width: 2, points: few, pointSize: 5 }));
    logs.forEach((l, i) => blockSpecs.push({ label: this.host.t('log.name', { file: l.name }), color: LOG_COLORS[i], width: 2, points: few, pointSize: 5 }));
    p.profile?.reset(blockSpecs);
    p.rms?.reset(blockSpecs);
    p.update?.reset(blockSpecs);
    this.syncLogs();
  }

  /** The logs the heatmap cells and sliders were last made for. */
  private logHeatKey = '';

  /** The imported logs' heatmaps (one cell per log with per-block gradient norms) and the sliders, when the logs changed. */
  private syncLogs(): void {
    const p = this.parts;
    const logs = this.host.logs();
    const key = logs.map((l) => `${l.name}:${l.metrics.steps}`).join('/');
    if (key === this.logHeatKey) return;
    if (this.logHeatKey !== '-') this.logStep = null;  // other logs: their last step again
    this.logHeatKey = key;
    const body = p.heatBody;
    if (body) {
      p.logHeat.forEach((x) => { x.map.destroy(); body.querySelector('.rp-log-heat')?.remove(); });
      p.logHeat = [];
      const cells = p.heat.length + logs.filter((l) => l.blocks.grad).length;
      const ch = this.chartHeight();
      logs.forEach((log, i) => {
        if (!log.blocks.grad) return;
        const cell = h('div', { class: 'rp-heat-cell rp-log-heat', style: `--run:${LOG_COLORS[i]}`, 'data-log': log.name },
          h('p', { class: 'rp-heat-name' }, this.host.t('log.name', { file: log.name })));
        body.append(cell);
        const map = new Heatmap(cell, cells > 2 && !this.host.isEmbed ? Math.max(110, ch - 30) : ch, this.heatLabels(), this.host.t('log.name', { file: log.name }));
        watchPointer(map.canvas, (at, touch) => this.probe('heatmap', () => this.logHeatReadout(log, map, at), touch), () => this.probe('heatmap', null, false));
        p.logHeat.push({ map, log });
      });
      body.classList.toggle('rp-multi', cells > 1);
      body.classList.toggle('rp-single', cells <= 1);
    }
    this.syncLogStep();
  }

  /** A per-block panel's slider over the imported logs' steps (hidden while no log has per-block values). */
  private logStepSlider(parts: PanelParts): HTMLElement {
    const input = h('input', { type: 'range', min: 1, max: 1, step: 1, value: 1, 'data-action': 'log-step', 'aria-label': this.host.t('log.step_label') }) as HTMLInputElement;
    const value = h('span', { class: 'rp-log-step-value' });
    const box = h('label', { class: 'rp-panel-foot rp-log-step', hidden: true }, h('span', {}, this.host.t('log.step_label')), input, value);
    input.addEventListener('input', () => {
      const range = logStepRange(this.host.logs());
      const v = Number(input.value);
      this.logStep = !range || v >= range.max ? null : v;
      this.syncLogStep();
      this.host.invalidate();
    });
    parts.logSteps.push({ box, input, value });
    return box;
  }

  /** The sliders' range, value and words, from the logs and the step chosen. */
  private syncLogStep(): void {
    const range = logStepRange(this.host.logs());
    const lang = this.host.state.lang;
    if (!range || (this.logStep !== null && (this.logStep < range.min || this.logStep >= range.max))) this.logStep = null;
    for (const { box, input, value } of this.parts.logSteps) {
      box.hidden = !range;
      if (!range) continue;
      input.min = String(range.min);
      input.max = String(range.max);
      input.value = String(this.logStep ?? range.max);
      setText(value, this.logStep === null ? this.host.t('log.step_last', { s: fmtInt(lang, range.max) })
        : this.host.t('log.step_value', { s: fmtInt(lang, this.logStep), a: fmtInt(lang, range.min), b: fmtInt(lang, range.max) }));
    }
  }

  /** The runs and imported logs the line charts' series were set up for. */
  chartKey(): string { return `${this.host.session.runs.map((r) => r.index).join()}|${this.host.logs().map((l) => l.name).join('/')}|${this.host.logs().length}`; }

  /**
   * The redraws of every panel but the loss chart, one per canvas, each reading the latest metrics
   * when it runs. Each returns whether it drew anything.
   */
  jobs(): (() => boolean)[] {
    const p = this.parts;
    const jobs: (() => boolean)[] = [];
    const profile = (chart: LineChart | undefined, pick: (m: RunMetrics) => BlockSeries) => {
      if (chart) jobs.push(() => { this.drawProfile(chart, pick); return true; });
    };
    profile(p.profile, (m) => m.gradBlocks);
    profile(p.rms, (m) => m.rmsBlocks);
    profile(p.update, (m) => m.updBlocks);
    p.heat.forEach((_, i) => jobs.push(() => this.drawHeatmap(i)));
    p.logHeat.forEach((x) => jobs.push(() => this.drawLogHeatmap(x.map, x.log)));
    p.boundary.forEach((_, i) => jobs.push(() => this.drawBoundary(i)));
    if (p.samples) jobs.push(() => this.drawSamples());
    if (p.attention) jobs.push(() => { this.drawAttention(); return true; });
    if (p.digits) jobs.push(() => p.digits!.update());
    return jobs;
  }

  /** Values per block: a run's current profile (one line per run), an imported log's at the step chosen (logStep). */
  drawProfile(chart: LineChart, pickSeries: (m: RunMetrics) => BlockSeries): void {
    const pick = (m: RunMetrics) => pickSeries(m).latest;
    const runs = this.host.session.runs;
    // imported logs after the runs (their per-block values where the log has them)
    const logs = this.host.logs().map((l) => l.metrics);
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
    const values = (m: RunMetrics | null, v = m ? pick(m) : null) => Array.from({ length: maxDepth }, (_, b) =>
      (m && v && b < m.depth && m.step.length && !Number.isNaN(v[b]) ? logSafe(v[b]) : null));
    chart.setData(bx, [...runs.map((r) => values(r.metrics)), ...logs.map((m) => values(m, blocksAt(pickSeries(m), m.steps, this.logStep).values))]);
  }

  /** Run i's gradient-norm heatmap over time, on the colour scale and step axis shared by all runs. */
  drawHeatmap(i: number): boolean {
    const runs = this.host.session.runs;
    const hm = this.parts.heat[i];
    if (!hm) return false;
    const series = runs.map((r) => r.metrics?.gradBlocks).filter((x): x is NonNullable<typeof x> => !!x);
    // one colour scale for the runs and the imported logs' maps
    const range = logRange([...series, ...this.parts.logHeat.map((x) => x.log.metrics.gradBlocks)]);
    // x axis: the run's length when the run is short or well under way, else a little past now
    const horizon = Math.max(1, ...runs.map((r) => {
      const total = Number(r.config.steps);
      const done = r.metrics?.steps ?? 0;
      return done * 4 >= total ? total : Math.min(total, niceCeil(Math.max(50, done * 1.25)));
    }));
    const r = runs[i];
    // labels from the run itself: its depth is what the rows are, whatever the state says now
    const depth = r?.metrics?.depth ?? Number(r?.config.depth ?? this.host.state.config.depth);
    const letter = r && (runs.length > 1 || this.parts.logHeat.length) ? RUN_LETTERS[r.index].toUpperCase() : '';
    hm.setLabels({ ...this.heatLabels(), last: String(depth) }, letter);
    const who = letter ? ` ${letter}` : '';
    hm.setDescription(this.host.t('p.heatmap.aria', { run: who, d: depth, h: horizon }));
    return hm.draw(r?.metrics?.gradBlocks ?? null, range, horizon, r?.metrics?.diverged?.step ?? null);
  }

  /** An imported log's gradient-norm heatmap, over its own steps, on the scale the runs' maps share. */
  drawLogHeatmap(map: Heatmap, log: RunLog): boolean {
    const runs = this.host.session.runs.map((r) => r.metrics?.gradBlocks).filter((x): x is NonNullable<typeof x> => !!x);
    const others = [...runs, ...this.parts.logHeat.filter((x) => x.log !== log).map((x) => x.log.metrics.gradBlocks)];
    const d = logHeat(log, others);
    if (!d) return false;
    const name = this.host.t('log.name', { file: log.name });
    map.setLabels({ ...this.heatLabels(), last: String(log.metrics.depth) }, name);
    map.setDescription(this.host.t('p.heatmap.aria', { run: ` ${name}`, d: log.metrics.depth, h: d.horizon }));
    return map.draw(d.series, d.range, d.horizon, d.mark);
  }

  /** The read-out of an imported log's heatmap. */
  logHeatReadout(log: RunLog, map: Heatmap, at: At): string | null {
    const hit = map.hit(at.x, at.y);
    return hit ? this.host.t('ro.run', { run: this.host.t('log.name', { file: log.name }) }) + this.heatText(hit) : null;
  }

  /**
   * Exactly-zero gradients (dead ReLUs, a dead network) in words: a log axis cannot draw 0 and the
   * heatmap's black is easy to miss, so the panels say which blocks of which run have none.
   */
  syncZeroNotes(): void {
    const notes = this.parts.zeroNotes;
    if (!notes.length) return;
    const runs = this.host.session.runs;
    const sep = this.host.state.lang === 'zh' ? '' : ' ';
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
        const who = runs.length > 1 ? this.host.t('zero.run', { run: RUN_LETTERS[r.index].toUpperCase() }) : '';
        const vars = { n: dead.length, d: v.length, blocks: blockRanges(dead) };
        const text = series === 'gradBlocks' ? (dead.length === v.length ? this.host.t('zero.all') : this.host.t('zero.some', vars))
          : this.host.t(series === 'rmsBlocks' ? 'zero.rms' : 'zero.upd', vars);
        bits.push(who ? who + text : text.charAt(0).toUpperCase() + text.slice(1));
      }
      const text = bits.length ? bits.join(sep) + sep + this.host.t(n.where === 'heat' ? 'zero.heat' : 'zero.now') : '';
      setText(n.el, text);
      n.el.hidden = !text;
    }
  }

  /** Run i's decision boundary, when the engine has sent a new grid. */
  drawBoundary(i: number): boolean {
    const b = this.parts.boundary[i];
    const r = this.host.session.runs[i];
    if (!b || !r?.grid || b.grid === r.grid) return false;
    b.setGrid(r.grid, GRID_RES);
    return true;
  }

  drawSamples(): boolean {
    const runs = this.host.session.runs;
    const box = this.parts.samples;
    const sampleKey = runs.map((r) => `${r.samples.length}:${r.samples[0]?.step ?? -1}`).join('|');
    if (!box || box.dataset.key === sampleKey) return false;
    box.dataset.key = sampleKey;
    clear(box);
    for (const r of runs) {
      const col = h('div', { class: 'rp-sample-col', style: `--run:${RUN_COLORS[r.index]}` });
      if (runs.length > 1) col.append(h('h4', {}, this.host.runName(r.index)));
      if (!r.samples.length) col.append(h('p', { class: 'rp-muted' }, this.host.t('p.none_yet')));
      for (const smp of r.samples.slice(0, 3)) col.append(h('div', { class: 'rp-sample' }, h('span', { class: 'rp-sample-step' }, `${this.host.t('ax.step')} ${smp.step}`), h('pre', {}, smp.text)));
      box.append(col);
    }
    return true;
  }

  drawAttention(): void {
    const p = this.parts;
    if (!p.attention) return;
    const runs = this.host.session.runs;
    const i = p.attnRunSel ? Number(p.attnRunSel.value) : 0;
    const a = runs[i]?.attention ?? null;
    p.attention.set(a, this.host.state.head, a ? `${this.host.t('p.attention.layer')} ${a.layer + 1} · ${this.host.t('p.attention.head')} ${Math.min(this.host.state.head, a.heads - 1) + 1}` : '');
  }

  /** The loss chart from the runs' and logs' metrics (its series set up again when they changed). */
  drawLoss(): void {
    const p = this.parts;
    if (this.chartKey() !== this.chartRuns) this.resetSeries();
    // loss: x = the longest run's steps, decimated to at most ~1000 points (bucket means)
    if (p.loss) {
      const { x, ys, n } = lossSeries([...this.host.session.runs.map((r) => r.metrics), ...this.host.logs().map((l) => l.metrics)], this.host.state.logScale);
      p.loss.setData(x, ys, robustCap(ys));
      this.host.root.classList.toggle('rp-started', n > 0);
    }
  }

  /** After a redraw: the "exactly 0" notes and the read-outs that are showing. */
  afterDraw(): void {
    this.syncZeroNotes();
    for (const r of this.parts.readouts.values()) if (r.text) this.showReadout(r);
  }
}
