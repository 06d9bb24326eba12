// The one-click experiments: each is a comparison built from the shared presets (cpp/presets),
// the panel that tells its story, and text keys for its plain-language explanation (i18n/*.ts).
import type { FlatConfig } from './config/fields';
import { presetConfig } from './config/presets';
import { fromConfigs } from './compare';
import type { AppState, PanelId } from './state';

export interface Experiment {
  id: string;
  /** Each run: a preset, optionally with fields changed. Run A first. */
  runs: { preset: string; set?: Partial<FlatConfig> }[];
  /** The figure to look at first (highlighted on the page). */
  focus: PanelId[];
  /** The paper it follows (shown as a citation). */
  cite: string;
  /** The run the digits panel shows first (default A): one that learns. */
  digitsRun?: number;
}

/** Steps of the cnn experiments' deep runs (the presets train 500). */
export const CNN_STEPS = 300;

export const EXPERIMENTS: readonly Experiment[] = [
  {
    id: 'plain-vs-residual',
    runs: [{ preset: 'mlp-plain-deep' }, { preset: 'mlp-residual-deep' }],
    focus: ['heatmap', 'loss'],
    cite: 'He, Zhang, Ren, Sun 2016, Deep Residual Learning for Image Recognition (CVPR)',
  },
  {
    id: 'postln-vs-preln',
    runs: [{ preset: 'gpt-postln-nowarmup' }, { preset: 'gpt-preln-nowarmup' }],
    focus: ['loss', 'heatmap'],
    cite: 'Xiong et al. 2020, On Layer Normalization in the Transformer Architecture (ICML)',
  },
  {
    id: 'rezero',
    runs: [
      { preset: 'mlp-rezero-deep' },
      { preset: 'mlp-rezero-deep', set: { residual: 'identity' } },
      { preset: 'mlp-plain-deep' },
    ],
    focus: ['rms', 'loss'],
    cite: 'Bachlechner et al. 2020, ReZero is All You Need: Fast Convergence at Large Depth (UAI 2021)',
  },
  {
    id: 'deepnorm',
    runs: [{ preset: 'mlp-deepnorm-deep' }, { preset: 'mlp-postln-deep' }],
    focus: ['heatmap', 'loss'],
    cite: 'Wang et al. 2022, DeepNet: Scaling Transformers to 1,000 Layers',
  },
  {
    id: 'rmsnorm',
    runs: [{ preset: 'mlp-residual-deep' }, { preset: 'mlp-residual-deep', set: { norm: 'rmsnorm' } }],
    focus: ['loss'],
    cite: 'Zhang & Sennrich 2019, Root Mean Square Layer Normalization (NeurIPS)',
  },
  // The cnn (issue 11). Step counts are cut from the presets' 500 so that a comparison trains in the
  // browser in minutes: in wasm on this project's 2-core EPYC under a load average of 14, a 32-layer
  // step measured 2.7 s, a 20-layer one 1.5 s, cnn-digits 0.55 s (unloaded: several times less).
  {
    id: 'cnn-depth',
    runs: [
      { preset: 'cnn-plain-8', set: { steps: CNN_STEPS } },
      { preset: 'cnn-plain-32', set: { steps: CNN_STEPS } },
      { preset: 'cnn-residual-32', set: { steps: CNN_STEPS } },
    ],
    focus: ['loss', 'heatmap'],
    cite: 'He, Zhang, Ren, Sun 2016, Deep Residual Learning for Image Recognition (CVPR), section 4.2 (CIFAR-10)',
  },
  {
    id: 'cnn-doubled',
    runs: [
      { preset: 'cnn-residual-20', set: { residual: 'doubled', steps: CNN_STEPS } },
      { preset: 'cnn-residual-20', set: { steps: CNN_STEPS } },
      { preset: 'cnn-plain-20', set: { steps: CNN_STEPS } },
    ],
    focus: ['heatmap', 'loss'],
    cite: 'He, Zhang, Ren, Sun 2016, Deep Residual Learning for Image Recognition (CVPR)',
  },
  {
    id: 'cnn-eps',
    // Raw pixels (0..1): a blank background is exactly 0, the stem conv has no bias, so at every
    // background position all 16 channels are 0 and LayerNorm over them (as ConvNeXt, Liu et al. 2022)
    // divides 0 by 0 without eps. With eps = 1e-5 that group maps to the norm's bias and the net learns.
    // C: the same bug on standardised pixels (background -0.42), where no group is exactly constant.
    runs: [
      { preset: 'cnn-digits', set: { norm: 'layernorm', placement: 'pre', pix: 'raw', eps: 0 } },
      { preset: 'cnn-digits', set: { norm: 'layernorm', placement: 'pre', pix: 'raw', eps: 1e-5 } },
      { preset: 'cnn-digits', set: { norm: 'layernorm', placement: 'pre', eps: 0 } },
    ],
    focus: ['loss', 'digits'],
    digitsRun: 1,
    cite: 'Ba, Kiros, Hinton 2016, Layer Normalization; Liu et al. 2022, A ConvNet for the 2020s (LayerNorm over channels)',
  },
  {
    id: 'cnn-bn-ln',
    runs: [
      { preset: 'cnn-residual-20', set: { steps: CNN_STEPS } },
      { preset: 'cnn-residual-20', set: { norm: 'layernorm', steps: CNN_STEPS } },
    ],
    focus: ['loss', 'digits'],
    cite: 'Ioffe & Szegedy 2015, Batch Normalization (ICML); Ba, Kiros, Hinton 2016, Layer Normalization',
  },
  {
    id: 'cnn-v1-v2',
    runs: [
      { preset: 'cnn-residual-32', set: { steps: CNN_STEPS } },
      { preset: 'cnn-residual-32', set: { placement: 'pre', steps: CNN_STEPS } },
    ],
    focus: ['loss', 'heatmap'],
    cite: 'He, Zhang, Ren, Sun 2016, Identity Mappings in Deep Residual Networks (ECCV)',
  },
];

/** The full configs of an experiment's runs. */
export function experimentConfigs(id: string): FlatConfig[] {
  const e = EXPERIMENTS.find((x) => x.id === id);
  if (!e) throw new Error(`unknown experiment "${id}"`);
  return e.runs.map((r) => ({ ...presetConfig(r.preset), ...(r.set ?? {}) }) as FlatConfig);
}

/** The state changes that open an experiment (compare mode, its runs; panels and language kept). */
export function experimentState(id: string, s: AppState): Partial<AppState> {
  const { base, runs } = fromConfigs(experimentConfigs(id));
  return { mode: 'compare', config: base, runs, exp: id, layer: 0, head: 0, panels: s.panels };
}
