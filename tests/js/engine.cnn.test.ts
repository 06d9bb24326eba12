// The cnn's page-facing engine API (issue 11) in Node, through the same wasm the site loads: the held-out
// digits are the asset's digits (checked against a JS reading of web/public/data/digits.bin), the class
// probabilities are distributions whose argmax accuracy is evaluate()'s accuracy, and probing runs
// BatchNorm in eval mode (a batch of one gives what the same image gives inside a batch, and probing
// changes nothing a later training step sees).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

import { EngineHost } from '../../web/src/engine/host';
import { createTrainer, defaultDigitsPath, sharedModule, type Trainer } from '../../web/src/engine/node';
import type { Request, WorkerMessage } from '../../web/src/engine/protocol';
import type { FeatureMaps, ModelInfo } from '../../web/src/engine/types';
import type { ResnormConfig } from '../../web/src/engine/types';
import { spiral } from './engine-helpers';

const cnn = (over: Partial<NonNullable<ResnormConfig['model']>> = {}, data: ResnormConfig['data'] = {}): ResnormConfig => ({
  model: { kind: 'cnn', depth: 1, width: 8, residual: 'identity', norm: 'batchnorm', placement: 'post', ...over },
  data: { name: 'digits', resolution: 14, test_fraction: 0.2, ...data },
  optim: { lr: 0.003, batch: 32, steps: 200, warmup: 0 },
  eval: { every: 0 },
  seed: 11,
});

/** Row sums and the first-largest index of each row of [n, 10]. */
function rows(p: Float32Array): { sums: number[]; argmax: number[] } {
  const sums: number[] = [], argmax: number[] = [];
  for (let i = 0; i < p.length / 10; i++) {
    let s = 0, b = 0;
    for (let c = 0; c < 10; c++) { s += p[i * 10 + c]; if (p[i * 10 + c] > p[i * 10 + b]) b = c; }
    sums.push(s); argmax.push(b);
  }
  return { sums, argmax };
}

