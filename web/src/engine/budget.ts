// One memory budget per document, shared by every engine of every widget on the page (issue 9): a link
// such as `#mode=compare&runs=4&depth=256&width=256` (39 characters) would otherwise make a tab allocate
// about 4 GB. Each EngineClient reserves its Trainer's exact size (the core's estimate_bytes, which equals
// Trainer::bytes()) before the worker builds anything, and releases it when the worker goes away.
// The budget lives on globalThis under a registered symbol, so separately bundled widgets on one page
// (the custom element beside an inline playground) still share it.

/** The default budget: 2 GiB for all runs of all widgets in one document. */
export const DEFAULT_BUDGET_BYTES = 2 * 1024 ** 3;

/**
 * The budget for a device reporting `deviceMemoryGiB` (navigator.deviceMemory: 0.25 .. 8, rounded and
 * capped by the browser, absent in Firefox and Safari): half of it, never more than the default.
 */
export function budgetFor(deviceMemoryGiB: number | undefined): number {
  if (deviceMemoryGiB === undefined || !(deviceMemoryGiB > 0) || !Number.isFinite(deviceMemoryGiB)) return DEFAULT_BUDGET_BYTES;
  return Math.min(DEFAULT_BUDGET_BYTES, (deviceMemoryGiB * 1024 ** 3) / 2);
}

/** What an over-budget refusal carries, so the page can say it in the reader's language. */
export interface OverBudget { need: number; inUse: number; limit: number }

export class BudgetError extends Error {
  constructor(readonly info: OverBudget) {
    super(`engine: this run needs ${mib(info.need)} of memory, but the runs on this page may use ${mib(info.limit)} in all` +
      (info.inUse > 0 ? ` and ${mib(info.inUse)} is taken by other runs` : '') +
      ': make the model (depth, width, context) or the batch smaller, or use fewer runs');
    this.name = 'BudgetError';
  }
}

export function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.ceil(bytes / 1024 ** 2)} MiB`;
}

/** A held share of the budget; release() is idempotent. */
export interface Reservation { readonly bytes: number; release(): void }

export class MemoryBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  get inUse(): number { return this.used; }

  /** Takes `bytes` of the budget, or throws BudgetError (taking nothing) when they do not fit. */
  reserve(bytes: number): Reservation {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`engine: bad memory estimate ${bytes}`);
    if (bytes > this.limit - this.used) throw new BudgetError({ need: bytes, inUse: this.used, limit: this.limit });
    this.used += bytes;
    let held = true;
    return {
      bytes,
      release: () => {
        if (!held) return;
        held = false;
        this.used -= bytes;
      },
    };
  }
}

const KEY = Symbol.for('resnorm.memoryBudget');

/** This document's budget (created on first use from navigator.deviceMemory). */
export function documentBudget(): MemoryBudget {
  const g = globalThis as unknown as Record<symbol, MemoryBudget | undefined> & { navigator?: { deviceMemory?: number } };
  let b = g[KEY];
  if (!b) {
    b = new MemoryBudget(budgetFor(g.navigator?.deviceMemory));
    g[KEY] = b;
  }
  return b;
}
