// The page's handle on one engine: a dedicated module Worker running the wasm Trainer (./worker.ts), driven
// through promises and events. Each EngineClient owns its own worker, so several can train side by side.
import type { Request, ResultOf, WorkerMessage } from './protocol';
import type { EngineEvents, EvalStats, FeatureMaps, ModelInfo, ResnormConfig, StepStats } from './types';
import { documentBudget, type MemoryBudget, type Reservation } from './budget';
import { startModuleWorker } from './startWorker';
import engineWorkerUrl from './worker.ts?worker&url';

/** The part of a Worker the client uses (tests substitute an in-process one). */
export interface WorkerLike {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
}

export interface EngineOptions {
  /** gpt: the training text. Default: fetched by the worker from dataUrl. */
  text?: string;
  /** gpt corpus URL, relative to the page. Default 'data/tinyshakespeare.txt'. */
  dataUrl?: string;
  /** cnn: URL of the digits asset, relative to the page. Default 'data/digits.bin'. */
  digitsUrl?: string;
  /** URL of resnorm.wasm, relative to the page; its glue resnorm.mjs sits next to it. Default 'wasm/resnorm.wasm'. */
  wasmUrl?: string;
  /** Threads for the core (default navigator.hardwareConcurrency, capped at 8). More than 1 loads the
   *  pthreads build resnorm-mt next to wasmUrl, and only on a cross-origin isolated page; elsewhere 1.
   *  The most setThreads can set later: the pthreads build's pool is fixed at load. */
  threads?: number;
  /** Starts the worker (default: a module Worker on ./worker.ts). For tests and custom bundling. */
  worker?: () => WorkerLike;
  /** The memory budget the engine's Trainer is reserved in (default: the document's, web/src/engine/budget.ts). */
  budget?: MemoryBudget;
  /** gpt: open for inspection only, with this vocabulary (a checkpoint's): samples and attention, no training
   *  and no text; it needs the memory of one sequence, not of a training batch. */
  inspect?: string;
}

type Listeners = { [K in keyof EngineEvents]: Set<EngineEvents[K]> };
type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

function absolute(url: string): string {
  const g = globalThis as { document?: { baseURI: string }; location?: { href: string } };
  const base = g.document?.baseURI ?? g.location?.href;
  return base ? new URL(url, base).href : url;
}

function defaultWorker(): WorkerLike {
  // the built worker's URL, relative to this script (not the page); startWorker.ts starts it from any origin
  return startModuleWorker(engineWorkerUrl, 'resnorm-engine') as WorkerLike;
}

export class EngineClient {
  private worker: WorkerLike | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: string | null = null;
  private modelInfo!: ModelInfo;
  private reservation: Reservation | null = null;
  private current: number | undefined;
  private readonly listeners: Listeners = { stats: new Set(), eval: new Set(), stopped: new Set(), crashed: new Set() };

  private constructor(
    private readonly config: ResnormConfig,
    private readonly opts: EngineOptions,
  ) {}

  /** Starts a worker and builds the model. Rejects with Error(C++ message) on a bad config, and with
   *  BudgetError (./budget.ts) when the model does not fit what is left of the page's memory budget. */
  static async create(config: ResnormConfig, opts: EngineOptions = {}): Promise<EngineClient> {
    const resolved: EngineOptions = {
      ...opts,
      dataUrl: absolute(opts.dataUrl ?? 'data/tinyshakespeare.txt'),
      digitsUrl: absolute(opts.digitsUrl ?? 'data/digits.bin'),
      wasmUrl: absolute(opts.wasmUrl ?? 'wasm/resnorm.wasm'),
    };
    const client = new EngineClient(config, resolved);
    await client.start();
    return client;
  }

  get info(): ModelInfo { return this.modelInfo; }

  on<K extends keyof EngineEvents>(ev: K, cb: EngineEvents[K]): () => void {
    const set = this.listeners[ev] as Set<EngineEvents[K]>;
    set.add(cb);
    return () => { set.delete(cb); };
  }

