// The worker side of the engine protocol as a plain class: owns one wasm Trainer, answers requests, and runs
// the training loop in slices so pause/setOptim get through. worker.ts wires it to `self`; tests call it directly.
import type { OptimConfig, Request, WorkerMessage } from './protocol';
import { SLICE_MS } from './protocol';
import { Trainer } from './trainer';
import type { EvalStats, ResnormConfig, StepStats } from './types';
import type { ResnormModule } from './wasm';

export interface HostEnv {
  post(msg: WorkerMessage, transfer?: Transferable[]): void;
  /** Loads the wasm module (and, for gpt without `text`, the corpus) for a create request. */
  load(req: Extract<Request, { type: 'create' | 'estimate' }>): Promise<{ module: ResnormModule; text?: string | Uint8Array }>;
  now?(): number;
}

/** A wasm trap (RuntimeError: unreachable, out-of-bounds, abort) or an allocation failure leaves the
 *  module in an unknown state: the engine reports a crash instead of an ordinary error. */
export function isCrash(e: unknown): boolean {
  if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) return true;
  if (e instanceof Error) return /^out of memory/i.test(e.message) || e.name === 'RuntimeError';
  return true;  // a raw value thrown through wasm (e.g. an uncaught C++ exception pointer)
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : `uncaught wasm exception (${String(e)})`;
}

function statsBuffers(stats: StepStats[]): Transferable[] {
  // The arrays of one step(n) call share one buffer (steps.mjs); a buffer listed twice would make postMessage throw.
  const out = new Set<ArrayBuffer>();
  for (const s of stats)
    for (const a of [s.blockGradNorm, s.blockActRms, s.updateRatio, s.attnEntropy]) out.add(a.buffer as ArrayBuffer);
  return [...out];
}

// Yield to the event loop without setTimeout's 4 ms clamp, so queued requests are handled between slices.
function defer(fn: () => void): void {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (typeof g.setImmediate === 'function') { g.setImmediate(fn); return; }
  const ch = new MessageChannel();
  ch.port1.onmessage = () => { ch.port1.close(); fn(); };
  ch.port2.postMessage(null);
}

export class EngineHost {
  private trainer?: Trainer;
  private running = false;
  private scheduled = false;
  private evalEvery = 0;
  private crashed: string | null = null;
  /** The threads the module loaded with (its pool + 1): the most a 'threads' request may set. */
  private maxThreads = 1;
  private readonly now: () => number;

  constructor(private readonly env: HostEnv) {
    this.now = env.now ?? (() => performance.now());
  }

  get isRunning(): boolean { return this.running; }

