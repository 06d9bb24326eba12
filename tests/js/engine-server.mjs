// Tiny static file server for the engine's browser test and benchmark: 127.0.0.1 only, a few mounted
// folders, and the strict Content-Security-Policy the engine must run under on every response.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

export const CSP = "script-src 'self' 'wasm-unsafe-eval'";

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json', '.txt': 'text/plain; charset=utf-8', '.css': 'text/css', '.map': 'application/json',
};

/**
 * mounts: URL prefix ('/', '/wasm/') -> folder. The longest matching prefix wins. csp: the header value (null: none).
 * isolate: also send COOP/COEP, so the page is cross-origin isolated (and its performance.now() is fine-grained).
 */
export function serveStatic(mounts, { csp = CSP, isolate = false } = {}) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = prefixes.find((p) => path.startsWith(p));
    const root = prefix && mounts[prefix];
    const file = root && normalize(join(root, path.slice(prefix.length)));
    let ok = false;
    try { ok = Boolean(file) && file.startsWith(normalize(root) + sep) && statSync(file).isFile(); } catch { ok = false; }  // no ../ escapes
    if (csp) res.setHeader('Content-Security-Policy', csp);
    if (isolate) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    res.setHeader('Cache-Control', 'no-store');
    if (!ok) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found'); return; }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
