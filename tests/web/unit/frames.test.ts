// The draw scheduler (web/src/frames.ts) on a fake clock and fake animation frames: redraws at most
// every intervalMs, panels spread a few canvases per frame while training, all at once when paused,
// a new round of panels only after the last, and nothing after destroy.
import { describe, expect, it } from 'vitest';
import { FrameScheduler, type FrameEnv } from '../../../web/src/frames';

function fake() {
  let t = 0, next = 1;
  const cbs = new Map<number, () => void>();
  const env: FrameEnv = { raf: (cb) => { const id = next++; cbs.set(id, cb); return id; }, cancel: (id) => { cbs.delete(id); }, now: () => t };
  /** Advances the clock by ms and runs the frame callbacks due (one animation frame). */
  const tick = (ms = 16) => { t += ms; const due = [...cbs.values()]; cbs.clear(); due.forEach((cb) => cb()); };
  return { env, tick, pending: () => cbs.size, advance: (ms: number) => { t += ms; } };
}

describe('frame scheduler', () => {
  it('redraws on the next frame, then at most every intervalMs however often it is invalidated', () => {
    const f = fake();
    let draws = 0;
    const s = new FrameScheduler(() => { draws++; }, { intervalMs: 66, canvasesPerFrame: 2, budgetMs: 8 }, f.env);
    s.invalidate();
    f.tick();
    expect(draws).toBe(1);
    for (let i = 0; i < 10; i++) { s.invalidate(); f.tick(16); }  // 160 ms of frames, invalidated every frame
    expect(draws).toBe(1 + Math.floor(160 / 66));
    expect(s.draws).toBe(draws);
  });

  it('while training spreads panel redraws (two canvases a frame, none in the frame of the main redraw); paused, all at once', () => {
    const f = fake();
    const done: number[] = [];
    const jobs = () => Array.from({ length: 6 }, (_, i) => () => { done.push(i); return true; });
    let training = true;
    const s: FrameScheduler = new FrameScheduler(() => s.queuePanels(jobs(), training), undefined, f.env);
    s.invalidate();
    f.tick();
    expect(done).toEqual([]);          // the main redraw's frame does no panel
    f.tick();
    expect(done).toEqual([0, 1]);
    s.invalidate();                    // a redraw while a round is under way does not restart it
    f.tick(70);
    expect(done).toEqual([0, 1]);      // (and its frame does no panel)
    f.tick();
    expect(done).toEqual([0, 1, 2, 3]);
    f.tick();
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.pending).toBe(0);
    training = false;
    done.length = 0;
    s.invalidate();
    f.tick(70);
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);  // paused: the whole picture in one frame
  });

  it('stops a frame once its script passes the budget, and does nothing after destroy', () => {
    const f = fake();
    let ran = 0;
    const slow = () => { ran++; f.advance(10); return false; };  // not a canvas, but 10 ms each
    const s: FrameScheduler = new FrameScheduler(() => s.queuePanels([slow, slow, slow], true), { intervalMs: 0, canvasesPerFrame: 2, budgetMs: 8 }, f.env);
    s.invalidate();
    f.tick();
    expect(ran).toBe(0);
    f.tick();
    expect(ran).toBe(1);               // over budget after the first
    s.destroy();
    f.tick();
    s.invalidate();
    f.tick();
    expect(ran).toBe(1);
    expect(f.pending()).toBe(0);
  });
});
