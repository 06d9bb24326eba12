// When the page redraws (issue 10, structure: the draw scheduler out of app.ts). A change marks the
// picture dirty; the next animation frame redraws the loss chart and toolbar, at most every
// intervalMs; the other panels' redraws are spread over the frames after it, a few canvases per frame
// and stopping once a frame's script passes budgetMs: with four runs, a dozen canvases changing in one
// frame made that frame's script, paint and compositor commit together pass 50 ms on a 2-core machine
// (the workers take the cores). While paused, every panel is redrawn at once, so the picture is whole.

/** A panel redraw; true when it changed a canvas (those are what a frame is limited by). */
export type PanelJob = () => boolean;

export interface FrameEnv {
  raf(cb: () => void): number;
  cancel(id: number): void;
  now(): number;
}

export interface FrameLimits { intervalMs: number; canvasesPerFrame: number; budgetMs: number }

export const DEFAULT_LIMITS: FrameLimits = { intervalMs: 66, canvasesPerFrame: 2, budgetMs: 8 };

const browserEnv: FrameEnv = {
  raf: (cb) => requestAnimationFrame(cb),
  cancel: (id) => cancelAnimationFrame(id),
  now: () => performance.now(),
};

export class FrameScheduler {
  private dirty = true;
  private raf = 0;
  private lastDraw = -Infinity;
  private queue: PanelJob[] = [];
  private dead = false;
  /** How many times the main redraw ran (the web benchmark reads it). */
  draws = 0;

  /** `redraw` draws the loss chart and toolbar and hands its panel jobs to queuePanels. */
  constructor(private readonly redraw: () => void, private readonly limits: FrameLimits = DEFAULT_LIMITS,
    private readonly env: FrameEnv = browserEnv) {}

  /** Something changed: redraw at the next frame the interval allows. */
  invalidate(): void {
    this.dirty = true;
    this.schedule();
  }

  /** The panels' redraws after a main redraw: at once (not training), else spread over frames; a new
   *  round starts only once the last one is through, so every panel gets its turn. */
  queuePanels(jobs: PanelJob[], spread: boolean): void {
    if (!spread) {
      this.queue = [];
      for (const job of jobs) job();
    } else if (!this.queue.length) {
      this.queue = jobs;
    }
  }

  /** Drops waiting panel redraws (their charts were removed). */
  clear(): void { this.queue = []; }

  get pending(): number { return this.queue.length; }

  destroy(): void {
    this.dead = true;
    this.env.cancel(this.raf);
    this.queue = [];
  }

  private schedule(): void {
    if (this.raf || this.dead) return;
    this.raf = this.env.raf(() => this.frame());
  }

  private frame(): void {
    this.raf = 0;
    if (this.dead || (!this.dirty && !this.queue.length)) return;
    const start = this.env.now();
    let canvases = 0;
    if (this.dirty && start - this.lastDraw >= this.limits.intervalMs) {
      this.lastDraw = start;
      this.dirty = false;
      this.redraw();
      this.draws++;
      // This frame already has the loss chart and the toolbar's text (a relayout): the panels wait.
      canvases = this.limits.canvasesPerFrame;
    }
    while (this.queue.length && canvases < this.limits.canvasesPerFrame && this.env.now() - start < this.limits.budgetMs) {
      if (this.queue.shift()!()) canvases++;
    }
    if (this.dirty || this.queue.length) this.schedule();
  }
}