  async handle(req: Request): Promise<void> {
    if (this.crashed !== null) { this.reply(req.id, false, `engine crashed (${this.crashed}); call restart()`); return; }
    try {
      if (req.type === 'estimate') {
        const { module, text } = await this.env.load(req);
        const t = req.config.model?.kind === 'gpt' ? req.text ?? text ?? '' : '';  // only a gpt's size depends on its data (the vocabulary)
        this.reply(req.id, true, req.inspect !== undefined
          ? module.estimateInspectBytes(JSON.stringify(req.config), [...req.inspect].length)
          : module.estimateBytes(JSON.stringify(req.config), typeof t === 'string' ? t : ''));
        return;
      }
      if (req.type === 'create') {
        const { module, text } = await this.env.load(req);
        // one module per worker, loaded with its whole count (wasm.ts loadEngine); read it before any 'threads'
        if (!this.trainer) this.maxThreads = module.threads();
        this.trainer?.dispose();
        this.trainer = req.inspect !== undefined
          ? Trainer.inspector(module, req.config, req.inspect)
          : Trainer.create(module, req.config, { text: req.text ?? text });
        this.evalEvery = this.trainer.config.eval?.every ?? 0;
        this.reply(req.id, true, this.trainer.info());
        return;
      }
      const tr = this.trainer;
      if (!tr) throw new Error('engine: no model yet (send create first)');
      switch (req.type) {
        case 'run':
          if (req.evalEvery !== undefined) this.evalEvery = Math.max(0, Math.floor(req.evalEvery));
          this.running = true;
          this.schedule();
          return this.reply(req.id, true, null);
        case 'pause': {
          const was = this.running;
          this.running = false;
          this.reply(req.id, true, null);
          if (was) this.env.post({ type: 'stopped', reason: 'paused', message: '' });
          return;
        }
        case 'step': {
          const stats = tr.step(Math.max(0, Math.floor(req.n)));
          return this.reply(req.id, true, stats, statsBuffers(stats));
        }
        case 'setOptim':
          tr.setOptim(req.optim as OptimConfig);
          return this.reply(req.id, true, tr.config as ResnormConfig);
        case 'evaluate':
          return this.reply(req.id, true, tr.evaluate());
        case 'grid': {
          const g = tr.grid(req.res, req.lo, req.hi);
          return this.reply(req.id, true, g, [g.buffer as ArrayBuffer]);
        }
        case 'sample':
          return this.reply(req.id, true, tr.sample(req.prompt, req.tokens, req.temperature, req.topK, req.seed));
        case 'attention': {
          const a = tr.attention(req.text, req.layer);
          return this.reply(req.id, true, a, [a.data.buffer as ArrayBuffer]);
        }
        case 'probs': {
          const p = tr.probs(req.images);
          return this.reply(req.id, true, p, [p.buffer as ArrayBuffer]);
        }
        case 'features': {
          const f = tr.features(req.image, req.block);
          return this.reply(req.id, true, f, [f.data.buffer as ArrayBuffer]);
        }
        case 'save': {
          const b = tr.save();
          return this.reply(req.id, true, b, [b.buffer as ArrayBuffer]);
        }
        case 'load':
          tr.load(req.bytes);
          return this.reply(req.id, true, null);
        case 'threads': {
          const n = req.n;
          if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new Error(`threads: ${String(n)} is not a whole number of threads >= 1`);
          // Never above the pool the module started: the pthreads build pre-spawns its workers at load, and a
          // thread past them could only start once this worker returned to its event loop (a deadlock).
          const want = Math.min(n, this.maxThreads);
          if (want !== tr.module.threads()) tr.module.setThreads(want);
          return this.reply(req.id, true, tr.module.threads());
        }
        case 'debugTrap':
          tr.module.debugTrap();
          return this.reply(req.id, true, null);
      }
    } catch (e) {
      if (isCrash(e) && req.type !== 'create' && req.type !== 'estimate') this.crash(e);
      this.reply(req.id, false, errorMessage(e));
    }
  }

  private reply(id: number, ok: boolean, payload: unknown, transfer: Transferable[] = []): void {
    this.env.post(ok ? { type: 'reply', id, ok: true, result: payload } : { type: 'reply', id, ok: false, error: String(payload) },
      transfer);
  }

  private crash(e: unknown): void {
    this.running = false;
    this.crashed = errorMessage(e);
    this.env.post({ type: 'crashed', message: this.crashed });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    defer(() => this.slice());
  }

  // Trains for at least SLICE_MS (one step at minimum), then posts everything as one message.
  private slice(): void {
    this.scheduled = false;
    const tr = this.trainer;
    if (!this.running || !tr || this.crashed !== null) return;
    const limit = tr.config.optim?.steps ?? 0;
    const stats: StepStats[] = [];
    const evals: EvalStats[] = [];
    let stop: { reason: 'diverged' | 'done'; message: string } | null = null;
    const t0 = this.now();
    try {
      do {
        if (tr.stepsDone >= limit) { stop = { reason: 'done', message: `reached optim.steps = ${limit}` }; break; }
        const s = tr.step(1)[0];
        stats.push(s);
        if (s.diverged) { stop = { reason: 'diverged', message: s.divergence }; break; }
        if ((this.evalEvery > 0 && s.step % this.evalEvery === 0) || s.step === limit) evals.push(tr.evaluate());
        if (s.step >= limit) stop = { reason: 'done', message: `reached optim.steps = ${limit}` };
      } while (!stop && this.now() - t0 < SLICE_MS);
    } catch (e) {
      if (stats.length || evals.length) this.env.post({ type: 'tick', stats, evals }, statsBuffers(stats));
      if (isCrash(e)) this.crash(e);
      else {
        this.running = false;
        this.env.post({ type: 'stopped', reason: 'paused', message: errorMessage(e) });
      }
      return;
    }
    if (stats.length || evals.length) this.env.post({ type: 'tick', stats, evals }, statsBuffers(stats));
    if (stop) {
      this.running = false;
      this.env.post({ type: 'stopped', ...stop });
    } else {
      this.schedule();
    }
  }

  dispose(): void {
    this.running = false;
    this.trainer?.dispose();
    this.trainer = undefined;
  }
}
