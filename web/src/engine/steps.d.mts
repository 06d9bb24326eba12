// Types of steps.mjs (unpacking the wasm Trainer's per-step statistics).
import type { StepStats } from './types';

export const STEP_HEADER: number;
export const STEP_FIELDS: number;
export function unpackSteps(view: Float64Array, message: (i: number) => string): StepStats[];
