// Types of node-loader.mjs (the plain-JS Node loader of the wasm engine).
export const defaultWasmPath: string;
export const defaultTextPath: string;
export const defaultDigitsPath: string;
/** Resolves to the embind module; for resnorm.wasm that is a ResnormModule (see ./wasm.ts). */
export function loadWasmModule<T = unknown>(wasmPath?: string, gluePath?: string): Promise<T>;
