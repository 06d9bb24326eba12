// Drives 1-4 engines (one Web Worker each) in lockstep: every round each live run takes the same
// number of steps, so all curves stay at the same step; evaluations, decision-boundary grids,
// samples and attention maps are requested between rounds. No DOM here; the page listens.
import { BudgetError, type OverBudget } from './engine/budget';
import type { EngineEvents, EvalStats, FeatureMaps, ModelInfo, ResnormConfig, StepStats } from './engine/types';
import { toEngineConfig, type FlatConfig } from './config/fields';
import { roundSteps } from './compare';
import { RunMetrics } from './metrics';
import { threadsPerRun } from './engine/threadSplit';

/** The part of EngineClient the session uses (tests pass a fake). */
export interface EngineLike {
  readonly info: ModelInfo;
  on<K extends keyof EngineEvents>(ev: K, cb: EngineEvents[K]): () => void;
  step(n: number): Promise<StepStats[]>;
  evaluate(): Promise<EvalStats>;
  grid(res: number, lo: number, hi: number): Promise<Float32Array>;
  /** cnn: class probabilities [n, 10] of n images (EngineClient.probs). */
  probs(images: Float32Array): Promise<Float32Array>;
  /** cnn: feature maps after one block for one image (EngineClient.features). */
  features(image: Float32Array, block: number): Promise<FeatureMaps>;
  sample(prompt: string, tokens: number, temperature: number, topK: number, seed: number): Promise<string>;
  attention(text: string, layer: number): Promise<{ heads: number; T: number; data: Float32Array }>;
  save(): Promise<Uint8Array>;
  load(bytes: Uint8Array): Promise<void>;
  /** Changes optimiser settings of the running model (Trainer::set_optim; not the optimiser nor the batch). */
  setOptim(optim: NonNullable<ResnormConfig['optim']>): Promise<void>;
  /** The core's thread count from now on, 1 .. info.threads (EngineClient.setThreads); resolves to the count in effect. */
  setThreads(n: number): Promise<number>;
  terminate(): void;
}
/** opts.inspect: a gpt checkpoint's vocabulary: build it for inspection only (engine/client.ts EngineOptions). */
export type EngineFactory = (config: ResnormConfig, opts?: { inspect?: string }) => Promise<EngineLike>;

/** inspect: a checkpoint opened for inspection only (too big to train here): pictures, no steps. */
export type RunStatus = 'building' | 'ready' | 'done' | 'diverged' | 'crashed' | 'error' | 'inspect';

export interface Run {
  index: number;
  config: FlatConfig;
  engine: EngineLike | null;
  metrics: RunMetrics | null;
  status: RunStatus;
  message: string;            // why it stopped / failed
  threads: number;            // the threads its engine trains on now (its share of the machine: balance())
  overBudget?: OverBudget;    // set when it failed because the page's memory budget was spent
  grid: Float32Array | null;  // mlp: P(class 1), gridRes x gridRes
  samples: { step: number; text: string }[];
  attention: { layer: number; heads: number; T: number; data: Float32Array; text: string } | null;
  unsubs: (() => void)[];
}

export interface SessionEvents {
  /** Runs were (re)built; ok=false when at least one failed (its run.message says why). */
  built(ok: boolean): void;
  /** New steps, evaluations or pictures arrived; redraw when convenient. */
  update(): void;
  /** Playing state changed (play, pause, all runs finished). */
  playing(on: boolean): void;
  /** A run diverged, crashed or finished: reason for a banner. */
  stopped(run: Run, reason: RunStatus): void;
}

/** Longest wait between two text samples while a gpt trains, and between two attention maps (ms). */
export const SAMPLE_MAX_MS = 4500;
export const ATTN_MS = 1000;

interface Round { k: number; boundary: boolean; runs: Run[]; ns: number[]; done: Promise<(StepStats[] | Error)[]> }

/** A scheduled edit: at `step` the runs take `configs` (full run configs; only live settings differ). */
export interface EditStep { step: number; configs: FlatConfig[] }

export interface Wants { grid: boolean; samples: boolean; attention: boolean; layer: number }

export const GRID_RES = 50;
export const DATA_EXTENT = 1.5;
const ATTN_TEXT = 'ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n';
/** For a Chinese text (李白, 靜夜思, in the traditional characters of the Tang poems corpus). */
const ATTN_TEXT_ZH = '床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n';

