// The worker bootstrap's decisions (engine/startWorker.ts): a blob: bootstrap only for a script on another
// origin than the page's, and its source imports exactly that script. The browser side is covered by
// tests/web/e2e/embedfolder.e2e.test.ts (two loopback origins).
import { describe, expect, it } from 'vitest';
import { bootstrapSource, needsBootstrap } from '../../../web/src/engine/startWorker';

describe('startWorker', () => {
  it('bootstraps only scripts from another origin (port and scheme count)', () => {
    expect(needsBootstrap('https://blog.example/r/assets/worker-1.js', 'https://blog.example')).toBe(false);
    expect(needsBootstrap('https://cdn.example/r/assets/worker-1.js', 'https://blog.example')).toBe(true);
    expect(needsBootstrap('http://127.0.0.1:8001/w.js', 'http://127.0.0.1:8000')).toBe(true);
    expect(needsBootstrap('http://blog.example/w.js', 'https://blog.example')).toBe(true);
    // no page origin (Node) or an opaque one: start directly, as before
    expect(needsBootstrap('https://cdn.example/w.js', undefined)).toBe(false);
    expect(needsBootstrap('https://cdn.example/w.js', 'null')).toBe(false);
  });

  it('imports the script by its full URL, quoted safely', () => {
    expect(bootstrapSource('https://cdn.example/a b/w.js')).toBe('import "https://cdn.example/a b/w.js";\n');
    expect(bootstrapSource('https://x.example/"q".js')).toBe('import "https://x.example/\\"q\\".js";\n');
  });
});
