#!/usr/bin/env node
// A small static file server for the built site (web/dist) on 127.0.0.1, sending the strict
// Content-Security-Policy the playground must live under. Used by `npm start` and the browser tests.
// Also sends COOP/COEP (cross-origin isolated), and survives read errors and aborted requests.
//   node scripts/serve.mjs [--dir web/dist] [--port 0] [--csp strict|issue|none] [--no-isolation]
// --no-isolation (isolation: false) leaves COOP/COEP out: a host page as most blogs serve it, where the
// engine must fall back to its single-thread build (issue 13).
import { createServer } from 'node:http';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
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

/** Sent with every answer: the CSP, and cross-origin isolation (COOP/COEP) for SharedArrayBuffer and precise timers. */
export const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The content type of a file name (own keys only: `x.constructor` is no type). */
const typeOf = (file) => { const e = extname(file); return Object.hasOwn(TYPES, e) ? TYPES[e] : 'application/octet-stream'; };

export function serve({ dir, port = 0, csp = 'strict', log = false, isolation = true } = {}) {
  const root = resolve(dir);
  const base = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...(isolation ? ISOLATION : {}) };
  if (Object.hasOwn(CSP, csp) && CSP[csp]) base['Content-Security-Policy'] = CSP[csp];
  const fail = (res, code, text) => {
    if (res.headersSent) { res.destroy(); return; }
    res.writeHead(code, { ...base, 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
  };
  // Never throws out of the handler: every error (stat, open, read, an aborted request) ends in an
  // answer or a closed socket, and the file is closed in every case (pipeline destroys both ends).
  const handle = async (req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      fail(res, 400, 'bad request');
      return;
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) { fail(res, 403, 'forbidden'); return; }
    let st;
    try {
      st = await stat(file);
      if (st.isDirectory()) { file = join(file, 'index.html'); st = await stat(file); }
    } catch (e) {
      const code = e?.code === 'ENOENT' || e?.code === 'ENOTDIR' || e?.code === 'ENAMETOOLONG' ? 404 : 500;
      fail(res, code, code === 404 ? 'not found' : 'cannot read');
      if (log) console.log(code, path);
      return;
    }
    if (!st.isFile()) { fail(res, 404, 'not found'); if (log) console.log(404, path); return; }
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...base, 'Content-Type': typeOf(file), 'Content-Length': st.size }).end();
      return;
    }
    let fh;
    try {
      fh = await open(file, 'r');  // opened before the head is sent, so EMFILE/EACCES get an answer
    } catch (e) {
      fail(res, e?.code === 'EMFILE' || e?.code === 'ENFILE' ? 503 : 500, 'cannot read');
      if (log) console.log(500, path, e?.code);
      return;
    }
    if (res.destroyed || req.destroyed) { await fh.close().catch(() => {}); return; }
    res.writeHead(200, { ...base, 'Content-Type': typeOf(file), 'Content-Length': st.size });
    try {
      await pipeline(fh.createReadStream({ autoClose: true }), res);
      if (log) console.log(200, path);
    } catch (e) {
      // aborted by the client, or a read error mid-file: the socket is closed, the file too
      if (!res.destroyed) res.destroy();
      if (log) console.log('aborted', path, e?.code);
    } finally {
      await fh.close().catch(() => {});
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      try { fail(res, 500, 'error'); } catch { res.destroy(); }
      if (log) console.log(500, req.url, e?.message);
    });
  });
  // A socket error (reset by the peer) is no reason to stop; EMFILE on accept is retried by Node.
  server.on('clientError', (_e, socket) => { socket.destroy(); });
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
  const { url } = await serve({ dir: arg('dir', 'web/dist'), port: Number(arg('port', '8080')), csp: arg('csp', 'strict'), log: process.argv.includes('--log'),
    isolation: !process.argv.includes('--no-isolation') });
  console.log(`ResNorm Playground: ${url}  (Ctrl+C to stop)`);
}
