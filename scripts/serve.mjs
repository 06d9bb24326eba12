#!/usr/bin/env node
// A small static file server for the built site (web/dist) on 127.0.0.1, sending the strict
// Content-Security-Policy the playground must live under. Used by `npm start` and the browser tests.
//   node scripts/serve.mjs [--dir web/dist] [--port 0] [--csp strict|issue|none]
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.map': 'application/json', '.md': 'text/markdown; charset=utf-8',
};

/** The issue's policy, and a stricter one that also refuses other origins and inline styles. */
export const CSP = {
  issue: "script-src 'self' 'wasm-unsafe-eval'",
  strict: "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'self'",
  none: '',
};

export function serve({ dir, port = 0, csp = 'strict', log = false } = {}) {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) { res.writeHead(403).end('forbidden'); return; }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const st = statSync(file);
      const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': st.size, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };
      if (CSP[csp]) headers['Content-Security-Policy'] = CSP[csp];
      res.writeHead(200, headers);
      if (req.method === 'HEAD') { res.end(); return; }
      createReadStream(file).pipe(res);
      if (log) console.log(200, path);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      if (log) console.log(404, path);
    }
  });
  return new Promise((ok, fail) => {
    const done = () => ok({ server, url: `http://127.0.0.1:${server.address().port}/` });
    server.once('error', (e) => {
      // a busy fixed port: take any free one rather than fail
      if (e.code === 'EADDRINUSE' && port !== 0) server.listen(0, '127.0.0.1', done);
      else fail(e);
    });
    server.listen(port, '127.0.0.1', done);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
  const { url } = await serve({ dir: arg('dir', 'web/dist'), port: Number(arg('port', '8080')), csp: arg('csp', 'strict'), log: process.argv.includes('--log') });
  console.log(`ResNorm Playground: ${url}  (Ctrl+C to stop)`);
}
