// How the machine's threads are shared by the runs that train at once (issue 13): compare mode trains up to
// four runs side by side, each engine in its own worker with its own pool, and without a split four gpt
// runs on an 8-core machine would start 4 x 8 threads for 8 cores. Pure: the session (../session.ts)
// applies the result to each live engine through EngineClient.setThreads whenever the set of training
// runs changes; results do not depend on the count (cpp/core/parallel.h), so a change between rounds
// changes the speed only.
import { MAX_THREADS } from './wasm';

export type RunKind = 'mlp' | 'gpt' | 'cnn';

/** Machines with more cores than this keep one for the page's main thread (charts, input). */
export const RESERVE_ABOVE = 4;

/**
 * Threads for each of the runs training at once, in their order. The rule:
 * - an mlp run takes 1 (its step is a fraction of a millisecond, bound by call overhead: engineFactory.ts
 *   loads it without a pool);
 * - the gpt and cnn runs share what is left of `hardwareConcurrency` after the mlp runs, and after one core
 *   for the page's main thread when the machine has more than RESERVE_ABOVE cores (on 2 or 4 cores that
 *   core would cost a single run half or a quarter of its speed, and the main thread's work between rounds
 *   is small);
 * - equal shares; the threads left over go one each to the costliest runs (`costs`, e.g. parameter counts;
 *   ties to the earlier run), so a compare of a wide and a narrow net gives the wide one the extra thread;
 * - never below 1 (a run always trains, even when the runs outnumber the cores) and never above `cap`
 *   (MAX_THREADS, the core's kMaxThreads).
 * So the threads of all runs add up to at most max(hardwareConcurrency - reserve, number of runs).
 * A hardwareConcurrency that is missing or not a positive number counts as 1.
 */
export function threadsPerRun(hardwareConcurrency: number, kinds: readonly RunKind[], costs: readonly number[] = [],
  cap: number = MAX_THREADS): number[] {
  const cores = Number.isFinite(hardwareConcurrency) && hardwareConcurrency >= 1 ? Math.floor(hardwareConcurrency) : 1;
  const out = kinds.map(() => 1);
  const heavy = kinds.map((k, i) => (k === 'mlp' ? -1 : i)).filter((i) => i >= 0);
  if (!heavy.length) return out;
  const reserve = cores > RESERVE_ABOVE ? 1 : 0;
  const left = Math.max(0, cores - reserve - (kinds.length - heavy.length));
  const share = Math.floor(left / heavy.length);
  let extra = left - share * heavy.length;
  const cost = (i: number) => (Number.isFinite(costs[i]) ? costs[i] : 0);
  // stable: equal costs keep run order
  const byCost = [...heavy].sort((a, b) => cost(b) - cost(a) || a - b);
  for (const i of byCost) {
    out[i] = share + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
  }
  const top = Math.max(1, Math.floor(cap));
  return out.map((n) => Math.max(1, Math.min(top, n)));
}
