// The page's memory budget (web/src/engine/budget.ts): its size from navigator.deviceMemory, exact
// accounting of reservations, and one budget per document whichever bundle asks.
import { describe, expect, it } from 'vitest';
import { BudgetError, DEFAULT_BUDGET_BYTES, MemoryBudget, budgetFor, documentBudget, mib } from '../../../web/src/engine/budget';

const GiB = 1024 ** 3;

describe('memory budget', () => {
  it('is 2 GiB, or half of a small device', () => {
    expect(DEFAULT_BUDGET_BYTES).toBe(2 * GiB);
    expect(budgetFor(undefined)).toBe(2 * GiB);
    expect(budgetFor(8)).toBe(2 * GiB);
    expect(budgetFor(4)).toBe(2 * GiB);
    expect(budgetFor(2)).toBe(1 * GiB);
    expect(budgetFor(0.5)).toBe(GiB / 4);
    for (const bad of [0, -1, NaN, Infinity]) expect(budgetFor(bad)).toBe(2 * GiB);
  });

  it('counts reservations exactly and refuses what does not fit, taking nothing', () => {
    const b = new MemoryBudget(100);
    const r1 = b.reserve(60);
    expect(b.inUse).toBe(60);
    expect(() => b.reserve(41)).toThrowError(BudgetError);
    try { b.reserve(41); } catch (e) { expect((e as BudgetError).info).toEqual({ need: 41, inUse: 60, limit: 100 }); }
    expect(b.inUse).toBe(60);
    const r2 = b.reserve(40);  // exactly full
    expect(b.inUse).toBe(100);
    r1.release();
    r1.release();  // idempotent
    expect(b.inUse).toBe(40);
    r2.release();
    expect(b.inUse).toBe(0);
    expect(() => b.reserve(NaN)).toThrowError(/bad memory estimate/);
    expect(() => b.reserve(-1)).toThrowError(/bad memory estimate/);
  });

  it('is one per document (a registered symbol on globalThis)', () => {
    const a = documentBudget();
    expect(documentBudget()).toBe(a);
    expect((globalThis as unknown as Record<symbol, unknown>)[Symbol.for('resnorm.memoryBudget')]).toBe(a);
  });

  it('says sizes in MiB or GiB', () => {
    expect(mib(3 * 1024 ** 2 + 1)).toBe('4 MiB');
    expect(mib(1.5 * GiB)).toBe('1.5 GiB');
  });
});
