// Files in and out of the playground: metrics (CSV, JSON) and models (safetensors) out; models,
// training logs (JSONL, runlog.ts), points (CSV) and texts in, from the Export menu, the data panels
// or a file dropped anywhere on the widget. Which kind a file is: fileKind (pure, unit-tested).
import { toEngineConfig, type FlatConfig } from './config/fields';
import { runLabel } from './compare';
import { download, metricsCsv, metricsJson, readCheckpointHeader, type ExportRun } from './export';
import { translate, type MessageKey } from './i18n';
import { BudgetError } from './engine/budget';
import { RunMetrics } from './metrics';
import { RUN_LETTERS, type AppState, type Lang } from './state';
import type { EngineFactory, EngineLike, Session } from './session';
import { MAX_LOG_BYTES, MAX_LOGS, type LogProblem, type RunLog } from './runlog';
import { readLogFile, type LogWorkerLike } from './runlogRead';

export type FileKind = 'log' | 'checkpoint' | 'points' | 'text';

/**
 * What a file is, from its name, else from its first bytes: a safetensors file starts with its
 * header's length (8 bytes, little-endian) and then '{'; a JSONL log with '{'.
 */
export function fileKind(name: string, head: Uint8Array): FileKind | null {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  if (ext === 'jsonl' || ext === 'ndjson') return 'log';
  if (ext === 'safetensors') return 'checkpoint';
  if (ext === 'csv') return 'points';
  if (ext === 'txt') return 'text';
  if (head.length >= 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0) return 'checkpoint';
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (head[i] === 0x7b) return 'log';
  return null;
}

/** A log that could not be read, in words (names the file and the line). */
export function logProblemText(lang: Lang, file: string, p: LogProblem): string {
  const t = (k: MessageKey, v?: Record<string, string | number>) => translate(lang, k, v);
  const why = p.kind === 'size' ? t('log.size', { size: (p.bytes / 1048576).toFixed(1), max: MAX_LOG_BYTES / 1048576 })
    : p.kind === 'empty' ? t('log.empty')
    : p.kind === 'json' ? t('log.json', { line: p.line })
    : p.kind === 'step' ? t('log.step', { line: p.line, v: p.value })
    : p.kind === 'order' ? t('log.order', { line: p.line, step: p.step, prev: p.prev })
    : p.kind === 'field' ? t('log.field', { line: p.line, key: p.key })
    : t('log.depth', { line: p.line, key: p.key, n: p.n, depth: p.depth });
  return t('log.failed', { file, why });
}

type Kind = 'error' | 'warn' | 'info';

/** What the file code needs from the page. */
export interface FileHost {
  readonly state: AppState;
  readonly session: Session;
  readonly factory: EngineFactory;
  /** The run the controls edit (compare mode): a checkpoint loads into it. */
  readonly selected: number;
  /** Replaces the notice with this tag (text made in the page's language when drawn). */
  notice(tag: string, kind: Kind, text: () => string, action?: { label: () => string; run: () => void }): void;
  /** Removes the notice with this tag, if any. */
  dismiss(tag: string): void;
  /** Single-run mode: this engine, built from a checkpoint, becomes the run. */
  adopt(engine: EngineLike, config: FlatConfig, step: number): void;
  /** Compare mode: run `index` was reloaded in place. */
  reloaded(): void;
  /** The imported logs changed (redraw the charts). */
  logsChanged(): void;
  /** Your own text / points, where the page has their panels. */
  text?: { readFile(f: File): Promise<void> };
  points?: { upload(f: File): Promise<void> };
}

export class FileIO {
  /** Training logs drawn beside the runs (read-only; never in the link). */
  logs: RunLog[] = [];
  /** Logs being read now (they count towards MAX_LOGS). */
  private reading = 0;

  /** `logWorker`: how a log reader's worker starts (tests; default: runlogWorker.ts, else on this thread). */
  constructor(private readonly host: FileHost, private readonly logWorker?: () => LogWorkerLike | null) {}

  private t(key: MessageKey, vars?: Record<string, string | number>): string {
    return translate(this.host.state.lang, key, vars);
  }

