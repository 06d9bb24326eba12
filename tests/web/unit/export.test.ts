// Export formats: the metrics CSV and JSON, the per-block series' merging, and the checkpoint
// header check that refuses a bad upload before the engine sees it.
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../../web/src/config/presets';
import { metricsCsv, metricsJson, readCheckpointHeader } from '../../../web/src/export';
import { BlockSeries, RunMetrics } from '../../../web/src/metrics';
import type { StepStats } from '../../../web/src/engine/types';
import { toEngineConfig } from '../../../web/src/config/fields';

function stats(step: number, loss: number, depth = 2): StepStats {
  return {
    step, loss, lr: 0.01, gradNorm: 0.5, ms: 0.25, diverged: !Number.isFinite(loss), divergence: Number.isFinite(loss) ? '' : 'NaN in block 2',
    blockGradNorm: Float32Array.from({ length: depth }, (_, b) => step + b), blockActRms: new Float32Array(depth).fill(1),
    updateRatio: new Float32Array(depth).fill(0.001), attnEntropy: new Float32Array(0),
  };
}

function run(name: string, losses: number[]) {
  const m = new RunMetrics(2);
  m.add(losses.map((l, i) => stats(i + 1, l)));
  m.addEval({ step: 2, trainLoss: 0.4, valLoss: 0.45, trainAccuracy: 0.8, accuracy: 0.75 });
  return { name, label: `${name} · norm=x`, config: presetConfig('mlp-spiral'), metrics: m };
}

describe('CSV', () => {
  it('has one header row and one row per run and step', () => {
    const csv = metricsCsv([run('A', [1, 0.5, 0.25]), run('B', [1, NaN])]);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe('run,label,step,loss,lr,grad_norm,ms,eval_train_loss,eval_val_loss,eval_train_accuracy,eval_accuracy,block_span,' +
      'grad_norm_b0,grad_norm_b1,act_rms_b0,act_rms_b1,update_ratio_b0,update_ratio_b1');
    expect(lines).toHaveLength(1 + 3 + 2);
    expect(lines[1]).toBe('A,A · norm=x,1,1,0.01,0.5,0.25,,,,,1,1,2,1,1,0.001,0.001');
    expect(lines[2].split(',').slice(7, 11)).toEqual(['0.4', '0.45', '0.8', '0.75']);
    expect(lines[5].split(',')[3]).toBe('nan');
    for (const l of lines) expect(l.split(',').length).toBe(lines[0].split(',').length);
  });

  it('quotes cells with commas or quotes', () => {
    const r = run('A', [1]);
    r.label = 'A · lr=0.1, "fast"';
    expect(metricsCsv([r]).split('\n')[1]).toMatch(/^A,"A · lr=0\.1, ""fast""",1,/);
  });
});

describe('JSON', () => {
  it('holds the config, every step, evaluations and blocks, with null for NaN', () => {
    const doc = JSON.parse(metricsJson([run('A', [1, NaN])], new Date('2024-01-02T03:04:05Z')));
    expect(doc.format).toBe('resnorm-metrics-1');
    expect(doc.exported).toBe('2024-01-02T03:04:05.000Z');
    const r = doc.runs[0];
    expect(r.config).toEqual(toEngineConfig(presetConfig('mlp-spiral')));
    expect(r.steps.step).toEqual([1, 2]);
    expect(r.steps.loss).toEqual([1, null]);
    expect(r.evals).toEqual([{ step: 2, train_loss: 0.4, val_loss: 0.45, train_accuracy: 0.8, accuracy: 0.75 }]);
    expect(r.blocks.grad_norm).toEqual([[1, 2], [2, 3]]);
    expect(r.diverged).toEqual({ step: 2, message: 'NaN in block 2' });
  });
});

describe('BlockSeries', () => {
  it('merges pairs when full and keeps step spans', () => {
    const b = new BlockSeries(1, 4);
    for (let s = 1; s <= 8; s++) b.push(s, [s]);
    // 4 columns of 1 step -> halved to 2 columns of 2 -> new columns of 2 steps
    expect(b.columns).toBe(4);
    expect(b.endStep).toEqual([2, 4, 6, 8]);
    expect(b.span).toEqual([2, 2, 2, 2]);
    expect(Array.from(b.data.subarray(0, 4))).toEqual([1.5, 3.5, 5.5, 7.5]);
    expect(b.latest[0]).toBe(8);
  });
});

function safetensors(meta: Record<string, string> | null, extraHeader: Record<string, unknown> = {}): Uint8Array {
  const header: Record<string, unknown> = { 'w': { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, ...extraHeader };
  if (meta) header.__metadata__ = meta;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + 4);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  return out;
}

describe('checkpoint header', () => {
  const cfg = JSON.stringify(toEngineConfig(presetConfig('mlp-spiral')));
  it('reads config and step', () => {
    const h = readCheckpointHeader(safetensors({ format: 'resnorm-safetensors-1', config: cfg, step: '42' }));
    expect(h.config).toEqual(presetConfig('mlp-spiral'));
    expect(h.step).toBe(42);
    expect(h.tensors).toBe(1);
  });
  it('refuses what is not ours, with a plain message', () => {
    expect(() => readCheckpointHeader(new Uint8Array(3))).toThrow(/too short/);
    expect(() => readCheckpointHeader(new TextEncoder().encode('hello world, not a checkpoint'))).toThrow(/not a safetensors/);
    const bad = safetensors({ format: 'x', config: cfg, step: '1' });
    expect(() => readCheckpointHeader(bad)).toThrow(/not saved by ResNorm/);
    expect(() => readCheckpointHeader(safetensors(null))).toThrow(/not saved by ResNorm/);
    expect(() => readCheckpointHeader(safetensors({ format: 'resnorm-safetensors-1', config: '{', step: '1' }))).toThrow(/config/);
    expect(() => readCheckpointHeader(safetensors({ format: 'resnorm-safetensors-1', config: '{"model":{"depth":0}}', step: '1' }))).toThrow(/depth/);
    expect(() => readCheckpointHeader(safetensors({ format: 'resnorm-safetensors-1', config: cfg, step: 'x' }))).toThrow(/step/);
    const garbled = safetensors({ format: 'resnorm-safetensors-1', config: cfg, step: '1' });
    garbled[9] = 0xff;
    expect(() => readCheckpointHeader(garbled)).toThrow(/not a safetensors/);
  });
});
