// Vite build of the engine's browser test page (tests/js/engine.browser.test.ts builds it into build/wasm/browser-test).
import { enginePageConfig } from '../engine-page-vite';

export default enginePageConfig(import.meta.url, 'browser-test');
