// Plain-JS Node loader of the wasm engine (usable without a TypeScript toolchain, e.g. by bench/wasm/):
// imports the ES-module glue next to a .wasm and instantiates it from the file's bytes.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const defaultWasmPath = resolve(repoRoot, 'web/public/wasm/resnorm.wasm');
export const defaultTextPath = resolve(repoRoot, 'web/public/data/tinyshakespeare.txt');
export const defaultDigitsPath = resolve(repoRoot, 'web/public/data/digits.bin');

// Emscripten 3.1.6's ES-module glue still reads the CommonJS globals `require` and `__dirname` on Node, and
// cannot fetch file: URLs: provide the globals (only where missing) and hand over the .wasm bytes directly.
export async function loadWasmModule(wasmPath = defaultWasmPath, gluePath = wasmPath.replace(/\.wasm$/, '.mjs')) {
  const g = globalThis;
  if (typeof g.require === 'undefined') g.require = createRequire(import.meta.url);
  if (typeof g.__dirname === 'undefined') g.__dirname = dirname(wasmPath);
  const glue = await import(/* @vite-ignore */ pathToFileURL(gluePath).href);
  const bytes = await readFile(wasmPath);
  return glue.default({ wasmBinary: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
}
