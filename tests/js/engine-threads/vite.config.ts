// Vite build of the engine threads test page (tests/js/engine.threads.browser.test.ts builds it into build/wasm/threads-test).
import { enginePageConfig } from '../engine-page-vite';

export default enginePageConfig(import.meta.url, 'threads-test');
