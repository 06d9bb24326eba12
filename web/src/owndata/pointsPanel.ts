// "Your own points" under the mlp's decision boundary: pick a tool (add class 0, add class 1, eraser)
// and click the picture; clear; upload or download CSV; regenerate the data. Edits become data.name
// "points" (the list is kept in this browser, store.ts) and the run is rebuilt on them.
import { h } from '../dom';
import { download } from '../export';
import { fmtInt, translate, type MessageKey } from '../i18n';
import type { Lang } from '../state';
import { boundaryHit } from '../charts/boundary';
import { EXTENT, MAX_POINTS, MIN_POINTS, editPoints, parsePointsCsv, pointsToCsv, type PointsProblem, type Pt } from './points';
import { ownPoints, setOwnPoints } from './store';

export type PointsTool = 'add0' | 'add1' | 'erase' | null;

export interface PointsHost {
  lang(): Lang;
  /** The points the model trains on now: your own, or the built-in dataset's (train and test). */
  currentPoints(): Pt[];
  /** Train on the kept points (data = points, rebuilt shortly). */
  usePoints(): void;
  /** A new seed: the built-in datasets are drawn again (and the weights initialised anew). */
  regenerate(): void;
  notify(kind: 'error' | 'info', text: string): void;
}

/** The notice for a refused CSV, in the page's language. */
export function pointsProblemText(lang: Lang, name: string, p: PointsProblem): string {
  const t = (k: MessageKey, v: Record<string, string | number> = {}) => translate(lang, k, { name, ...v });
  switch (p.kind) {
    case 'fields': return t('pts.err.fields', { line: p.line, n: p.n });
    case 'x': case 'y': return t('pts.err.number', { line: p.line, field: p.kind, v: p.value });
    case 'label': return t('pts.err.label', { line: p.line, v: p.value });
    case 'outside': return t('pts.err.outside', { line: p.line });
    case 'toomany': return t('pts.err.toomany', { line: p.line, max: fmtInt(lang, MAX_POINTS) });
    case 'few': return t('pts.err.few', { n: p.n, min: MIN_POINTS });
  }
}

export class PointsEditor {
  readonly el: HTMLElement;
  tool: PointsTool = null;
  /** Once edited here, edits build on the kept list (even while it is too short to train on). */
  private edited = false;
  private readonly toolButtons = new Map<PointsTool, HTMLButtonElement>();
  private readonly file: HTMLInputElement;

  constructor(private readonly host: PointsHost) {
    const t = (k: MessageKey, v?: Record<string, string | number>) => translate(host.lang(), k, v);
    const tool = (id: Exclude<PointsTool, null>, label: string) => {
      const b = h('button', { type: 'button', class: `rp-btn rp-small rp-pts-${id}`, 'data-pts': id, 'aria-pressed': 'false',
        onclick: () => this.setTool(this.tool === id ? null : id) }, label) as HTMLButtonElement;
      this.toolButtons.set(id, b);
      return b;
    };
    this.file = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', hidden: true, 'data-pts': 'file',
      onchange: () => { const f = this.file.files?.[0]; if (f) void this.upload(f); this.file.value = ''; } }) as HTMLInputElement;
    // folded by default: the boundary panel keeps its height until you open your own points
    this.el = h('details', { class: 'rp-own rp-pts', 'data-pts': 'panel' },
      h('summary', { 'data-pts': 'open' }, t('pts.title')),
      h('div', { class: 'rp-pts-row', role: 'group', 'aria-label': t('pts.title') },
        tool('add0', t('pts.add0')), tool('add1', t('pts.add1')), tool('erase', t('pts.erase')),
        h('button', { type: 'button', class: 'rp-btn rp-small', 'data-pts': 'clear', onclick: () => this.keep([]) }, t('pts.clear'))),
      h('div', { class: 'rp-pts-row' },
        h('button', { type: 'button', class: 'rp-btn rp-small', 'data-pts': 'upload', onclick: () => this.file.click() }, t('pts.upload')),
        h('button', { type: 'button', class: 'rp-btn rp-small', 'data-pts': 'download', onclick: () => this.download() }, t('pts.download')),
        h('button', { type: 'button', class: 'rp-btn rp-small', 'data-pts': 'regenerate', onclick: () => host.regenerate() }, t('pts.regen')),
        this.file),
      h('p', { class: 'rp-own-note' }, t('pts.help', { max: fmtInt(host.lang(), MAX_POINTS) })));
  }

  /** Opens the CSV chooser (from the notice a shared link gets). */
  pickFile(): void { this.file.click(); }

  setTool(tool: PointsTool): void {
    this.tool = tool;
    for (const [id, b] of this.toolButtons) b.setAttribute('aria-pressed', String(id === tool));
  }

  /** Clicks on a decision-boundary canvas edit the points while a tool is chosen. */
  attach(canvas: HTMLCanvasElement): void {
    canvas.addEventListener('pointerdown', (e) => {
      if (!this.tool) return;
      const r = canvas.getBoundingClientRect();
      const hit = boundaryHit(null, 0, r.width, EXTENT, e.clientX - r.left, e.clientY - r.top);
      const base = this.edited ? ownPoints() ?? [] : this.host.currentPoints();
      if (hit) this.keep(editPoints(base, this.tool, hit.x1, hit.x2));
    });
    canvas.classList.toggle('rp-pts-canvas', true);
  }

  private keep(points: Pt[]): void {
    this.edited = true;
    void setOwnPoints(points);
    if (points.length < MIN_POINTS) {
      // too few to train on yet: say so, and build when there are enough
      this.host.notify('info', translate(this.host.lang(), 'pts.more', { n: points.length, min: MIN_POINTS }));
      return;
    }
    this.host.usePoints();
  }

  /** Reads a points CSV (the file chooser, or a file dropped on the page). */
  async upload(f: File): Promise<void> {
    const lang = this.host.lang();
    let text: string;
    try {
      text = f.size > 4 * 1048576 ? '' : await f.text();
    } catch (e) {
      this.host.notify('error', translate(lang, 'own.err.read', { name: f.name, msg: e instanceof Error ? e.message : String(e) }));
      return;
    }
    const r = f.size > 4 * 1048576 ? { problem: { kind: 'toomany', line: MAX_POINTS + 1 } as PointsProblem } : parsePointsCsv(text);
    if ('problem' in r) {
      this.host.notify('error', pointsProblemText(lang, f.name, r.problem));
      return;
    }
    this.keep(r.points);
  }

  private download(): void {
    const pts = ownPoints() ?? this.host.currentPoints();
    download('points.csv', pointsToCsv(pts), 'text/csv');
  }
}
