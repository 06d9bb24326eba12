// The Vite config shared by the engine's browser test pages (engine-browser/, engine-threads/): the page's
// folder is the root, the build goes to build/wasm/<outName>.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vite';

export function enginePageConfig(configUrl: string, outName: string): UserConfig {
  const here = fileURLToPath(new URL('.', configUrl));
  return defineConfig({
    root: here,
    base: './',
    publicDir: false,
    logLevel: 'warn',
    worker: { format: 'es' },
    build: {
      outDir: resolve(here, '../../../build/wasm', outName),
      emptyOutDir: true,
      target: 'es2022',
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
    },
  });
}