export class Session {
  runs: Run[] = [];
  playing = false;
  /** Steps per second cap (0 = as fast as the engines go). */
  speed = 0;
  /** Target wall time of one lockstep round, ms. */
  roundMs = 60;
  wants: Wants = { grid: true, samples: true, attention: true, layer: 0 };
  /** Cores to share among the runs that train at once (balance()); navigator.hardwareConcurrency by default. */
  cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  /** Steps per second actually reached (sliding window), and the time of the last round. */
  rate = 0;
  private gen = 0;
  private listeners: Partial<{ [K in keyof SessionEvents]: SessionEvents[K][] }> = {};
  private rateWin: { t: number; steps: number }[] = [];
  private lastGrid = 0;
  private gridMs = 20;
  private sampleMs = 100;  // how long the last text sample took: sampling gets at most ~1/10 of the time
  // Samples at least every 4.5 s (issue 10: "at least every 5 s"), more often when sampling is cheap, but
  // never more than ~10% of the worker's time (the time the last sample took x 10, at least 2 s).
  private sampleEvery(): number { return Math.min(SAMPLE_MAX_MS, Math.max(2000, 10 * this.sampleMs)); }   // how long the last decision-boundary grid took (it is drawn at most ~1/8 of the time)
  private lastSample = 0;
  private lastAttn = -1e9;
  private attnLayerShown = -1;

  constructor(private factory: EngineFactory, private now: () => number = () => performance.now()) {}

  on<K extends keyof SessionEvents>(ev: K, cb: SessionEvents[K]): void {
    ((this.listeners[ev] ??= []) as SessionEvents[K][]).push(cb);
  }
  private emit<K extends keyof SessionEvents>(ev: K, ...args: Parameters<SessionEvents[K]>): void {
    for (const cb of (this.listeners[ev] ?? []) as ((...a: unknown[]) => void)[]) cb(...args);
  }

  get steps(): number { return Math.max(0, ...this.runs.map((r) => r.metrics?.steps ?? 0)); }
  get live(): Run[] { return this.runs.filter((r) => r.status === 'ready'); }

  /** Throws away the current engines and builds one per config (in parallel). */
  async build(configs: FlatConfig[], restore?: (i: number) => Uint8Array | null, schedule: EditStep[] = []): Promise<boolean> {
    const gen = this.nextGen();
    this.setPlaying(false);
    this.disposeRuns();
    this.schedule = schedule.filter((e) => e.step >= 1).sort((a, b) => a.step - b.step);
    this.rate = 0;
    this.rateWin = [];
    this.lastGrid = this.lastSample = 0;
    this.lastAttn = -1e9;
    this.runs = configs.map((config, index) => ({
      index, config, engine: null, metrics: null, status: 'building', message: '', threads: 1, grid: null, samples: [], attention: null, unsubs: [],
    }));
    this.emit('update');
    await Promise.all(this.runs.map(async (run) => {
      try {
        const engine = await this.factory(toEngineConfig(run.config));
        if (gen !== this.gen) { engine.terminate(); return; }
        const bytes = restore?.(run.index);
        if (bytes) await engine.load(bytes);
        run.engine = engine;
        const info = engine.info;
        run.threads = info.threads;
        run.metrics = new RunMetrics(info.depth, info.kind === 'gpt' ? info.heads : 0);
        run.status = 'ready';
        run.unsubs.push(engine.on('crashed', (msg) => this.fail(run, 'crashed', msg)));
      } catch (e) {
        if (gen !== this.gen) return;
        run.status = 'error';
        run.message = e instanceof Error ? e.message : String(e);
        if (e instanceof BudgetError) run.overBudget = e.info;
      }
    }));
    if (gen !== this.gen) return false;
    const ok = this.runs.every((r) => r.status === 'ready');
    this.balance();
    if (ok) await this.refreshPictures(true);
    this.emit('built', ok);
    this.emit('update');
    return ok;
  }

