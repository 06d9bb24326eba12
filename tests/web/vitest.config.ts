// Vitest configuration of the web unit tests (state/URL, comparison, export formats, session).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['tests/web/unit/**/*.test.ts'],
    environment: 'node',
  },
});
