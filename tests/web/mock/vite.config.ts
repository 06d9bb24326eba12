// Dev-only build of the site with the mock engine (tests/web/mock/client.ts) in place of the wasm
// one, for looking at the layout when the engine is not built. `npx vite build -c tests/web/mock/vite.config.ts`
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vite';
import base from '../../../web/vite.config';

const mock = fileURLToPath(new URL('./client.ts', import.meta.url));
export default mergeConfig(base, defineConfig({
  resolve: { alias: [{ find: /^\.\/engine\/client$/, replacement: mock }] },
  build: { outDir: fileURLToPath(new URL('../../../test-results/mock-dist', import.meta.url)) },
}));