  /** Takes over engines that already exist (e.g. one that just loaded a checkpoint). */
  adopt(engines: EngineLike[], configs: FlatConfig[], startSteps: number[] = []): void {
    this.nextGen();
    this.setPlaying(false);
    this.disposeRuns();
    this.schedule = [];
    this.rate = 0;
    this.rateWin = [];
    this.runs = engines.map((engine, index) => {
      const info = engine.info;
      const metrics = new RunMetrics(info.depth, info.kind === 'gpt' ? info.heads : 0);
      metrics.offset = startSteps[index] ?? 0;
      const run: Run = { index, config: configs[index], engine, metrics, status: info.inspectOnly ? 'inspect' : 'ready', message: '', threads: info.threads, grid: null, samples: [], attention: null, unsubs: [] };
      run.unsubs.push(engine.on('crashed', (msg) => this.fail(run, 'crashed', msg)));
      return run;
    });
    this.balance();
    void this.refreshPictures(true).then(() => this.emit('update'));
    this.emit('built', true);
  }

  /**
   * Starts a new generation of runs. A step or a play loop of the old generation may still be awaiting
   * its engines (a round's evaluation and pictures come after its steps are counted): it stops at its
   * next check of the generation, and the new runs must not wait for it, so the single-step queue and
   * the loop flag start afresh here. (A "Run this" pressed while single steps were still drawing once
   * left `busy` set for good, and every later Step click was dropped.)
   */
  private nextGen(): number {
    this.busy = false;
    this.queued = 0;
    this.looping = null;
    return ++this.gen;
  }

  private disposeRuns(): void {
    this.inflight.clear();
    this.pendingEdit = null;
    for (const r of this.runs) {
      r.unsubs.forEach((u) => u());
      r.engine?.terminate();
      r.engine = null;
    }
  }

  dispose(): void {
    this.nextGen();
    this.setPlaying(false);
    this.disposeRuns();
    this.runs = [];
  }

  private fail(run: Run, status: RunStatus, message: string): void {
    if (run.status !== 'ready') return;
    run.status = status;
    run.message = message;
    this.balance();
    this.emit('stopped', run, status);
    if (!this.live.length) this.setPlaying(false);
    this.emit('update');
  }

  private setPlaying(on: boolean): void {
    if (this.playing === on) return;
    this.playing = on;
    this.emit('playing', on);
  }

  play(): void {
    if (this.playing || !this.live.length) return;
    this.setPlaying(true);
    void this.loop();
  }
  pause(): void { this.setPlaying(false); }
  toggle(): void { if (this.playing) this.pause(); else this.play(); }

  /**
   * Continues every finished run for `more` steps at the learning rate its last step used (the
   * schedule's end), constant from there: the model, optimiser state and metrics are kept
   * (Trainer::set_optim raises optim.steps mid-run). Returns the runs continued.
   */
  async extend(more: number): Promise<Run[]> {
    const gen = this.gen;
    const runs = this.runs.filter((r) => r.status === 'done' && r.engine && r.metrics);
    await Promise.all(runs.map(async (r) => {
      const m = r.metrics!;
      const steps = m.steps + Math.max(1, Math.floor(more));
      const lr = continueLr(m, r.config);
      const warmup = Math.min(Number(r.config.warmup) || 0, m.steps);
      await r.engine!.setOptim({ schedule: 'constant', lr, steps, warmup });
      if (gen !== this.gen) return;
      r.config = { ...r.config, schedule: 'constant', lr, steps, warmup };
      r.status = 'ready';
      r.message = '';
    }));
    if (gen === this.gen) { this.balance(); this.emit('update'); }
    return runs;
  }

  // ---------------------------------------------------------------- mid-run edits (edits.ts)

  /** Edits to apply when the runs reach their step (a replayed link), in step order. */
  private schedule: EditStep[] = [];
  /** A live edit waiting for the rounds in flight to come back. */
  private pendingEdit: FlatConfig[] | null = null;

  /**
   * Applies new configs that differ only in live settings to the running models, at a definite step:
   * now if no round is out, else right after the rounds already asked for (no new round is issued
   * before). Returns that step, or null when there is nothing running to edit.
   */
  edit(configs: FlatConfig[]): number | null {
    const runs = this.runs.filter((r) => r.engine && r.metrics && (r.status === 'ready' || r.status === 'done'));
    if (!runs.length || configs.length !== this.runs.length) return null;
    const at = Math.max(...runs.map((r) => r.metrics!.steps + (this.inflight.get(r) ?? 0)));
    this.pendingEdit = configs;
    if (this.looping !== this.gen && !this.busy) void this.applyDue(this.gen);
    return at;
  }

