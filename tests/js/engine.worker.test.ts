// The worker protocol, in Node: EngineHost (the worker's message handler) called as a function, and the
// real EngineClient talking to hosts over an in-process stand-in for a Worker (one wasm instance each).
import { describe, expect, it } from 'vitest';

import { EngineClient, type WorkerLike } from '../../web/src/engine/client';
import { EngineHost } from '../../web/src/engine/host';
import { BudgetError, DEFAULT_BUDGET_BYTES, MemoryBudget } from '../../web/src/engine/budget';
import { loadResnormNode } from '../../web/src/engine/node';
import type { Request, WorkerMessage } from '../../web/src/engine/protocol';
import { SLICE_MS } from '../../web/src/engine/protocol';
import type { EvalStats, ResnormConfig, StepStats } from '../../web/src/engine/types';
import type { ResnormModule } from '../../web/src/engine/wasm';
import { spiral, tinyGpt } from './engine-helpers';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repo } from './engine-helpers';

const text = readFileSync(resolve(repo, 'web/public/data/tinyshakespeare.txt'), 'utf8');

/** A host with its own wasm instance (as each real worker has), recording everything it posts. */
function makeHost(mod?: Promise<ResnormModule>) {
  const posted: { msg: WorkerMessage; at: number }[] = [];
  const own = mod ?? loadResnormNode();
  const host = new EngineHost({
    post: (msg) => posted.push({ msg: structuredClone(msg), at: performance.now() }),
    load: async (req) => ({ module: await own, text: req.config.model?.kind === 'gpt' ? text : undefined }),
  });
  let id = 0;
  const send = async (body: Omit<Request, 'id'> & { type: Request['type'] }) => {
    const rid = ++id;
    await host.handle({ ...body, id: rid } as Request);
    const r = posted.find((p) => p.msg.type === 'reply' && p.msg.id === rid)?.msg;
    if (!r || r.type !== 'reply') throw new Error('no reply');
    return r;
  };
  const events = (type: WorkerMessage['type']) => posted.filter((p) => p.msg.type === type).map((p) => p.msg);
  return { host, posted, send, events };
}

