// A stand-in EngineClient for looking at the page before (or without) the wasm engine: it makes up
// plausible curves on the main thread. Only used by tests/web/mock/vite.config.ts, never shipped.
import type { EngineEvents, EvalStats, ModelInfo, ResnormConfig, StepStats } from '../../../web/src/engine/types';

function spiral(n: number, seed: number) {
  const x = new Float32Array(n * 2), y = new Int32Array(n);
  let s = seed;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  for (let i = 0; i < n; i++) {
    const c = i % 2, r = (i / n) * 1.2 + 0.05, t = 1.75 * (i / n) * 2 * Math.PI + c * Math.PI;
    x[2 * i] = r * Math.sin(t) + (rnd() - 0.5) * 0.1;
    x[2 * i + 1] = r * Math.cos(t) + (rnd() - 0.5) * 0.1;
    y[i] = c;
  }
  return { x, y };
}

export class EngineClient {
  info: ModelInfo;
  private n = 0;
  private cfg: ResnormConfig;
  static async create(config: ResnormConfig): Promise<EngineClient> {
    if ((config.model?.width ?? 64) % (config.model?.heads ?? 4) !== 0 && config.model?.kind === 'gpt') throw new Error('config: model.width must be divisible by model.heads');
    await new Promise((r) => setTimeout(r, 50));
    return new EngineClient(config);
  }
  private constructor(config: ResnormConfig) {
    this.cfg = config;
    const m = config.model ?? {};
    const tr = spiral(800, 1), te = spiral(200, 2);
    this.info = { kind: m.kind ?? 'mlp', params: 4706, depth: m.depth ?? 8, heads: m.heads ?? 4, context: m.context ?? 64, threads: 1,
      vocab: " \n!',-.:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", config,
      points: m.kind === 'gpt' ? undefined : { xTrain: tr.x, yTrain: tr.y, xTest: te.x, yTest: te.y } };
  }
  on<K extends keyof EngineEvents>(_ev: K, _cb: EngineEvents[K]): () => void { return () => {}; }
  async step(k: number): Promise<StepStats[]> {
    const d = this.info.depth, plain = this.cfg.model?.residual === 'none', post = this.cfg.model?.placement === 'post';
    const out: StepStats[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < k * 0.05) { /* pretend to work */ }
    for (let i = 0; i < k; i++) {
      const s = ++this.n;
      const base = plain ? 0.69 : 0.05 + 0.64 * Math.exp(-s / 150);
      const loss = base * (1 + 0.15 * Math.sin(s * 1.7) * Math.sin(s * 0.31)) * (this.info.kind === 'gpt' ? 6 : 1);
      if (post && this.info.kind === 'gpt' && s === 180) {
        out.push({ step: s, loss: NaN, lr: 0.01, gradNorm: NaN, ms: 1, diverged: true, divergence: 'non-finite loss (NaN) after block 7 (attention)',
          blockGradNorm: new Float32Array(d).fill(NaN), blockActRms: new Float32Array(d).fill(1), updateRatio: new Float32Array(d), attnEntropy: new Float32Array(0) });
        break;
      }
      out.push({ step: s, loss, lr: 0.01, gradNorm: 1, ms: 0.05 * (1 + 0.1 * Math.random()), diverged: false, divergence: '',
        blockGradNorm: Float32Array.from({ length: d }, (_, b) => (plain ? Math.pow(0.6, d - b) : 0.05 * (1 + 0.3 * Math.sin(b + s / 50))) * (1 + 2 * Math.exp(-s / 100))),
        blockActRms: Float32Array.from({ length: d }, (_, b) => (this.cfg.model?.norm === 'none' && !plain ? 1 + b * 0.3 : 1)),
        updateRatio: Float32Array.from({ length: d }, (_, b) => 1e-3 * (1 + b / d)),
        attnEntropy: new Float32Array(this.info.kind === 'gpt' ? d * this.info.heads : 0).fill(1.2) });
    }
    return out;
  }
  async setThreads(): Promise<number> { return 1; }
  async evaluate(): Promise<EvalStats> {
    const plain = this.cfg.model?.residual === 'none';
    const v = plain ? 0.7 : 0.07 + 0.64 * Math.exp(-this.n / 150);
    return { step: this.n, trainLoss: v * 0.95, valLoss: v * (this.info.kind === 'gpt' ? 6 : 1), trainAccuracy: plain ? 0.5 : 0.97, accuracy: this.info.kind === 'gpt' ? -1 : plain ? 0.48 : 0.96 };
  }
  async grid(res: number): Promise<Float32Array> {
    const g = new Float32Array(res * res), k = Math.min(1, this.n / 300);
    for (let r = 0; r < res; r++) for (let c = 0; c < res; c++) {
      const x = (c / (res - 1)) * 3 - 1.5, y = 1.5 - (r / (res - 1)) * 3;
      const a = Math.atan2(x, y), rad = Math.hypot(x, y);
      g[r * res + c] = 0.5 + 0.5 * k * Math.sin(a - rad * 1.75 * 2 * Math.PI / 1.2 * 0.8);
    }
    return g;
  }
  async probs(images: Float32Array): Promise<Float32Array> { return new Float32Array(Math.floor(images.length / 196) * 10).fill(0.1); }
  async features(): Promise<{ channels: number; h: number; data: Float32Array }> { return { channels: 4, h: 7, data: Float32Array.from({ length: 196 }, (_, i) => Math.sin(i)) }; }
  async sample(): Promise<string> { return 'ROMEO:\nWhat say you, my lord? I will not be the man\nThat shall be so, and yet the world is sweet.'.slice(0, 40 + (this.n % 60)); }
  async attention(text: string): Promise<{ heads: number; T: number; data: Float32Array }> {
    const T = text.length, H = this.info.heads, data = new Float32Array(H * T * T);
    for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
      let s = 0;
      for (let j = 0; j <= i; j++) { const v = Math.exp(-Math.abs(i - j - h) * 0.8); data[(h * T + i) * T + j] = v; s += v; }
      for (let j = 0; j <= i; j++) data[(h * T + i) * T + j] /= s;
    }
    return { heads: H, T, data };
  }
  async save(): Promise<Uint8Array> { return new Uint8Array(16); }
  async load(): Promise<void> { throw new Error('checkpoint: the mock engine cannot load'); }
  async restart(): Promise<void> {}
  async setOptim(): Promise<void> {}
  run(): void {}
  pause(): void {}
  terminate(): void {}
}
