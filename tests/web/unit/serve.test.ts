// The static server of `npm start` (issue 9, "The server"): it survives read errors and aborted
// requests, and sends the CSP with COOP/COEP. Run as a child process under a low descriptor limit,
// as a crash would take a test worker down with it. SERVE_MJS=path tests another copy of the server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SERVER = resolve(process.env.SERVE_MJS ?? 'scripts/serve.mjs');
let dir = '';
let child: ChildProcess;
let url = '';
let exited: number | null | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rp-serve-'));
  writeFileSync(join(dir, 'a.txt'), 'hello');
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(32 << 20, 1));  // far more than a socket buffers
  mkdirSync(join(dir, 'sub', 'index.html'), { recursive: true });  // a directory named index.html
  child = spawn('bash', ['-c', `ulimit -n 96 && exec node "${SERVER}" --dir "${dir}" --port 0`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.on('exit', (code) => { exited = code; });
  url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out); if (m) ok(m[1]); });
    child.on('exit', () => fail(new Error('server exited')));
  });
});
afterAll(() => { child?.kill(); rmSync(dir, { recursive: true, force: true }); });

const get = (path: string) => fetch(url + path.replace(/^\//, ''));

/** Starts a GET of `path` and closes the socket once the first bytes of the body arrive. */
const abortedGet = (path: string) => new Promise<void>((ok) => {
  const req = request(url + path, (res) => { res.once('data', () => { req.destroy(); ok(); }); res.on('error', () => ok()); });
  req.on('error', () => ok());
  req.end();
});

describe('scripts/serve.mjs', () => {
  it('sends the CSP, COOP and COEP', async () => {
    const r = await get('a.txt');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('hello');
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('answers a directory named index.html with 404 and keeps serving', async () => {
    expect((await get('sub/')).status).toBe(404);
    expect((await get('sub/index.html')).status).toBe(404);
    expect((await get('x.constructor')).status).toBe(404);
    await new Promise((r) => setTimeout(r, 100));
    expect(exited).toBeUndefined();
    expect((await get('a.txt')).status).toBe(200);
  });

  it('survives hundreds of aborted requests under a 96-descriptor limit', async () => {
    for (let round = 0; round < 6; round++) await Promise.all(Array.from({ length: 50 }, () => abortedGet('big.bin')));
    await new Promise((r) => setTimeout(r, 300));
    expect(exited).toBeUndefined();
    const r = await get('a.txt');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('hello');
  }, 60_000);
});