const until = async (cond: () => boolean, ms = 60_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('EngineHost (the worker message handler)', () => {
  it('creates, steps, evaluates and reports the C++ error for a bad config', async () => {
    const h = makeHost();
    const bad = await h.send({ type: 'create', config: { model: { depth: 0 } } });
    expect(bad.ok).toBe(false);
    expect(bad.ok ? '' : bad.error).toMatch(/^config: model\.depth = 0 is out of range/);
    const ok = await h.send({ type: 'create', config: spiral() });
    expect(ok.ok).toBe(true);
    const st = await h.send({ type: 'step', n: 4 });
    expect(st.ok && (st.result as StepStats[]).map((s) => s.step)).toEqual([1, 2, 3, 4]);
    const ev = await h.send({ type: 'evaluate' });
    expect(ev.ok && (ev.result as EvalStats).step).toBe(4);
  });

  it('streams every step of a run in batched messages, at most ~20 a second, and stops at optim.steps', async () => {
    const h = makeHost();
    await h.send({ type: 'create', config: spiral({ steps: 3000 }) });
    const t0 = performance.now();
    await h.send({ type: 'run', evalEvery: 500 });
    await until(() => h.events('stopped').length > 0);
    const elapsed = performance.now() - t0;
    const ticks = h.events('tick') as Extract<WorkerMessage, { type: 'tick' }>[];
    const steps = ticks.flatMap((t) => t.stats.map((s) => s.step));
    expect(steps).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(ticks.flatMap((t) => t.evals.map((e) => e.step))).toEqual([500, 1000, 1500, 2000, 2500, 3000]);
    expect(ticks.length).toBeLessThanOrEqual(Math.ceil(elapsed / SLICE_MS) + 1);
    expect(h.events('stopped')).toEqual([{ type: 'stopped', reason: 'done', message: 'reached optim.steps = 3000' }]);
    expect(h.host.isRunning).toBe(false);
  });

  it('pauses between slices, applies setOptim live, and resumes', async () => {
    const h = makeHost();
    await h.send({ type: 'create', config: spiral({ steps: 1_000_000, warmup: 0 }) });
    await h.send({ type: 'run' });
    await until(() => h.events('tick').length >= 1);
    const so = await h.send({ type: 'setOptim', optim: { lr: 0.0005 } });
    expect(so.ok && (so.result as ResnormConfig).optim!.lr).toBe(0.0005);
    await until(() => h.events('tick').length >= 3);
    await h.send({ type: 'pause' });
    expect(h.events('stopped')).toEqual([{ type: 'stopped', reason: 'paused', message: '' }]);
    const n = h.events('tick').length;
    await new Promise((r) => setTimeout(r, 3 * SLICE_MS));
    expect(h.events('tick').length).toBe(n);  // nothing after the pause
    const last = (h.events('tick').at(-1) as Extract<WorkerMessage, { type: 'tick' }>).stats.at(-1)!;
    expect(last.lr).toBeCloseTo(0.0005, 10);
    const st = await h.send({ type: 'step', n: 1 });
    expect(st.ok && (st.result as StepStats[])[0].step).toBe(last.step + 1);
  });

  it('stops and reports a diverging run as diverged', async () => {
    const h = makeHost();
    await h.send({
      type: 'create',
      config: { model: { depth: 16, width: 32, residual: 'none', norm: 'none' }, optim: { name: 'sgd', lr: 10, clip: 0, warmup: 0 } },
    });
    await h.send({ type: 'run' });
    await until(() => h.events('stopped').length > 0);
    const stop = h.events('stopped')[0] as Extract<WorkerMessage, { type: 'stopped' }>;
    expect(stop.reason).toBe('diverged');
    expect(stop.message).toMatch(/not finite at step \d+/);
    const steps = (h.events('tick') as Extract<WorkerMessage, { type: 'tick' }>[]).flatMap((t) => t.stats);
    expect(steps.at(-1)!.diverged).toBe(true);
    expect(h.host.isRunning).toBe(false);
  });

  it('reports a wasm trap as a crash and refuses further work', async () => {
    const h = makeHost();
    await h.send({ type: 'create', config: spiral() });
    const r = await h.send({ type: 'debugTrap' });
    expect(r.ok).toBe(false);
    expect(h.events('crashed')).toHaveLength(1);
    expect((h.events('crashed')[0] as { message: string }).message).toMatch(/unreachable/);
    const after = await h.send({ type: 'step', n: 1 });
    expect(after.ok ? '' : after.error).toMatch(/crashed/);
  });

  it('keeps state when a bad checkpoint is offered', async () => {
    const h = makeHost();
    await h.send({ type: 'create', config: spiral() });
    await h.send({ type: 'step', n: 20 });
    const saved = await h.send({ type: 'save' });
    const bytes = saved.ok ? (saved.result as Uint8Array) : new Uint8Array();
    const r = await h.send({ type: 'load', bytes: bytes.subarray(0, 100) });
    expect(r.ok).toBe(false);
    const ev1 = await h.send({ type: 'evaluate' });
    const ok = await h.send({ type: 'load', bytes });
    expect(ok.ok).toBe(true);
    const ev2 = await h.send({ type: 'evaluate' });
    expect(ev2.ok && ev1.ok && (ev2.result as EvalStats).valLoss).toBe(ev1.ok && (ev1.result as EvalStats).valLoss);
  });
});

/** An in-process Worker stand-in: structured-clones messages both ways, one wasm instance per "worker". */
function fakeWorker(created: { count: number }): () => WorkerLike {
  return () => {
    created.count++;
    let alive = true;
    const w: WorkerLike = {
      onmessage: null,
      onerror: null,
      postMessage(msg) { setImmediate(() => { if (alive) void host.handle(structuredClone(msg) as Request); }); },
      terminate() { alive = false; host.dispose(); },
    };
    const mod = loadResnormNode();
    const host = new EngineHost({
      post: (msg) => { const copy = structuredClone(msg); setImmediate(() => { if (alive) w.onmessage?.({ data: copy } as MessageEvent); }); },
      load: async (req) => ({ module: await mod, text: req.text }),
    });
    return w;
  };
}

describe("the 'threads' request (issue 13: the session's share of the cores)", () => {
  // The module with a pool the host is told about: it loaded with `loaded` threads and counts what it is
  // set to (the Node build is the single-thread one; the pthreads build's bits are checked in Chromium,
  // tests/js/engine.threads.browser.test.ts).
  function pooled(loaded: number) {
    const sets: number[] = [];
    const mod = loadResnormNode().then((real) => {
      let now = loaded;
      return Object.assign(Object.create(real) as ResnormModule, {
        threads: () => now,
        setThreads: (n: number) => { sets.push(n); now = n; },
      });
    });
    return { mod, sets };
  }

  it('sets the count, never above what the module loaded with, and refuses a count that is no count', async () => {
    const p = pooled(4);
    const h = makeHost(p.mod);
    const early = await h.send({ type: 'threads', n: 2 });
    expect(early.ok ? '' : early.error).toMatch(/no model yet/);
    expect((await h.send({ type: 'create', config: tinyGpt })).ok).toBe(true);
    const got = async (n: number) => {
      const r = await h.send({ type: 'threads', n });
      return r.ok ? r.result : r.error;
    };
    expect(await got(2)).toBe(2);
    expect(await got(8)).toBe(4);   // lowered to the pool the module started
    expect(await got(4)).toBe(4);   // already there: no call
    expect(await got(1)).toBe(1);
    expect(p.sets).toEqual([2, 4, 1]);
    for (const bad of [0, -1, 1.5, NaN, '2' as unknown as number]) expect(String(await got(bad))).toMatch(/^threads: .* is not a whole number of threads >= 1$/);
    expect(p.sets).toEqual([2, 4, 1]);
  });

  it('EngineClient.setThreads on the single-thread build stays at 1, and losses go on as before', async () => {
    const created = { count: 0 };
    const c = await EngineClient.create(tinyGpt, { worker: fakeWorker(created), text });
    const ref = await EngineClient.create(tinyGpt, { worker: fakeWorker(created), text });
    expect([c.info.threads, c.threads]).toEqual([1, 1]);
    const a = (await c.step(2)).map((s) => s.loss);
    expect(await c.setThreads(4)).toBe(1);
    expect(c.threads).toBe(1);
    a.push(...(await c.step(2)).map((s) => s.loss));
    expect(a).toEqual((await ref.step(4)).map((s) => s.loss));
    c.terminate();
    ref.terminate();
  });
});

describe('EngineClient over the protocol', () => {
  it('runs several engines at once, each with its own events', async () => {
    const created = { count: 0 };
    const [a, b] = await Promise.all([
      EngineClient.create(spiral({ steps: 400 }), { worker: fakeWorker(created) }),
      EngineClient.create(spiral({ steps: 300 }, 7), { worker: fakeWorker(created) }),
    ]);
    expect(created.count).toBe(2);
    expect(a.info.kind).toBe('mlp');
    const seen = { a: [] as number[], b: [] as number[] };
    const done: string[] = [];
    a.on('stats', (s) => seen.a.push(...s.map((x) => x.step)));
    b.on('stats', (s) => seen.b.push(...s.map((x) => x.step)));
    a.on('stopped', (r) => done.push(`a:${r}`));
    b.on('stopped', (r) => done.push(`b:${r}`));
    a.run();
    b.run();
    await until(() => done.length === 2);
    expect(done.sort()).toEqual(['a:done', 'b:done']);
    expect(seen.a).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(seen.b).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    a.terminate();
    b.terminate();
    await expect(a.step(1)).rejects.toThrowError(/terminated/);
  });

  it('rejects create with the C++ message, and load with a clear one', async () => {
    const created = { count: 0 };
    await expect(EngineClient.create({ optim: { batch: 0 } }, { worker: fakeWorker(created) })).rejects.toThrowError(/^config: optim\.batch = 0/);
    const c = await EngineClient.create(spiral(), { worker: fakeWorker(created) });
    await expect(c.load(new Uint8Array([1, 2, 3]))).rejects.toThrowError(/checkpoint|safetensors/i);
    const s = await c.step(3);
    expect(s.map((x) => x.step)).toEqual([1, 2, 3]);
    await c.setOptim({ lr: 0.02 });
    expect(c.info.config.optim!.lr).toBe(0.02);
    const g = await c.grid(16, -1.5, 1.5);
    expect(g.length).toBe(256);
    c.terminate();
  });

  it('gpt: sample and attention through the client', async () => {
    const c = await EngineClient.create(tinyGpt, { worker: fakeWorker({ count: 0 }), text });
    expect(c.info.vocab.length).toBe(65);
    await c.step(2);
    const s = await c.sample('Hi', 20, 1, 0, 3);
    expect(s.length).toBe(20);
    const a = await c.attention('Hello', 0);
    expect([a.heads, a.T, a.data.length]).toEqual([2, 5, 50]);
    const bytes = await c.save();
    await c.load(bytes);
    c.terminate();
  });

  it('reports a crash, rejects pending calls, and restarts with a fresh worker', async () => {
    const created = { count: 0 };
    const c = await EngineClient.create(spiral(), { worker: fakeWorker(created) });
    await c.step(5);
    const crashes: string[] = [];
    c.on('crashed', (m) => crashes.push(m));
    await expect(c.debugTrap()).rejects.toThrowError(/crashed/);
    expect(crashes).toHaveLength(1);
    await expect(c.step(1)).rejects.toThrowError(/crashed.*restart/);
    await c.restart();
    expect(created.count).toBe(2);
    const s = await c.step(1);
    expect(s[0].step).toBe(1);  // a fresh model
    c.terminate();
  });
});

describe('the page memory budget (issue 9)', () => {
  it("estimateBytes is exactly what the built Trainer holds (mlp, sgd, gpt with the text's vocabulary)", async () => {
    const mod = await loadResnormNode();
    const cases: [ResnormConfig, string][] = [
      [spiral(), ''],
      [{ ...spiral({ name: 'sgd', batch: 128 }), model: { depth: 12, width: 48, residual: 'rezero', norm: 'rmsnorm', placement: 'sandwich' } }, ''],
      [tinyGpt, text],
      [tinyGpt, 'abcabcabd'.repeat(40)],  // a 4-character vocabulary: the embedding and head shrink
    ];
    for (const [config, t] of cases) {
      const json = JSON.stringify(config);
      const tr = new mod.Trainer(json, t, '');
      expect(mod.estimateBytes(json, t)).toBe(tr.bytes());
      tr.delete();
    }
    expect(mod.estimateBytes(JSON.stringify(tinyGpt), text)).toBeGreaterThan(mod.estimateBytes(JSON.stringify(tinyGpt), 'ab'.repeat(200)));
    expect(() => mod.estimateBytes(JSON.stringify({ model: { depth: 0 } }), '')).toThrowError(/^config: model\.depth = 0/);
  });

  it('a create that does not fit what is left is refused with BudgetError, before the worker builds anything', async () => {
    const mod = await loadResnormNode();
    const need = mod.estimateBytes(JSON.stringify(spiral()), '');
    const budget = new MemoryBudget(need * 1.5);  // room for one such run, not two
    const created = { count: 0 };
    const a = await EngineClient.create(spiral(), { worker: fakeWorker(created), budget });
    expect(budget.inUse).toBe(need);
    const refused = EngineClient.create(spiral(), { worker: fakeWorker(created), budget });
    await expect(refused).rejects.toBeInstanceOf(BudgetError);
    await expect(refused).rejects.toMatchObject({ info: { need, inUse: need, limit: need * 1.5 } });
    await expect(refused).rejects.toThrowError(/needs \d+ MiB of memory.*fewer runs/);
    expect(budget.inUse).toBe(need);  // the refused one took nothing
    await a.restart();                // a restart holds the same share, not two
    expect(budget.inUse).toBe(need);
    a.terminate();
    expect(budget.inUse).toBe(0);
    const b = await EngineClient.create(spiral(), { worker: fakeWorker(created), budget });
    expect((await b.step(2)).map((s) => s.step)).toEqual([1, 2]);
    b.terminate();
    // a bad config still gets the C++ message (from the estimate), and reserves nothing
    await expect(EngineClient.create({ optim: { batch: 0 } }, { worker: fakeWorker(created), budget })).rejects.toThrowError(/^config: optim\.batch = 0/);
    expect(budget.inUse).toBe(0);
  });

  it('the 39-character link of four 256 x 256 x 256 runs does not fit the default 2 GiB', async () => {
    const mod = await loadResnormNode();
    const one = mod.estimateBytes(JSON.stringify({ ...spiral(), model: { depth: 256, width: 256 } }), '');
    expect(4 * one).toBeGreaterThan(DEFAULT_BUDGET_BYTES);
    expect(one).toBeLessThan(DEFAULT_BUDGET_BYTES);
  });
});

describe('a checkpoint too big to train here opens for inspection (issue 12)', () => {
  // The same model as tinyGpt but a context of 1024 and a batch of 4096: its training run is far over the
  // wasm cap (as a PyTorch-twin run from a bigger machine can be); one sequence of it is small.
  const big: ResnormConfig = { ...tinyGpt, model: { ...tinyGpt.model, context: 1024 }, optim: { ...tinyGpt.optim, batch: 4096 } };
  const small: ResnormConfig = { ...big, optim: { ...big.optim, batch: 2 } };

  it('Trainer.inspector samples and shows attention with the weights a trainable copy has, and refuses to step', async () => {
    const mod = await loadResnormNode();
    expect(() => new mod.Trainer(JSON.stringify(big), text, '')).toThrowError(/over the (memory )?cap/);
    const trainer = new mod.Trainer(JSON.stringify(small), text, '');
    trainer.step(3);
    const weights = trainer.save();
    const vocab = trainer.vocab();
    const insp = mod.Trainer.inspector(JSON.stringify(big), vocab);
    expect(insp.bytes()).toBe(mod.estimateInspectBytes(JSON.stringify(big), [...vocab].length));
    expect(insp.bytes()).toBeLessThan(mod.estimateBytes(JSON.stringify(small), text));
    insp.load(weights);  // the model sections agree; optim (the batch) is the run's own
    expect(insp.sample('ROMEO:', 40, 0.8, 0, 11)).toBe(trainer.sample('ROMEO:', 40, 0.8, 0, 11));
    expect(Array.from(insp.attention('To be, or not', 1))).toEqual(Array.from(trainer.attention('To be, or not', 1)));
    expect(() => insp.step(1)).toThrowError(/no training text/);
    // its own save carries the big config: that checkpoint is what the page is handed
    const bigCkpt = insp.save();
    expect(JSON.parse(mod.checkpointInfo(bigCkpt).config).optim.batch).toBe(4096);
    expect(() => mod.Trainer.inspector(JSON.stringify(spiral()), 'ab')).toThrowError(/only a gpt checkpoint/);
    for (const t of [insp, trainer]) t.delete();
  });

  it('EngineClient: without inspect the run is refused with the cap message; with the vocabulary it builds, inspection only', async () => {
    const created = { count: 0 };
    const budget = new MemoryBudget(DEFAULT_BUDGET_BYTES);
    await expect(EngineClient.create(big, { worker: fakeWorker(created), budget, text })).rejects.toThrowError(/over the (memory )?cap/);
    expect(budget.inUse).toBe(0);
    const mod = await loadResnormNode();
    const vocab = new mod.Trainer(JSON.stringify(small), text, '').vocab();
    const c = await EngineClient.create(big, { worker: fakeWorker(created), budget, inspect: vocab });
    expect(c.info.inspectOnly).toBe(true);
    expect(budget.inUse).toBe(mod.estimateInspectBytes(JSON.stringify(big), [...vocab].length));
    expect((await c.sample('', 20, 0.8, 0, 3)).length).toBeGreaterThan(0);
    await expect(c.step(1)).rejects.toThrowError(/no training text/);
    c.terminate();
    expect(budget.inUse).toBe(0);
  });
});