describe('cnn engine: held-out digits and class probabilities', () => {
  let tr: Trainer;
  beforeAll(async () => {
    tr = await createTrainer(cnn());
    tr.step(40);
  });

  it('hands the page the held-out split of the asset, pooled to 14x14 with the right labels', () => {
    const d = tr.info().digits!;
    expect(d.side).toBe(14);
    expect(d.y.length).toBe(2000);                // round(0.2 * 10,000)
    expect(d.x.length).toBe(2000 * 196);
    // The asset read here in JS: every held-out image is a 2x2 average pool of one asset digit with the same label.
    const a = readFileSync(defaultDigitsPath);
    expect(a.toString('latin1', 0, 4)).toBe('RNDG');
    const n = a.readUInt32LE(8);
    const pooled = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const sums: number[] = [];
      for (let r = 0; r < 14; r++) for (let c = 0; c < 14; c++) {
        let s = 0;
        for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) s += a[20 + n + i * 784 + (2 * r + dr) * 28 + 2 * c + dc];
        sums.push(s);
      }
      const key = sums.join(',');
      pooled.set(key, [...(pooled.get(key) ?? []), a[20 + i]]);
    }
    let found = 0;
    for (let i = 0; i < d.y.length; i++) {
      // invert the normalisation ((sum / (255 * 4)) - 0.1307) / 0.3081 back to the integer pixel sums
      const sums = Array.from(d.x.subarray(i * 196, (i + 1) * 196), (v) => Math.round((v * 0.3081 + 0.1307) * 255 * 4));
      const labels = pooled.get(sums.join(','));
      if (labels?.includes(d.y[i])) found++;
    }
    expect(found).toBe(d.y.length);
    // all ten classes are held out, roughly in proportion (about 200 each)
    const counts = new Array(10).fill(0);
    for (const y of d.y) counts[y]++;
    expect(Math.min(...counts)).toBeGreaterThan(120);
  });

  it('gives probabilities that sum to 1 and whose argmax accuracy is evaluate()\'s accuracy', () => {
    const d = tr.info().digits!;
    const p = tr.probs(d.x);
    expect(p.length).toBe(d.y.length * 10);
    const { sums, argmax } = rows(p);
    for (const s of sums) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    const acc = argmax.filter((k, i) => k === d.y[i]).length / d.y.length;
    const e = tr.evaluate();
    expect(acc).toBe(e.accuracy);
    expect(acc).toBeGreaterThan(0.5);  // 40 steps already learn a lot
  });

  it('runs BatchNorm in eval mode: one image alone gives what it gives inside a batch', () => {
    const d = tr.info().digits!;
    const batch = tr.probs(d.x.subarray(0, 50 * 196));
    for (const i of [0, 17, 49]) {
      const one = tr.probs(d.x.slice(i * 196, (i + 1) * 196));
      for (let c = 0; c < 10; c++) expect(one[c]).toBeCloseTo(batch[i * 10 + c], 5);
    }
  });

  it('changes nothing a later training step sees (running statistics untouched)', async () => {
    const a = await createTrainer(cnn({ depth: 1, width: 4, norm: 'batchnorm' }));
    const b = await createTrainer(cnn({ depth: 1, width: 4, norm: 'batchnorm' }));
    try {
      a.step(5); b.step(5);
      const x = a.info().digits!.x;
      a.probs(x.subarray(0, 300 * 196));
      // evaluate() runs on the running statistics: a probe in training mode would have moved them
      expect(a.evaluate()).toEqual(b.evaluate());
      const la = a.step(5).map((s) => s.loss), lb = b.step(5).map((s) => s.loss);
      expect(la).toEqual(lb);
      expect(Array.from(a.probs(x.subarray(0, 196)))).toEqual(Array.from(b.probs(x.subarray(0, 196))));
    } finally { a.dispose(); b.dispose(); }
  });

  it('works at 28x28 too', async () => {
    const t = await createTrainer(cnn({}, { resolution: 28, test_fraction: 0.05 }));
    try {
      const d = t.info().digits!;
      expect(d.side).toBe(28);
      expect(d.y.length).toBe(500);
      const { sums } = rows(t.probs(d.x.subarray(0, 3 * 784)));
      expect(sums.length).toBe(3);
      for (const s of sums) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    } finally { t.dispose(); }
  });

  it('gives the feature maps of each block, shaped by its stage, consistent with the prediction', async () => {
    const t = await createTrainer(cnn({ depth: 2, width: 8, placement: 'post' }));
    try {
      t.step(3);
      const img = t.info().digits!.x.slice(0, 196);
      // stage s (0..2): 8 * 2^s channels at 14, 7, 4 pixels a side (stride 2, padding 1, 3x3)
      const want = [[8, 14], [8, 14], [16, 7], [16, 7], [32, 4], [32, 4]];
      expect(t.info().depth).toBe(6);
      for (let b = 0; b < 6; b++) {
        const f = t.features(img, b);
        expect([f.channels, f.h], `block ${b}`).toEqual(want[b]);
        expect(f.data.length).toBe(f.channels * f.h * f.h);
      }
      // ResNet v1 pools the last block's output and applies the linear head: doing that here in JS,
      // with head.weight and head.bias read from a checkpoint, gives the probabilities the engine gives.
      const last = t.features(img, 5);
      const ck = t.save();
      const hlen = Number(new DataView(ck.buffer, ck.byteOffset).getBigUint64(0, true));
      const header = JSON.parse(new TextDecoder().decode(ck.subarray(8, 8 + hlen)));
      const tensor = (name: string) => {
        const [a, z] = header[name].data_offsets as [number, number];
        return new Float32Array(ck.slice(8 + hlen + a, 8 + hlen + z).buffer);
      };
      const W = tensor('head.weight'), bias = tensor('head.bias');
      const C = last.channels, HW = last.h * last.h;
      const pooled = Array.from({ length: C }, (_, c) => last.data.subarray(c * HW, (c + 1) * HW).reduce((a, v) => a + v, 0) / HW);
      const logits = Array.from({ length: 10 }, (_, k) => bias[k] + pooled.reduce((a, v, c) => a + W[k * C + c] * v, 0));
      const mx = Math.max(...logits), ex = logits.map((l) => Math.exp(l - mx)), z = ex.reduce((a, v) => a + v, 0);
      const probs = t.probs(img);
      for (let k = 0; k < 10; k++) expect(Math.abs(ex[k] / z - probs[k])).toBeLessThan(1e-5);
      expect(() => t.features(img, 6)).toThrow(/block 6 is out of range \(0..5\)/);
      expect(() => t.features(img.subarray(0, 100), 0)).toThrow(/100 pixels is not one 196-pixel image/);
    } finally { t.dispose(); }
  });

  it('refuses bad input with a clear message', async () => {
    expect(() => tr.probs(new Float32Array(195))).toThrow(/195 pixels is not a whole number of 196-pixel images/);
    const mlp = await createTrainer(spiral());
    try { expect(() => mlp.probs(new Float32Array(2))).toThrow(/only for model.kind = "cnn"/); } finally { mlp.dispose(); }
  });
});

describe('cnn through the worker protocol (EngineHost)', () => {
  it('creates from the asset bytes, answers probs and features, and refuses them for an mlp', async () => {
    const posted: WorkerMessage[] = [];
    const digits = new Uint8Array(readFileSync(defaultDigitsPath));
    const host = new EngineHost({
      post: (m) => posted.push(structuredClone(m)),
      load: async (req) => ({ module: await sharedModule(), text: req.config.model?.kind === 'cnn' ? digits : undefined }),
    });
    let id = 0;
    const send = async (body: Record<string, unknown>) => {
      const rid = ++id;
      await host.handle({ ...body, id: rid } as unknown as Request);
      const r = posted.find((m) => m.type === 'reply' && m.id === rid);
      if (!r || r.type !== 'reply') throw new Error('no reply');
      return r;
    };
    const made = await send({ type: 'create', config: cnn({ depth: 1, width: 4 }) });
    expect(made.ok).toBe(true);
    const info = (made as { result: ModelInfo }).result;
    expect(info.kind).toBe('cnn');
    expect(info.depth).toBe(3);
    const x = info.digits!.x.slice(0, 3 * 196);
    const pr = await send({ type: 'probs', images: x });
    expect(pr.ok && (pr.result as Float32Array).length).toBe(30);
    const fm = await send({ type: 'features', image: x.slice(0, 196), block: 2 });
    expect(fm.ok && [(fm.result as FeatureMaps).channels, (fm.result as FeatureMaps).h]).toEqual([16, 4]);
    const bad = await send({ type: 'features', image: x.slice(0, 196), block: 3 });
    expect(!bad.ok && bad.error).toMatch(/block 3 is out of range \(0..2\)/);
    await send({ type: 'create', config: spiral() });
    const mlp = await send({ type: 'probs', images: new Float32Array(2) });
    expect(!mlp.ok && mlp.error).toMatch(/only for model.kind = "cnn"/);
  });
});