  /** Applies the pending live edit and the scheduled edits due at the current step. */
  private async applyDue(gen: number): Promise<void> {
    const at = this.steps;
    const due: FlatConfig[][] = [];
    while (this.schedule.length && this.schedule[0].step <= at) due.push(this.schedule.shift()!.configs);
    if (this.pendingEdit) { due.push(this.pendingEdit); this.pendingEdit = null; }
    for (const configs of due) {
      await Promise.all(this.runs.map(async (r, i) => {
        const next = configs[i];
        if (!next || !r.engine || JSON.stringify(next) === JSON.stringify(r.config)) return;
        await r.engine.setOptim(toEngineConfig(next).optim!);
        if (gen !== this.gen) return;
        r.config = next;
        // a finished run given more steps trains on
        if (r.status === 'done' && r.metrics && r.metrics.steps < (next.steps as number)) { r.status = 'ready'; r.message = ''; }
      }));
      if (gen !== this.gen) return;
    }
    if (due.length) { this.balance(); this.emit('update'); }
  }

  /** The next scheduled edit's step after `start`, or Infinity. */
  private nextEditAfter(start: number): number {
    for (const e of this.schedule) if (e.step > start) return e.step;
    return Infinity;
  }

  /** One step of every live run (while paused). Clicks while a step is running queue up. */
  async stepOnce(): Promise<void> {
    if (this.playing) return;
    this.queued++;
    if (this.busy) return;
    const gen = this.gen;
    this.busy = true;
    try {
      while (this.queued > 0 && !this.playing && gen === this.gen) {
        this.queued--;
        await this.applyDue(gen);
        if (gen !== this.gen) break;
        const round = this.issue(1, gen);
        if (!round) break;
        await this.absorb(round, await round.done, gen);
      }
    } finally {
      this.queued = 0;
      if (gen === this.gen) this.busy = false;
    }
  }

  /** A single step (stepOnce) or a play round of this generation is out. */
  busy = false;
  private queued = 0;
  /** The generation whose play loop is running, if any. */
  private looping: number | null = null;

  /** Steps for the next round, counting steps already asked for but not yet back (`ahead`). */
  private plan(ahead: number): number {
    const live = this.live;
    const ms = live.map((r) => r.metrics!.recentMs(20));
    const msKnown = ms.every((x) => Number.isFinite(x));
    // Until a step has been timed, one step: a first round guessed too long (a transformer's steps
    // take tens of ms) would keep the page without any feedback for seconds after Play.
    let k = msKnown ? Math.min(...live.map((r) => roundSteps(ms, this.roundMs, r.metrics!.steps + ahead,
      r.config.steps as number, r.config.eval as number))) : 1;
    if (this.speed > 0) k = Math.min(k, Math.max(1, Math.round((this.speed * this.roundMs) / 1000)));
    return k;
  }

  private async loop(): Promise<void> {
    const gen = this.gen;
    if (this.looping === gen) return;
    this.looping = gen;
    let ahead: Round | null = null;
    try {
      while (this.playing && gen === this.gen) {
        if (!ahead) {
          await this.applyDue(gen);
          if (gen !== this.gen) break;
        }
        if (!this.live.length) break;
        const t0 = this.now();
        const round: Round | null = ahead ?? this.issue(this.plan(0), gen);
        ahead = null;
        if (!round) break;
        this.busy = true;
        const results = await round.done;
        if (gen !== this.gen) break;
        // Ask for the next round before taking this one in, so the workers compute while this thread
        // draws; not across an evaluation or the end, which must see exactly this round's state. Under a
        // pace too (the default 100 steps/s): each pass of this loop still takes at least k/speed
        // seconds, so the pace holds, and where it does not bind (a transformer's ~10 steps/s) the
        // workers no longer wait for the drawing: gpt-tiny to val 1.88 took 240 s at the default pace
        // against 198 s at "max" before (bench:toval, 2 threads, quiet machine).
        if (this.playing && !round.boundary && !this.pendingEdit) ahead = this.issue(this.plan(round.k), gen);
        await this.absorb(round, results, gen);
        if (this.speed > 0) {
          // Hold the requested pace: a round of k steps takes at least k/speed seconds.
          const wait = (round.k * 1000) / this.speed - (this.now() - t0);
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        } else if (!ahead) await new Promise((r) => setTimeout(r, 0));  // let input and paint in
      }
      // Paused with a round still out: its steps happened in the workers, so record them.
      if (ahead && gen === this.gen) await this.absorb(ahead, await ahead.done, gen);
    } finally {
      if (gen === this.gen) { this.looping = null; this.busy = false; }
    }
    if (gen === this.gen && !this.live.length) this.setPlaying(false);
  }

