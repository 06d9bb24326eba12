// The unpacking of the wasm Trainer's step(n) result (web/src/engine/steps.mjs), on a view laid out by
// hand as cpp/wasm/bindings.cpp writes it: header (n, depth, entropies), then per step the scalars and
// the per-block fields.
import { describe, expect, it } from 'vitest';
import { STEP_FIELDS, STEP_HEADER, unpackSteps } from '../../../web/src/engine/steps.mjs';

/** n steps of depth L and E entropies; step i's field f block b holds 100*i + 10*f + b (+0.5 for ms). */
function packed(n: number, L: number, E: number, divergedAt = -1): Float64Array {
  const per = 3 * L + E, stride = STEP_FIELDS + per;
  const v = new Float64Array(STEP_HEADER + n * stride);
  v[0] = n; v[1] = L; v[2] = E;
  for (let i = 0; i < n; i++) {
    const o = STEP_HEADER + i * stride;
    v[o] = i + 1; v[o + 1] = 2 + i; v[o + 2] = 1e-3; v[o + 3] = 0.25 * i; v[o + 4] = i + 0.5; v[o + 5] = i === divergedAt ? 1 : 0;
    for (let f = 0; f < 4; f++) {
      const len = f < 3 ? L : E;
      for (let b = 0; b < len; b++) v[o + STEP_FIELDS + f * L + b] = 100 * i + 10 * f + b;
    }
  }
  return v;
}

describe('unpackSteps', () => {
  it('copies every step out of the view: scalars, the four per-block fields, the divergence message', () => {
    const view = packed(3, 4, 2, 1);
    const steps = unpackSteps(view, (i) => `step ${i} diverged`);
    expect(steps.map((s) => [s.step, s.loss, s.gradNorm, s.ms, s.diverged, s.divergence])).toEqual([
      [1, 2, 0, 0.5, false, ''], [2, 3, 0.25, 1.5, true, 'step 1 diverged'], [3, 4, 0.5, 2.5, false, '']]);
    for (const [i, s] of steps.entries()) {
      expect(Array.from(s.blockGradNorm)).toEqual([0, 1, 2, 3].map((b) => 100 * i + b));
      expect(Array.from(s.blockActRms)).toEqual([0, 1, 2, 3].map((b) => 100 * i + 10 + b));
      expect(Array.from(s.updateRatio)).toEqual([0, 1, 2, 3].map((b) => 100 * i + 20 + b));
      expect(Array.from(s.attnEntropy)).toEqual([0, 1].map((b) => 100 * i + 30 + b));
    }
    view.fill(-1);  // the wasm memory is reused by the next call: the stats must not change with it
    expect(steps[2].blockActRms[3]).toBe(213);
    expect(steps[0].loss).toBe(2);
  });

  it('puts all steps of a call in one buffer, so a worker transfers one buffer per reply', () => {
    const steps = unpackSteps(packed(50, 8, 0), () => '');
    const buffers = new Set(steps.flatMap((s) => [s.blockGradNorm, s.blockActRms, s.updateRatio, s.attnEntropy].map((a) => a.buffer)));
    expect(buffers.size).toBe(1);
    // and the buffer moves to the receiver whole, the views still right after the transfer
    const got = structuredClone(steps, { transfer: [...buffers] as ArrayBuffer[] });
    expect(steps[0].blockGradNorm.length).toBe(0);  // detached here
    expect(Array.from(got[49].updateRatio)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((b) => 4900 + 20 + b));
  });
});