  baseName(): string {
    const s = this.host.state, c = s.config;
    return `resnorm-${s.exp || `${c.kind}-${c.residual}-${c.norm}-${c.placement}`}`;
  }

  /** Whether any run has a step to export (before that a metrics file would hold only its header). */
  hasMetrics(): boolean { return this.host.session.runs.some((r) => (r.metrics?.step.length ?? 0) > 0); }

  private exportRuns(): ExportRun[] {
    return this.host.session.runs.filter((r) => r.metrics).map((r) => ({
      name: RUN_LETTERS[r.index].toUpperCase(), label: runLabel(this.host.state, r.index), config: r.config, metrics: r.metrics!,
    }));
  }

  exportMetrics(ext: 'csv' | 'json'): void {
    if (!this.hasMetrics()) {
      this.host.notice('export', 'warn', () => this.t('ex.empty'));
      return;
    }
    if (ext === 'csv') download(`${this.baseName()}-metrics.csv`, metricsCsv(this.exportRuns()), 'text/csv');
    else download(`${this.baseName()}-metrics.json`, metricsJson(this.exportRuns()), 'application/json');
  }

  async saveModel(): Promise<void> {
    const run = this.host.session.runs[this.host.selected];
    if (!run?.engine) return;
    try {
      const bytes = await run.engine.save();
      download(`${this.baseName()}-${RUN_LETTERS[run.index]}-step${run.metrics?.steps ?? 0}.safetensors`, bytes, 'application/octet-stream');
    } catch (e) {
      const msg = String(e instanceof Error ? e.message : e);
      this.host.notice('save', 'error', () => msg);
    }
  }

