// Typed wrapper over the wasm Trainer: configs as objects instead of JSON strings, the contract types of
// ./types.ts, and explicit disposal. Used by the worker host and, directly, by Node tests and benchmarks.
import type { EvalStats, FeatureMaps, ModelInfo, ResnormConfig, StepStats } from './types';
import type { ResnormModule, WasmTrainer } from './wasm';
import { unpackSteps } from './steps.mjs';

export type OptimConfig = NonNullable<ResnormConfig['optim']>;

export class Trainer {
  private cfg: ResnormConfig;

  private constructor(
    readonly module: ResnormModule,
    private readonly raw: WasmTrainer,
  ) {
    this.cfg = JSON.parse(raw.configJson()) as ResnormConfig;
  }

  /**
   * Validates the config exactly as the native CLI does and builds the model. Throws an Error carrying the
   * C++ message on a bad config. gpt needs `text` (the corpus) or `vocab` (inference only, from a checkpoint).
   */
  static create(module: ResnormModule, config: ResnormConfig, opts: { text?: string | Uint8Array; vocab?: string } = {}): Trainer {
    return new Trainer(module, new module.Trainer(JSON.stringify(config), opts.text ?? '', opts.vocab ?? ''));
  }

  /** gpt for inspection only (a checkpoint whose training run is over the memory cap): samples and attention. */
  static inspector(module: ResnormModule, config: ResnormConfig, vocab: string): Trainer {
    const t = new Trainer(module, module.Trainer.inspector(JSON.stringify(config), vocab));
    t.inspectOnly = true;
    return t;
  }

  private inspectOnly = false;

  /** The full validated config, defaults filled in. */
  get config(): ResnormConfig { return this.cfg; }
  get stepsDone(): number { return this.raw.stepsDone(); }
  /** Bytes held by parameters, gradients, activations and optimiser state. */
  get bytes(): number { return this.raw.bytes(); }

  info(): ModelInfo {
    const m = this.cfg.model ?? {};
    const kind = m.kind ?? 'mlp';
    const info: ModelInfo = {
      // cnn: three stages of model.depth blocks each (ModelPlan::num_blocks), one diagnostics row per block
      kind, params: this.raw.numParams(), depth: kind === 'cnn' ? 3 * (m.depth ?? 0) : m.depth ?? 0, heads: m.heads ?? 0, context: m.context ?? 0,
      threads: this.module.threads(), vocab: this.raw.vocab(), config: this.cfg,
    };
    if (this.inspectOnly) info.inspectOnly = true;
    if (kind === 'mlp') info.points = this.raw.dataset();
    if (kind === 'cnn') {
      const d = this.raw.heldOut();
      info.digits = { x: d.x, y: d.y, side: Math.round(Math.sqrt(d.dim)) };
    }
    return info;
  }

  /** n steps; one StepStats per step (typed arrays are copies and stay valid). */
  step(n = 1): StepStats[] { return unpackSteps(this.raw.step(n), (i) => this.module.stepMessage(i)); }

  evaluate(): EvalStats { return { step: this.raw.stepsDone(), ...this.raw.evaluate() }; }

  /** Changes optimiser settings mid-run; keys not given keep their current values. */
  setOptim(optim: OptimConfig): void {
    const next: ResnormConfig = { ...this.cfg, optim: { ...this.cfg.optim, ...optim } };
    this.raw.setOptim(JSON.stringify(next));
    this.cfg = next;
  }

  /** mlp: P(class 1) on a res x res grid over [lo,hi]^2, row 0 at the top. */
  grid(res: number, lo: number, hi: number): Float32Array { return this.raw.grid(res, lo, hi); }
  /** cnn: class probabilities [n, 10] of n images [n, side*side] (normalised as info().digits), eval mode. */
  probs(images: Float32Array): Float32Array { return this.raw.imageProbs(images); }
  /** cnn: the feature maps after block (0 .. 3*depth-1) for one image, [channels, h, h]. */
  features(image: Float32Array, block: number): FeatureMaps { return this.raw.featureMaps(image, block); }
  /** gpt: [T, vocab] logits for the text (1..context characters of the vocabulary). */
  logits(text: string): Float32Array { return this.raw.logits(text); }
  /** gpt: attention probabilities of one layer, [heads, T, T]. */
  attention(text: string, layer: number): { heads: number; T: number; data: Float32Array } {
    const data = this.raw.attention(text, layer);
    const heads = this.cfg.model?.heads ?? 1;
    return { heads, T: Math.round(Math.sqrt(data.length / heads)), data };
  }
  sample(prompt: string, tokens: number, temperature: number, topK: number, seed: number): string {
    return this.raw.sample(prompt, tokens, temperature, topK, seed >>> 0);
  }
  /** safetensors bytes (parameters, config, step, vocabulary). */
  save(): Uint8Array { return this.raw.save(); }
  /** Refuses a bad or foreign checkpoint with a clear message, leaving the state unchanged. */
  load(bytes: Uint8Array): void { this.raw.load(bytes); }

  dispose(): void { if (!this.raw.isDeleted()) this.raw.delete(); }
}