  /** Sends k steps to every live run (fewer where a run's end is nearer). */
  private issue(k: number, gen: number): Round | null {
    const live = this.live;
    if (!live.length || k <= 0) return null;
    let boundary = false;
    const parts = live.map((run) => {
      const start = run.metrics!.steps + (this.inflight.get(run) ?? 0);
      const total = run.config.steps as number, every = run.config.eval as number;
      const edit = this.nextEditAfter(start);
      const n = Math.max(0, Math.min(k, total - start, edit - start));
      const end = start + n;
      if (end >= total || end === edit || (every > 0 && end % every === 0)) boundary = true;
      this.inflight.set(run, (this.inflight.get(run) ?? 0) + n);
      const p: Promise<StepStats[] | Error> = n > 0
        ? run.engine!.step(n).then((x) => x, (e) => (e instanceof Error ? e : new Error(String(e))))
        : Promise.resolve([]);
      return { run, n, p };
    });
    const done = Promise.all(parts.map((x) => x.p));
    return { k, boundary, runs: parts.map((x) => x.run), ns: parts.map((x) => x.n), done };
  }
  private inflight = new Map<Run, number>();

  /** Takes in one round's results, then evaluations and pictures when due. */
  private async absorb(round: Round, results: (StepStats[] | Error)[], gen: number): Promise<void> {
    if (gen !== this.gen) return;
    round.runs.forEach((run, i) => {
      const r = results[i];
      this.inflight.set(run, (this.inflight.get(run) ?? 0) - round.ns[i]);
      if (run.status !== 'ready') return;  // diverged or failed in an earlier round: ignore the rest
      if (r instanceof Error) { this.fail(run, 'crashed', r.message); return; }
      run.metrics!.add(r);
      const d = run.metrics!.diverged;
      if (d) this.fail(run, 'diverged', d.message);
    });
    this.noteRate();
    // the new steps on screen now, not after this round's evaluation and pictures
    this.emit('update');
    await this.evaluateDue(gen);
    if (gen !== this.gen) return;
    let finished = false;
    for (const run of this.live) {
      if (run.metrics!.steps >= (run.config.steps as number)) {
        run.status = 'done';
        run.message = '';
        finished = true;
        this.emit('stopped', run, 'done');
      }
    }
    if (finished) this.balance();
    await this.refreshPictures(false);
    if (gen !== this.gen) return;
    this.emit('update');
  }

  /**
   * Shares the machine's threads among the runs training now (engine/threadSplit.ts: mlp runs 1, gpt and cnn
   * runs the rest, one core kept for this page above 4 cores) and tells each engine whose share changed,
   * never above what it loaded with (info.threads). Called whenever the set of training runs changes: a
   * build (adding or removing a run in compare mode rebuilds them all: App.rebuild), a run that stops
   * (finished, diverged, crashed) or trains on (continued, or given more steps by an edit). Results do not depend on the
   * count, so the change only moves the speed; the worker applies it between the steps already asked for.
   */
  private balance(): void {
    const live = this.live.filter((r) => r.engine);
    const want = threadsPerRun(this.cores, live.map((r) => r.engine!.info.kind), live.map((r) => r.engine!.info.params));
    const gen = this.gen;
    live.forEach((run, i) => {
      const n = Math.min(want[i], run.engine!.info.threads);
      if (n === run.threads) return;
      run.threads = n;
      run.engine!.setThreads(n).then((got) => {
        if (gen !== this.gen || got === run.threads) return;
        run.threads = got;
        this.emit('update');
      }, () => {});  // a crashed engine: its 'crashed' event reports it
    });
  }

  private noteRate(): void {
    const t = this.now();
    this.rateWin.push({ t, steps: this.steps });
    while (this.rateWin.length > 2 && t - this.rateWin[0].t > 1500) this.rateWin.shift();
    const a = this.rateWin[0], b = this.rateWin[this.rateWin.length - 1];
    this.rate = b.t > a.t ? ((b.steps - a.steps) * 1000) / (b.t - a.t) : 0;
  }

