// A deterministic stand-in for EngineClient (no wasm, no worker) for testing the session logic:
// loss falls as 1/(1 + lr*step), a config can be told to diverge at a given step.
import type { EngineEvents, EvalStats, ModelInfo, ResnormConfig, StepStats } from '../../../web/src/engine/types';
import type { EngineLike } from '../../../web/src/session';

/** threads: what the engine "loaded with" (info.threads, the most setThreads takes; default 1). */
export interface FakeOptions { divergeAt?: number; failCreate?: string; delayMs?: number; threads?: number; params?: number }

export class FakeEngine implements EngineLike {
  info: ModelInfo;
  stepsDone = 0;
  calls: string[] = [];
  terminated = false;
  /** The thread count in effect (setThreads lowers anything above info.threads to it, as the worker does). */
  threads: number;
  private cbs: Record<string, unknown[]> = {};

  constructor(public config: ResnormConfig, private opts: FakeOptions = {}) {
    const depth = config.model?.depth ?? 8;
    this.info = { kind: config.model?.kind ?? 'mlp', params: opts.params ?? 1000, depth, heads: config.model?.heads ?? 4, context: 64, threads: opts.threads ?? 1, vocab: '', config };
    this.threads = this.info.threads;
  }
  on<K extends keyof EngineEvents>(ev: K, cb: EngineEvents[K]): () => void {
    (this.cbs[ev] ??= []).push(cb);
    return () => { this.cbs[ev] = this.cbs[ev].filter((x) => x !== cb); };
  }
  async step(n: number): Promise<StepStats[]> {
    this.calls.push(`step(${n})`);
    if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
    const out: StepStats[] = [];
    const lr = this.config.optim?.lr ?? 1e-3;
    const d = this.info.depth;
    for (let i = 0; i < n; i++) {
      const step = ++this.stepsDone;
      const diverged = this.opts.divergeAt !== undefined && step >= this.opts.divergeAt;
      out.push({
        step, loss: diverged ? NaN : 1 / (1 + lr * step), lr, gradNorm: 1, ms: 0.5, diverged,
        divergence: diverged ? 'loss is NaN after block 3' : '',
        blockGradNorm: Float32Array.from({ length: d }, (_, b) => 10 ** -b),
        blockActRms: new Float32Array(d).fill(1), updateRatio: new Float32Array(d).fill(1e-3), attnEntropy: new Float32Array(0),
      });
      if (diverged) break;
    }
    return out;
  }
  async evaluate(): Promise<EvalStats> {
    this.calls.push('evaluate');
    return { step: this.stepsDone, trainLoss: 0.5, valLoss: 0.6, trainAccuracy: 0.9, accuracy: 0.85 };
  }
  async grid(res: number): Promise<Float32Array> { this.calls.push('grid'); return new Float32Array(res * res).fill(0.5); }
  async probs(images: Float32Array): Promise<Float32Array> { this.calls.push('probs'); return new Float32Array((images.length / (this.info.digits ? this.info.digits.side ** 2 : 1)) * 10).fill(0.1); }
  async features(_image: Float32Array, _block: number): Promise<{ channels: number; h: number; data: Float32Array }> { this.calls.push('features'); return { channels: 1, h: 1, data: new Float32Array(1) }; }
  async sample(): Promise<string> { return 'hello'; }
  async attention(text: string): Promise<{ heads: number; T: number; data: Float32Array }> {
    const T = text.length;
    return { heads: 1, T, data: new Float32Array(T * T) };
  }
  async save(): Promise<Uint8Array> { return new Uint8Array(8); }
  async load(): Promise<void> {}
  async setOptim(optim: NonNullable<ResnormConfig['optim']>): Promise<void> {
    this.calls.push(`setOptim(${JSON.stringify(optim)})`);
    this.config = { ...this.config, optim: { ...this.config.optim, ...optim } };
  }
  async setThreads(n: number): Promise<number> {
    this.calls.push(`setThreads(${n})`);
    this.threads = Math.max(1, Math.min(n, this.info.threads));
    return this.threads;
  }
  terminate(): void { this.terminated = true; }
}

export function fakeFactory(opts: (c: ResnormConfig) => FakeOptions = () => ({})) {
  const made: FakeEngine[] = [];
  const factory = async (c: ResnormConfig) => {
    const o = opts(c);
    if (o.failCreate) throw new Error(o.failCreate);
    const e = new FakeEngine(c, o);
    made.push(e);
    return e;
  };
  return { factory, made };
}