  /** Loads a checkpoint; any failure leaves the runs, settings and charts as they were. */
  async loadModel(file: File): Promise<void> {
    const fail = (msg: string) => this.host.notice('load', 'error', () => this.t('ex.load_failed', { file: file.name, msg }));
    const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      return fail(String(e));
    }
    let header;
    try {
      header = readCheckpointHeader(bytes);
    } catch (e) {
      return fail(errText(e));
    }
    const session = this.host.session;
    const wasPlaying = session.playing;
    session.pause();
    let inspectWhy = '';  // set when the checkpoint opens for inspection only: why it cannot train here
    if (this.host.state.mode === 'single') {
      // A scratch engine with the checkpoint's own config: only when it loads does it replace the run.
      let engine;
      try {
        engine = await this.host.factory(toEngineConfig(header.config));
        await engine.load(bytes);
      } catch (e) {
        engine?.terminate();
        engine = undefined;
        const msg = errText(e);
        // Too big to train here (e.g. from the PyTorch twin on a bigger machine): a gpt opens for inspection
        // when one sequence of it fits, as `resnorm sample` reads it (issue 12).
        if (header.config.kind !== 'gpt' || !header.vocab || !(e instanceof BudgetError || /over the (memory )?cap/.test(msg))) {
          if (wasPlaying) session.play();
          return fail(msg);
        }
        try {
          engine = await this.host.factory(toEngineConfig(header.config), { inspect: header.vocab });
          await engine.load(bytes);
          inspectWhy = msg;
        } catch (e2) {
          engine?.terminate();
          if (wasPlaying) session.play();
          return fail(`${msg}; not even for inspection: ${errText(e2)}`);
        }
      }
      this.host.adopt(engine, header.config, header.step);
    } else {
      const run = session.runs[this.host.selected];
      if (!run?.engine) return fail('the run is not ready');
      try {
        await run.engine.load(bytes);
      } catch (e) {
        if (wasPlaying) session.play();
        return fail(errText(e));
      }
      run.metrics = new RunMetrics(run.engine.info.depth, run.engine.info.kind === 'gpt' ? run.engine.info.heads : 0);
      run.metrics.offset = header.step;
      run.status = 'ready';
      this.host.reloaded();
    }
    const kind = String(header.config.kind), step = header.step;
    if (inspectWhy) this.host.notice('load', 'info', () => this.t('ex.loaded_inspect', { file: file.name, step, why: inspectWhy }));
    else this.host.notice('load', 'info', () => this.t('ex.loaded', { file: file.name, kind, step }));
  }

  /**
   * Reads a training log (JSONL of the CLI or the PyTorch twin) in a worker, with its progress in a
   * notice, and draws it beside the runs; a bad log says what is wrong and changes nothing.
   */
  async importLog(file: File): Promise<void> {
    const name = file.name || 'log.jsonl';
    const fail = (p: LogProblem) => this.host.notice('log', 'error', () => logProblemText(this.host.state.lang, name, p));
    if (this.logs.length + this.reading >= MAX_LOGS) {
      this.host.notice('log', 'error', () => this.t('log.too_many', { n: MAX_LOGS }));
      return;
    }
    if (file.size > MAX_LOG_BYTES) return fail({ kind: 'size', bytes: file.size });  // refused without reading it
    const tag = `log-read:${name}`;
    let shown = -1;
    const progress = (bytes: number, total: number) => {
      const pct = total > 0 ? Math.min(100, Math.floor((100 * bytes) / total)) : 0;
      if (pct === shown) return;
      shown = pct;
      this.host.notice(tag, 'info', () => this.t('log.reading', { file: name, pct }));
    };
    progress(0, file.size);
    this.reading++;
    let r;
    try {
      r = await readLogFile(file, progress, this.logWorker);
    } finally {
      this.reading--;
      this.host.dismiss(tag);
    }
    if ('error' in r) {
      const msg = r.error;
      this.host.notice('log', 'error', () => this.t('own.err.read', { name, msg }));
      return;
    }
    if ('problem' in r) return fail(r.problem);
    const log: RunLog = { ...r.log, name };
    this.logs.push(log);
    const m = log.metrics, first = m.step.data[0], last = m.step.last();
    const lang = () => this.host.state.lang;
    const n = (v: number) => new Intl.NumberFormat(lang() === 'zh' ? 'zh-CN' : 'en-US').format(v);
    this.host.notice(`log:${this.logs.length}:${name}`, 'info',
      () => this.t('log.loaded', { file: name, n: n(m.step.length), a: n(first), b: n(last) }),
      { label: () => this.t('log.remove'), run: () => this.removeLog(log) });
    this.host.logsChanged();
  }

  removeLog(log: RunLog): void {
    this.logs = this.logs.filter((l) => l !== log);
    this.host.logsChanged();
  }

  /** A file dropped on the widget (or chosen): routed by its kind. */
  async open(file: File): Promise<void> {
    let head = new Uint8Array(0);
    try {
      head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    } catch { /* the name decides */ }
    const kind = fileKind(file.name, head);
    if (kind === 'log') return this.importLog(file);
    if (kind === 'checkpoint') return this.loadModel(file);
    if (kind === 'points' && this.host.points) return this.host.points.upload(file);
    if (kind === 'text' && this.host.text) return this.host.text.readFile(file);
    const name = file.name;
    this.host.notice('drop', 'error', () => this.t('drop.unknown', { file: name }));
  }

  /** Drag and drop anywhere on `root`: a highlighted frame while a file is over it, then open(). */
  watchDrops(root: HTMLElement): () => void {
    const files = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
    let depth = 0;
    const over = (e: DragEvent) => { if (files(e)) { e.preventDefault(); e.dataTransfer!.dropEffect = 'copy'; } };
    const enter = (e: DragEvent) => { if (files(e)) { depth++; root.classList.add('rp-dropping'); } };
    const leave = () => { if (--depth <= 0) { depth = 0; root.classList.remove('rp-dropping'); } };
    const drop = (e: DragEvent) => {
      depth = 0;
      root.classList.remove('rp-dropping');
      const f = e.dataTransfer?.files?.[0];
      if (!f) return;
      e.preventDefault();
      void this.open(f);
    };
    root.addEventListener('dragover', over);
    root.addEventListener('dragenter', enter);
    root.addEventListener('dragleave', leave);
    root.addEventListener('drop', drop);
    return () => {
      root.removeEventListener('dragover', over);
      root.removeEventListener('dragenter', enter);
      root.removeEventListener('dragleave', leave);
      root.removeEventListener('drop', drop);
    };
  }
}
