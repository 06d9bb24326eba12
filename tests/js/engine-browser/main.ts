// Browser side of tests/js/engine.browser.test.ts: a real module Worker per EngineClient, the wasm fetched
// from /wasm/, 100 steps of mlp-spiral streamed as events, then a trap and a restart. Results go to window.
import { EngineClient } from '../../../web/src/engine/client';
import type { StepStats } from '../../../web/src/engine/types';

type Result = { before: number; after: number; losses: number[]; messages: number; stopped: string; evals: number; crashed: string; afterRestart: number;
  twoAtOnce: number[]; params: number; error?: string };

async function main(): Promise<Result> {
  const config = {
    // cpp/presets/mlp-spiral.json, cut to 100 steps
    model: { kind: 'mlp' as const, depth: 4, width: 32, activation: 'relu' as const, residual: 'identity' as const,
      norm: 'layernorm' as const, placement: 'pre' as const },
    data: { name: 'spiral', noise: 0.1, samples: 1000 },
    optim: { lr: 0.01, warmup: 20, schedule: 'cosine' as const, min_lr: 0.001, batch: 32, steps: 100 }, eval: { every: 50 }, seed: 1337,
  };
  const engine = await EngineClient.create(config, { wasmUrl: 'wasm/resnorm.wasm' });
  const before = (await engine.evaluate()).trainLoss;
  const losses: number[] = [];
  let messages = 0, evals = 0;
  engine.on('stats', (batch: StepStats[]) => { messages++; for (const s of batch) losses.push(s.loss); });
  engine.on('eval', () => { evals++; });
  const stopped = await new Promise<string>((resolve) => {
    engine.on('stopped', (reason, message) => resolve(`${reason}: ${message}`));
    engine.run();
  });
  const after = (await engine.evaluate()).trainLoss;
  // A trap in the worker is reported, and a restart gives a fresh engine without reloading the page.
  const crashed = await new Promise<string>((resolve) => {
    engine.on('crashed', resolve);
    engine.debugTrap().catch(() => undefined);
  });
  await engine.restart();
  const afterRestart = (await engine.step(1))[0].step;
  // Two engines at once, each in its own worker.
  const other = await EngineClient.create({ ...config, seed: 7 }, { wasmUrl: 'wasm/resnorm.wasm' });
  const both = await Promise.all([engine.step(20), other.step(20)]);
  engine.terminate();
  other.terminate();
  return { before, after, losses, messages, stopped, evals, crashed, afterRestart, twoAtOnce: both.map((s) => s.at(-1)!.step),
    params: engine.info.params };
}

const w = window as unknown as { __result?: Result };
main().then(
  (r) => { w.__result = r; document.getElementById('out')!.textContent = JSON.stringify(r); },
  (e: unknown) => { w.__result = { error: String(e) } as Result; },
);
