// scripts/serve.mjs against hostile clients (issue 21): symlinks out of the root, methods other than GET
// and HEAD, byte ranges, slow and idle clients, a connection cap, a busy port. The server runs in this
// process with short limits (the defaults are seconds long); the busy-port case also runs the CLI.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { parseRange, serve } from '../../../scripts/serve.mjs';

const SERVER = resolve(process.env.SERVE_MJS ?? 'scripts/serve.mjs');
let dir = '';
let outside = '';
let server: import('node:http').Server;
let url = '';
let port = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rp-hostile-'));
  outside = mkdtempSync(join(tmpdir(), 'rp-outside-'));
  writeFileSync(join(dir, 'a.txt'), 'hello');
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(32 << 20, 7));
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  mkdirSync(join(dir, 'sub'));
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'leak.txt'));  // a file link out of the root
  symlinkSync(outside, join(dir, 'out'));                          // a folder link out of the root
  symlinkSync('/etc/passwd', join(dir, 'passwd'));
  symlinkSync(join(dir, 'a.txt'), join(dir, 'sub', 'inside.txt'));  // a link that stays inside
  ({ server, url } = await serve({ dir, port: 0, limits: { headersTimeout: 400, requestTimeout: 800, idleTimeout: 400, maxConnections: 8 } }));
  port = Number(new URL(url).port);
});
afterAll(() => { server?.close(); rmSync(dir, { recursive: true, force: true }); rmSync(outside, { recursive: true, force: true }); });

const send = (method: string, path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: string }>((ok, fail) => {
    const req = request(url + path, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => { body += d; });
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });

/** Resolves when the server closes this socket. */
const closed = (s: Socket) => new Promise<void>((ok) => { s.on('close', () => ok()); s.on('error', () => {}); });

describe('scripts/serve.mjs against hostile clients', () => {
  it('serves no file whose real path leaves the root (symlinks), and links that stay inside', async () => {
    for (const p of ['leak.txt', 'out/secret.txt', 'passwd']) {
      const r = await send('GET', p);
      expect(r.status, p).toBe(403);
      expect(r.body).not.toContain('secret');
      expect(r.body).not.toContain('root:');
    }
    expect((await send('HEAD', 'passwd')).status).toBe(403);
    const inside = await send('GET', 'sub/inside.txt');
    expect(inside.status).toBe(200);
    expect(inside.body).toBe('hello');
  });

  it('answers 405 with Allow: GET, HEAD to every other method', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'TRACE', 'PATCH', 'OPTIONS']) {
      const r = await send(m, 'a.txt');
      expect(r.status, m).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(r.body).not.toBe('hello');
    }
  });

  it('answers single byte ranges with 206 (RFC 9110 section 14), 416 past the end, the whole file otherwise', async () => {
    const cases: [string, number, string, string | undefined][] = [
      ['bytes=1-3', 206, 'ell', 'bytes 1-3/5'], ['bytes=3-', 206, 'lo', 'bytes 3-4/5'], ['bytes=-2', 206, 'lo', 'bytes 3-4/5'],
      ['bytes=0-99', 206, 'hello', 'bytes 0-4/5'], ['bytes=-99', 206, 'hello', 'bytes 0-4/5'], ['bytes=4-4', 206, 'o', 'bytes 4-4/5'],
      ['bytes=0-1,3-4', 200, 'hello', undefined], ['bytes=3-1', 200, 'hello', undefined], ['items=0-1', 200, 'hello', undefined],
      ['bytes=x-1', 200, 'hello', undefined],
    ];
    for (const [range, status, body, cr] of cases) {
      const r = await send('GET', 'a.txt', { Range: range });
      expect([r.status, r.body, r.headers['content-range']], range).toEqual([status, body, cr]);
      expect(r.headers['accept-ranges']).toBe('bytes');
      expect(Number(r.headers['content-length'])).toBe(body.length);
    }
    for (const range of ['bytes=5-', 'bytes=99-100', 'bytes=-0']) {
      const r = await send('GET', 'a.txt', { Range: range });
      expect([r.status, r.headers['content-range']], range).toEqual([416, 'bytes */5']);
    }
    const head = await send('HEAD', 'a.txt', { Range: 'bytes=1-3' });
    expect([head.status, head.headers['content-length'], head.body]).toEqual([206, '3', '']);
    expect((await send('GET', 'a.txt', { Range: 'bytes=1-3', 'If-Range': 'W/"x"' })).status).toBe(200);
    // A range deep in a large file: the bytes at that offset.
    const big = await send('GET', 'big.bin', { Range: 'bytes=33554430-' });
    expect([big.status, big.body]).toEqual([206, '\x07\x07']);
    // parseRange against the RFC's examples (section 14.1.2): a 10000-byte representation.
    expect(parseRange('bytes=0-499', 10000)).toEqual({ start: 0, end: 499 });
    expect(parseRange('bytes=9500-', 10000)).toEqual({ start: 9500, end: 9999 });
    expect(parseRange('bytes=-500', 10000)).toEqual({ start: 9500, end: 9999 });
  });

  it('closes a client that never finishes its headers, and one that stops reading', async () => {
    const slow = connect(port, '127.0.0.1');
    slow.write('GET /a.txt HTTP/1.1\r\nHost: x\r\n');  // never ends the headers
    await closed(slow);
    // A paused client sees no close until it reads again, so the server's side of the socket is watched.
    const serverSide = new Promise<number>((ok) => server.once('connection', (s) => {
      s.on('close', () => ok(s.bytesWritten));
    }));
    const reader = connect(port, '127.0.0.1');
    reader.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    reader.pause();  // reads nothing: 32 MiB cannot all be buffered
    const written = await serverSide;
    expect(written).toBeLessThan(32 << 20);  // closed mid-file, not served to the end
    reader.destroy();
    expect((await send('GET', 'a.txt')).body).toBe('hello');
  }, 20_000);

  it('caps connections: of 30 idle sockets at most 8 are taken, the rest dropped on accept; it serves again after', async () => {
    let taken = 0;
    let dropped = 0;
    const onConn = () => { taken++; };
    const onDrop = () => { dropped++; };
    server.on('connection', onConn);
    server.on('drop', onDrop);  // Node's event for a connection refused by maxConnections
    const socks = Array.from({ length: 30 }, () => connect(port, '127.0.0.1'));
    await Promise.all(socks.map(closed));  // the dropped at once, the taken by the header timeout
    server.off('connection', onConn);
    server.off('drop', onDrop);
    expect(taken + dropped).toBe(30);
    expect(dropped).toBeGreaterThanOrEqual(22);
    expect((await send('GET', 'a.txt')).body).toBe('hello');
  }, 20_000);

  it('a busy port is an error with a message, not a move to another port; --port 0 takes any', async () => {
    await expect(serve({ dir, port })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
    const cli = spawnSync('node', [SERVER, '--dir', dir, '--port', String(port)], { encoding: 'utf8', timeout: 10_000 });
    expect(cli.status).toBe(1);
    expect(cli.stderr.trim()).toBe(`serve: port ${port} on 127.0.0.1 is in use (another server?): stop it, or give another --port (PORT=...), or --port 0 for any free one`);
    const bad = spawnSync('node', [SERVER, '--dir', dir, '--port', '80x'], { encoding: 'utf8', timeout: 10_000 });
    expect([bad.status, bad.stderr.trim()]).toEqual([2, 'serve: --port must be an integer in 0..65535 (0: any free port), got "80x"']);
    const any = await serve({ dir, port: 0 });
    expect(any.url).not.toBe(url);
    any.server.close();
  }, 30_000);  // two CLI starts: seconds on a loaded machine
});
