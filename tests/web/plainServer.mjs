// A plain static file server for the embedding tests (issue 20): a blog host as most are, with no CSP,
// no COOP/COEP and no other special header. Options: `files` maps URL paths to local folders (the
// longest prefix wins, so a site can sit under a sub-path and the embed folder anywhere in it), `cors`
// adds Access-Control-Allow-Origin: * (the host of a script that other origins load), `headers` adds
// any others (e.g. a page's own CSP). Directory URLs serve their index.html. 127.0.0.1 only.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8', '.bin': 'application/octet-stream',
  '.xml': 'application/xml', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** Starts the server; resolves to { url (ending in /), origin, log (every path asked for, with its status), close() }. */
export async function plainServe({ files, cors = false, headers = {} }) {
  const mounts = Object.entries(files).map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : prefix + '/', resolve(dir)]).sort((a, b) => b[0].length - a[0].length);
  const log = [];
  const server = createServer(async (req, res) => {
    const extra = { ...headers, ...(cors ? { 'Access-Control-Allow-Origin': '*' } : {}) };
    let path;
    try { path = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { res.writeHead(400, extra).end('bad request'); return; }
    const mount = mounts.find(([p]) => path.startsWith(p) || path + '/' === p);
    if (!mount) { log.push(`404 ${path}`); res.writeHead(404, extra).end('not found'); return; }
    const root = mount[1];
    let file = normalize(join(root, path.slice(mount[0].length)));
    if (file !== root && !file.startsWith(root + sep)) { res.writeHead(403, extra).end('forbidden'); return; }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      log.push(`200 ${path}`);
      res.writeHead(200, { ...extra, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length }).end(body);
    } catch {
      log.push(`404 ${path}`);
      if (!res.headersSent) res.writeHead(404, extra).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { url: origin + '/', origin, log, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}