  /** Evaluates each live run at multiples of eval.every, and once more when it reaches the end. */
  private async evaluateDue(gen: number): Promise<void> {
    await Promise.all(this.live.map(async (run) => {
      const m = run.metrics!;
      const every = run.config.eval as number;
      const s = m.steps;
      const end = s >= (run.config.steps as number);
      const due = (every > 0 && s > 0 && s % every === 0) || end;
      if (!due || m.evals.some((e) => e.step === s)) return;
      try {
        const e = await run.engine!.evaluate();
        if (gen === this.gen) m.addEval({ ...e, step: e.step ?? s });
      } catch (e) {
        if (gen === this.gen) this.fail(run, 'crashed', e instanceof Error ? e.message : String(e));
      }
    }));
  }

  /** Decision boundaries (mlp), samples and attention maps (gpt), at a bounded rate. */
  async refreshPictures(force: boolean): Promise<void> {
    const gen = this.gen;
    const t = this.now();
    const runs = this.runs.filter((r) => r.engine && (r.status === 'ready' || r.status === 'done' || r.status === 'diverged' || r.status === 'inspect'));
    const jobs: Promise<void>[] = [];
    const gridDue = force || t - this.lastGrid > Math.max(200, 8 * this.gridMs);
    for (const run of runs) {
      const kind = run.engine!.info.kind;
      if (kind === 'mlp' && this.wants.grid && gridDue) {
        const t0 = this.now();
        jobs.push(run.engine!.grid(GRID_RES, -DATA_EXTENT, DATA_EXTENT).then((g) => {
          this.gridMs = this.now() - t0;
          if (gen === this.gen) run.grid = g;
        }, () => {}));
      }
      if (kind === 'gpt' && this.wants.samples && run.metrics && (force || t - this.lastSample >= this.sampleEvery())) {
        const step = run.metrics.steps;
        if (!run.samples.length || run.samples[0].step !== step) {
          const t0 = this.now();
          jobs.push(run.engine!.sample('', 120, 0.8, 0, 1234).then((text) => {
            this.sampleMs = this.now() - t0;
            if (gen !== this.gen) return;
            run.samples.unshift({ step, text });
            run.samples.length = Math.min(run.samples.length, 6);
          }, () => {}));
        }
      }
      if (kind === 'gpt' && this.wants.attention && (force || t - this.lastAttn >= ATTN_MS || this.attnLayerShown !== this.wants.layer)) {
        const info = run.engine!.info;
        const layer = Math.min(this.wants.layer, info.depth - 1);
        // the sample text whose characters the vocabulary has most of; else the vocabulary itself
        const fits = [ATTN_TEXT, ATTN_TEXT_ZH].map((x) => [...x].filter((c) => info.vocab.includes(c))).sort((p, q) => q.length - p.length)[0];
        const text = (fits.length > 8 ? fits : [...info.vocab]).slice(0, Math.min(36, info.context)).join('');
        if (text.length > 1) {
          jobs.push(run.engine!.attention(text, layer).then((a) => {
            if (gen === this.gen) run.attention = { layer, text, ...a };
          }, () => {}));
        }
      }
    }
    if (!jobs.length) return;
    const kinds = new Set(runs.map((r) => r.engine!.info.kind));
    if (kinds.has('mlp') && this.wants.grid && gridDue) this.lastGrid = t;
    if (kinds.has('gpt')) {
      if (this.wants.samples && (force || t - this.lastSample >= this.sampleEvery())) this.lastSample = t;
      if (this.wants.attention && (force || t - this.lastAttn >= ATTN_MS || this.attnLayerShown !== this.wants.layer)) {
        this.lastAttn = t;
        this.attnLayerShown = this.wants.layer;
      }
    }
    await Promise.all(jobs);
  }
}

/** The learning rate a finished run continues at: its last step's (where the schedule ended). */
export function continueLr(m: RunMetrics, config: FlatConfig): number {
  const last = m.lr.length ? m.lr.last() : NaN;
  if (last > 0 && Number.isFinite(last)) return last;
  const floor = Number(config.min_lr);
  return config.schedule === 'cosine' && floor > 0 ? floor : Number(config.lr);
}
