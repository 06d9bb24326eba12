// The wasm Trainer API in Node: create/step/evaluate/grid/sample/attention/save/load, errors as JS Errors
// with the C++ messages, refused checkpoints leaving the state unchanged, and typed arrays surviving growth.
import { beforeAll, describe, expect, it } from 'vitest';

import { createTrainer, loadResnormNode, sharedModule, Trainer } from '../../web/src/engine/node';
import type { ResnormModule } from '../../web/src/engine/wasm';
import { spiral, tinyGpt } from './engine-helpers';

let mod: ResnormModule;
beforeAll(async () => { mod = await sharedModule(); });

function evalOf(t: Trainer) { const e = t.evaluate(); return [e.trainLoss, e.valLoss, e.accuracy]; }

describe('module', () => {
  it('lists the built-in presets and validates configs like the core', () => {
    expect(mod.presetNames()).toEqual(expect.arrayContaining(['mlp-spiral', 'mlp-residual-deep', 'gpt-tiny']));
    const full = JSON.parse(mod.normalizeConfig('{"model":{"depth":3}}'));
    expect(full.model.depth).toBe(3);
    expect(full.optim.name).toBe('adamw');  // defaults filled in
  });

  it('turns C++ exceptions into JS Errors carrying the message', () => {
    expect(() => mod.normalizeConfig('{"model":{"depth":0}}')).toThrowError(/^config: model\.depth = 0 is out of range/);
    expect(() => mod.normalizeConfig('{"modle":{}}')).toThrowError(/^config: unknown key "modle"/);
    expect(() => mod.normalizeConfig('{')).toThrowError(/json|JSON/);
    expect(() => mod.presetJson('nope')).toThrowError(/nope/);
    let err: unknown;
    try { mod.normalizeConfig('{"optim":{"lr":-1}}'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/optim\.lr/);
  });

  it('rejects a bad config at Trainer creation', async () => {
    await expect(createTrainer({ model: { width: 0 } })).rejects.toThrowError(/^config: model\.width = 0/);
    await expect(createTrainer({ model: { kind: 'gpt', width: 30, heads: 4 } }, { text: 'abc' })).rejects.toThrowError(/heads/);
    // gpt without text nor vocabulary is refused by the core, not crashed
    await expect(createTrainer({ model: { kind: 'gpt' } }, { text: '' })).rejects.toThrowError(/needs the training text/);
  });

  it('a wasm trap surfaces as a RuntimeError', async () => {
    const own = await loadResnormNode();  // its own instance: a trap may leave a module unusable
    expect(() => own.debugTrap()).toThrowError(WebAssembly.RuntimeError);
  });
});

describe('mlp trainer', () => {
  it('steps with complete statistics and learns the spiral', async () => {
    const t = await createTrainer(spiral());
    const info = t.info();
    expect(info.kind).toBe('mlp');
    expect(info.params).toBeGreaterThan(1000);
    expect(info.points!.xTrain.length).toBe(2 * info.points!.yTrain.length);
    expect(info.points!.yTrain.length + info.points!.yTest.length).toBe(1000);

    const first = t.step(3);
    expect(first.map((s) => s.step)).toEqual([1, 2, 3]);
    for (const s of first) {
      expect(Number.isFinite(s.loss) && Number.isFinite(s.gradNorm) && s.lr > 0).toBe(true);
      expect(s.diverged).toBe(false);
      expect(s.blockGradNorm).toBeInstanceOf(Float32Array);
      expect(s.blockGradNorm.length).toBe(4);
      expect(s.blockActRms.length).toBe(4);
      expect(s.updateRatio.length).toBe(4);
      expect(s.attnEntropy.length).toBe(0);
    }
    const before = t.evaluate();
    expect(before.step).toBe(3);
    for (let i = 0; i < 6; ++i) t.step(100);
    const after = t.evaluate();
    expect(after.step).toBe(603);
    expect(after.trainLoss).toBeLessThan(before.trainLoss * 0.6);
    expect(after.accuracy).toBeGreaterThan(0.8);
    t.dispose();
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const losses = async (seed: number) => { const t = await createTrainer(spiral({}, seed)); const l = t.step(20).map((s) => s.loss); t.dispose(); return l; };
    const a = await losses(5), b = await losses(5), c = await losses(6);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('draws the decision grid with row 0 at the top', async () => {
    const t = await createTrainer(spiral());
    t.step(200);
    const g = t.grid(33, -1.5, 1.5);
    expect(g.length).toBe(33 * 33);
    expect(Math.min(...g)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...g)).toBeLessThanOrEqual(1);
    expect(() => t.grid(0, -1, 1)).toThrowError(/resolution/);
    expect(() => t.grid(8, 1, -1)).toThrowError(/lo < hi/);
    expect(() => t.sample('a', 3, 1, 0, 1)).toThrowError(/only for model.kind = "gpt"/);
    t.dispose();
  });

  it('changes the optimiser live and refuses what cannot change', async () => {
    const t = await createTrainer(spiral({ warmup: 0, schedule: 'constant' }));
    expect(t.step(1)[0].lr).toBeCloseTo(0.01, 10);
    t.setOptim({ lr: 0.002 });
    expect(t.config.optim!.lr).toBe(0.002);
    expect(t.step(1)[0].lr).toBeCloseTo(0.002, 10);
    expect(() => t.setOptim({ batch: 64 })).toThrowError(/optim\.batch cannot change/);
    expect(() => t.setOptim({ lr: -3 })).toThrowError(/optim\.lr/);
    expect(t.config.optim!.lr).toBe(0.002);  // unchanged after a refusal
    t.dispose();
  });

  it('reports divergence in the step statistics instead of crashing', async () => {
    const t = await createTrainer({
      model: { depth: 16, width: 32, residual: 'none', norm: 'none' },
      optim: { name: 'sgd', lr: 10, momentum: 0.9, clip: 0, warmup: 0 },
    });
    const stats = t.step(60);
    const bad = stats.find((s) => s.diverged);
    expect(bad, 'lr = 10 without clipping should diverge').toBeDefined();
    expect(bad!.divergence).toMatch(/not finite/);
    t.dispose();
  });
});

describe('gpt trainer', () => {
  it('trains, evaluates, samples and shows causal attention', async () => {
    const t = await createTrainer(tinyGpt);
    const info = t.info();
    expect(info.kind).toBe('gpt');
    expect(info.vocab.length).toBe(65);
    const s = t.step(2);
    expect(s[1].attnEntropy.length).toBe(2 * 2);
    const e = t.evaluate();
    expect(e.trainAccuracy).toBe(-1);
    expect(e.valLoss).toBeGreaterThan(2);  // ~ln 65 at the start

    const a = t.sample('ROMEO:', 40, 0.8, 10, 42);
    expect(a.length).toBe(40);
    expect([...a].every((ch) => info.vocab.includes(ch))).toBe(true);
    expect(t.sample('ROMEO:', 40, 0.8, 10, 42)).toBe(a);  // seeded
    expect(t.sample('ROMEO:', 40, 0, 0, 1)).toBe(t.sample('ROMEO:', 40, 0, 0, 2));  // greedy ignores the seed
    expect(() => t.sample('\u00e9', 5, 1, 0, 1)).toThrowError(/not in the vocabulary/);

    const att = t.attention('First Citizen', 1);
    expect(att.heads).toBe(2);
    expect(att.T).toBe(13);
    expect(att.data.length).toBe(2 * 13 * 13);
    for (let h = 0; h < 2; ++h)
      for (let i = 0; i < 13; ++i) {
        const row = att.data.subarray((h * 13 + i) * 13, (h * 13 + i + 1) * 13);
        expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 4);
        for (let j = i + 1; j < 13; ++j) expect(row[j]).toBe(0);  // no look-ahead
      }
    expect(() => t.attention('x', 2)).toThrowError(/layer 2 out of range/);
    expect(() => t.attention('x'.repeat(17), 0)).toThrowError(/tokens/);
    t.dispose();
  });
});

describe('checkpoints', () => {
  it('round-trips through safetensors bytes', async () => {
    const a = await createTrainer(spiral());
    a.step(150);
    const bytes = a.save();
    // safetensors: 8-byte little-endian header length, then a JSON header
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__.format).toBe('resnorm-safetensors-1');
    expect(header['stem.weight'].dtype).toBe('F32');

    const b = await createTrainer(spiral());
    b.load(bytes);
    expect(b.stepsDone).toBe(150);
    expect(evalOf(b)).toEqual(evalOf(a));
    a.dispose(); b.dispose();
  });

  it('refuses corrupted, truncated and foreign checkpoints and keeps its state', async () => {
    const src = await createTrainer(spiral());
    src.step(50);
    const good = src.save();
    const t = await createTrainer(spiral({}, 99));
    t.step(10);
    const before = evalOf(t);
    const refuse = (bytes: Uint8Array, why: RegExp) => {
      expect(() => t.load(bytes)).toThrowError(why);
      expect(t.stepsDone).toBe(10);
      expect(evalOf(t)).toEqual(before);
    };
    refuse(good.subarray(0, good.length - 4), /checkpoint|safetensors|size|range|bytes/i);
    refuse(good.subarray(0, 5), /checkpoint|safetensors|short|bytes/i);
    refuse(new Uint8Array(0), /checkpoint|safetensors|short|bytes|empty/i);
    refuse(new TextEncoder().encode('definitely not a checkpoint'), /checkpoint|safetensors|header/i);
    const badHeader = good.slice();
    badHeader[9] ^= 0x55;  // inside the JSON header
    refuse(badHeader, /./);
    const nan = good.slice();
    const n = Number(new DataView(nan.buffer).getBigUint64(0, true));
    new DataView(nan.buffer).setFloat32(8 + n, NaN, true);  // first parameter value
    refuse(nan, /finite|NaN/i);
    const other = await createTrainer({ ...spiral(), model: { ...spiral().model, depth: 3 } });
    refuse(other.save(), /model\.depth = 3/);
    const gpt = await createTrainer(tinyGpt);
    refuse(gpt.save(), /model\.kind|model\./);
    for (const x of [src, t, other, gpt]) x.dispose();
  });

  it('reads a checkpoint\'s config and vocabulary, enough for an inference-only gpt', async () => {
    const a = await createTrainer(tinyGpt);
    a.step(5);
    const bytes = a.save();
    const info = mod.checkpointInfo(bytes);
    expect(info.step).toBe(5);
    expect(JSON.parse(info.config).model.depth).toBe(2);
    const b = Trainer.create(mod, JSON.parse(info.config), { vocab: info.vocab });
    b.load(bytes);
    expect(b.sample('KING', 30, 0.5, 5, 3)).toBe(a.sample('KING', 30, 0.5, 5, 3));
    expect(() => b.step(1)).toThrowError(/inference-only|no training text/);
    a.dispose(); b.dispose();
  });
});

describe('memory', () => {
  it('keeps earlier statistics valid after the wasm memory grows', async () => {
    const t = await createTrainer(spiral());
    const s = t.step(1)[0];
    const copy = Array.from(s.blockGradNorm);
    // ~100+ MB of model + optimiser state: forces memory.grow, which detaches views into the old buffer
    const big = await createTrainer({ model: { depth: 64, width: 512 }, optim: { batch: 256 } });
    expect(big.bytes).toBeGreaterThan(50e6);
    expect(Array.from(s.blockGradNorm)).toEqual(copy);
    big.dispose();
    t.dispose();
  });

  it('refuses a model over the memory cap with an error, not a crash', async () => {
    await expect(createTrainer({ model: { depth: 512, width: 4096 } })).rejects.toThrowError(/over the cap of 1536 MiB/);
    const t = await createTrainer(spiral());  // the module still works
    expect(t.step(1)[0].step).toBe(1);
    t.dispose();
  });
});