  /** Trains continuously in the worker; stats arrive batched on 'stats'. Stops at optim.steps or on divergence. */
  run(opts: { evalEvery?: number } = {}): void { this.fire({ type: 'run', evalEvery: opts.evalEvery }); }
  pause(): void { this.fire({ type: 'pause' }); }
  /** Exactly n steps; their stats are returned (not emitted on 'stats'). */
  step(n: number): Promise<StepStats[]> { return this.request({ type: 'step', n }); }
  async setOptim(optim: NonNullable<ResnormConfig['optim']>): Promise<void> {
    const config = await this.request({ type: 'setOptim', optim });
    this.modelInfo = { ...this.modelInfo, config };
  }
  evaluate(): Promise<EvalStats> { return this.request({ type: 'evaluate' }); }
  /** mlp: P(class 1) on a res x res grid over [lo,hi]^2, row 0 at the top. */
  grid(res: number, lo: number, hi: number): Promise<Float32Array> { return this.request({ type: 'grid', res, lo, hi }); }
  sample(prompt: string, tokens: number, temperature: number, topK: number, seed: number): Promise<string> {
    return this.request({ type: 'sample', prompt, tokens, temperature, topK, seed });
  }
  attention(text: string, layer: number): Promise<{ heads: number; T: number; data: Float32Array }> {
    return this.request({ type: 'attention', text, layer });
  }
  /** cnn: class probabilities [n, 10] of n images [n, side*side] (normalised as info.digits), eval mode. */
  probs(images: Float32Array): Promise<Float32Array> {
    const copy = images.slice();
    return this.request({ type: 'probs', images: copy }, [copy.buffer]);
  }
  /** cnn: the feature maps after block (0 .. 3*depth-1) for one image [side*side], [channels, h, h]. */
  features(image: Float32Array, block: number): Promise<FeatureMaps> {
    const copy = image.slice();
    return this.request({ type: 'features', image: copy, block }, [copy.buffer]);
  }
  /** The core's thread count from now on: 1 up to info.threads (what the engine loaded with; more is
   *  lowered to that). Resolves to the count in effect. Losses are the same bits for any count. */
  async setThreads(n: number): Promise<number> {
    this.current = await this.request({ type: 'threads', n });
    return this.current;
  }
  /** The threads the core runs on now (info.threads until setThreads changes it). */
  get threads(): number { return this.current ?? this.modelInfo.threads; }
  /** safetensors bytes. */
  save(): Promise<Uint8Array> { return this.request({ type: 'save' }); }
  /** Rejects with a clear message on a bad or foreign file; the engine state is then unchanged. */
  load(bytes: Uint8Array): Promise<void> {
    const copy = bytes.slice();
    return this.request({ type: 'load', bytes: copy }, [copy.buffer]).then(() => undefined);
  }
  /** A fresh worker with the same config (after a crash, or to start over). Listeners are kept. */
  async restart(): Promise<void> {
    this.shutdown('engine restarted');
    await this.start();
  }
  terminate(): void { this.shutdown('engine terminated'); this.dead = 'terminated'; }

  /** Test hook: makes the wasm execute a trap. */
  debugTrap(): Promise<void> { return this.request({ type: 'debugTrap' }).then(() => undefined); }

  // --- plumbing -----------------------------------------------------------------------------------------

  private async start(): Promise<void> {
    this.dead = null;
    this.current = undefined;  // a fresh worker starts with its whole count again
    const w = (this.opts.worker ?? defaultWorker)();
    this.worker = w;
    w.onmessage = (e: MessageEvent<WorkerMessage>) => { if (this.worker === w) this.receive(e.data); };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      if (this.worker === w) this.crash(e.message || 'the engine worker failed');
    };
    const fields = { config: this.config, text: this.opts.text, dataUrl: this.opts.dataUrl, digitsUrl: this.opts.digitsUrl, wasmUrl: this.opts.wasmUrl,
      threads: this.opts.threads, inspect: this.opts.inspect };
    try {
      // Reserve the Trainer's exact size in the page's budget before the worker allocates anything.
      const bytes = await this.request({ type: 'estimate', ...fields });
      this.reservation = (this.opts.budget ?? documentBudget()).reserve(bytes);
      this.modelInfo = await this.request({ type: 'create', ...fields });
    } catch (e) {
      this.shutdown('engine failed to start');
      throw e;
    }
  }

  private shutdown(why: string): void {
    this.worker?.terminate();
    this.worker = null;
    this.reservation?.release();
    this.reservation = null;
    for (const p of this.pending.values()) p.reject(new Error(why));
    this.pending.clear();
  }

  private request<M extends RequestBody>(msg: M, transfer: Transferable[] = []): Promise<ResultOf[M['type']]> {
    if (this.dead !== null || !this.worker)
      return Promise.reject(new Error(this.dead === 'terminated' ? 'engine terminated' : `engine crashed (${this.dead}); call restart()`));
    const id = this.nextId++;
    const w = this.worker;
    return new Promise<ResultOf[M['type']]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ ...msg, id }, transfer);
    });
  }

  private fire(msg: RequestBody): void {
    this.request(msg).catch(() => undefined);
  }

  private receive(m: WorkerMessage): void {
    switch (m.type) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error));
        return;
      }
      case 'tick':
        if (m.stats.length) this.emit('stats', m.stats);
        for (const e of m.evals) this.emit('eval', e);
        return;
      case 'stopped':
        this.emit('stopped', m.reason, m.message);
        return;
      case 'crashed':
        this.crash(m.message);
        return;
    }
  }

  private crash(message: string): void {
    if (this.dead !== null) return;
    this.dead = message;
    for (const p of this.pending.values()) p.reject(new Error(`engine crashed: ${message}`));
    this.pending.clear();
    this.emit('crashed', message);
  }

  private emit<K extends keyof EngineEvents>(ev: K, ...args: Parameters<EngineEvents[K]>): void {
    for (const cb of this.listeners[ev]) {
      try {
        (cb as (...a: Parameters<EngineEvents[K]>) => void)(...args);
      } catch (err) {
        console.error(`resnorm engine: a '${ev}' listener threw`, err);
      }
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type RequestBody = DistributiveOmit<Request, 'id'>;
