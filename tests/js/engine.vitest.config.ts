// Vitest configuration of the engine tests (wasm API in Node, worker protocol, native parity, Chromium).
// `npm run test:js` runs everything but the browser test; `npm run test:browser` runs only that one.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['tests/js/engine*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // The machine has 2 cores; the tests are CPU-bound.
    fileParallelism: false,
  },
});
