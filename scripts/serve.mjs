#!/usr/bin/env node
// A small static file server for the built site (web/dist) on 127.0.0.1, sending the strict
// Content-Security-Policy the playground must live under. Used by `npm start` and the browser tests.
// Also sends COOP/COEP (cross-origin isolated), and survives read errors and aborted requests.
//   node scripts/serve.mjs [--dir web/dist] [--port 0] [--csp strict|issue|none] [--no-isolation]
// --no-isolation (isolation: false) leaves COOP/COEP out: a host page as most blogs serve it, where the
// engine must fall back to its single-thread build (issue 13).
// Hostile clients (issue 21): paths resolve with realpath and must stay inside the root (no symlink out);
// GET and HEAD only (405 with Allow otherwise); single byte ranges answered 206 (RFC 9110 section 14), others
// the whole file; header, request and idle timeouts and a connection cap; a busy port is an error (exit 1
// with a message) unless --port 0 asks for any free one.
import { createServer } from 'node:http';
import { realpathSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
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

/** Limits against slow or idle clients (milliseconds, connections); tests pass smaller ones. */
export const LIMITS = { headersTimeout: 10_000, requestTimeout: 30_000, idleTimeout: 30_000, keepAliveTimeout: 5_000, maxConnections: 256 };

/** A single byte range of a file of `size` bytes (RFC 9110 section 14.1.2): {start, end} inclusive, 'unsatisfiable',
 *  or null to send the whole file (no Range, another unit, several ranges, or a malformed header). */
export function parseRange(header, size) {
  if (typeof header !== 'string') return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {  // the last N bytes
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;  // invalid: ignored, as the RFC allows
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

export function serve({ dir, port = 0, csp = 'strict', log = false, isolation = true, limits = {} } = {}) {
  const lim = { ...LIMITS, ...limits };
  const root = realpathSync(resolve(dir));  // the root itself may be a link; what it points to is the boundary
  const base = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...(isolation ? ISOLATION : {}) };
  if (Object.hasOwn(CSP, csp) && CSP[csp]) base['Content-Security-Policy'] = CSP[csp];
  const fail = (res, code, text) => {
    if (res.headersSent) { res.destroy(); return; }
    res.writeHead(code, { ...base, 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
  };
  // Never throws out of the handler: every error (stat, open, read, an aborted request) ends in an
  // answer or a closed socket, and the file is closed in every case (pipeline destroys both ends).
  const handle = async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...base, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed');
      if (log) console.log(405, req.method, req.url);
      return;
    }
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
    // The file's real path (every link followed) must lie inside the root: a link out of it is not served.
    let real;
    try {
      real = await realpath(file);
    } catch {
      fail(res, 404, 'not found');
      return;
    }
    if (real !== root && !real.startsWith(root + sep)) { fail(res, 403, 'forbidden'); if (log) console.log(403, path); return; }
    // If-Range names a version we cannot compare (no ETags here): the whole file, as RFC 9110 13.1.5 asks.
    const range = req.headers['if-range'] === undefined ? parseRange(req.headers.range, st.size) : null;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...base, 'Content-Range': `bytes */${st.size}`, 'Accept-Ranges': 'bytes', 'Content-Type': 'text/plain; charset=utf-8' })
        .end('range not satisfiable');
      return;
    }
    const head = { ...base, 'Content-Type': typeOf(file), 'Accept-Ranges': 'bytes' };
    const length = range ? range.end - range.start + 1 : st.size;
    if (range) head['Content-Range'] = `bytes ${range.start}-${range.end}/${st.size}`;
    if (req.method === 'HEAD') {
      res.writeHead(range ? 206 : 200, { ...head, 'Content-Length': length }).end();
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
    res.writeHead(range ? 206 : 200, { ...head, 'Content-Length': length });
    try {
      await pipeline(fh.createReadStream(range ? { autoClose: true, start: range.start, end: range.end } : { autoClose: true }), res);
      if (log) console.log(200, path);
    } catch (e) {
      // aborted by the client, or a read error mid-file: the socket is closed, the file too
      if (!res.destroyed) res.destroy();
      if (log) console.log('aborted', path, e?.code);
    } finally {
      await fh.close().catch(() => {});
    }
  };
  // connectionsCheckingInterval: how often Node enforces headersTimeout and requestTimeout (default 30 s, which
  // would let a slow client hold its headers open three times longer than headersTimeout says).
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res).catch((e) => {
      try { fail(res, 500, 'error'); } catch { res.destroy(); }
      if (log) console.log(500, req.url, e?.message);
    });
  });
  // A socket error (reset by the peer) is no reason to stop; EMFILE on accept is retried by Node.
  server.on('clientError', (_e, socket) => { socket.destroy(); });
  // Slow and idle clients: the headers must arrive within headersTimeout, the whole request within
  // requestTimeout; a socket with no traffic either way for idleTimeout (a client that stops reading a
  // response) is destroyed (Node destroys timed-out sockets when no 'timeout' listener is set); at most
  // maxConnections at once, the next ones are closed on accept.
  server.headersTimeout = lim.headersTimeout;
  server.requestTimeout = lim.requestTimeout;
  server.keepAliveTimeout = lim.keepAliveTimeout;
  server.timeout = lim.idleTimeout;
  server.maxConnections = lim.maxConnections;
  return new Promise((ok, fail) => {
    server.once('error', (e) => {
      fail(e.code === 'EADDRINUSE'
        ? Object.assign(new Error(`port ${port} on 127.0.0.1 is in use (another server?): stop it, or give another --port (PORT=...), or --port 0 for any free one`), { code: e.code })
        : e);
    });
    server.listen(port, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
  const portArg = arg('port', '8080');
  const port = Number(portArg);
  if (!/^\d+$/.test(portArg) || port > 65535) {
    console.error(`serve: --port must be an integer in 0..65535 (0: any free port), got "${portArg}"`);
    process.exit(2);
  }
  try {
    const { url } = await serve({ dir: arg('dir', 'web/dist'), port, csp: arg('csp', 'strict'), log: process.argv.includes('--log'),
      isolation: !process.argv.includes('--no-isolation') });
    console.log(`ResNorm Playground: ${url}  (Ctrl+C to stop)`);
  } catch (e) {
    console.error(`serve: ${e?.code === 'ENOENT' ? `no folder ${arg('dir', 'web/dist')} to serve` : e?.message ?? e}`);
    process.exit(1);
  }
}
