// The engine's dedicated module Worker: loads the wasm lazily on the first create request and hands every
// message to an EngineHost. Anything thrown outside a request (a trap in a timer) is reported as a crash.
/// <reference lib="webworker" />
import { EngineHost, errorMessage } from './host';
import type { Request, WorkerMessage } from './protocol';
import type { ResnormModule } from './wasm';
import { loadEngine } from './wasm';

declare const self: DedicatedWorkerGlobalScope;

let module: Promise<ResnormModule> | undefined;
// The corpus per URL, fetched once: an estimate and the create after it need the same text.
const texts = new Map<string, Promise<string>>();
async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`engine: could not load ${url} (HTTP ${res.status})`);
  return res.text();
}

const host = new EngineHost({
  post: (msg: WorkerMessage, transfer: Transferable[] = []) => self.postMessage(msg, transfer),
  async load(req) {
    if (!req.wasmUrl) throw new Error(`engine: ${req.type} needs wasmUrl`);
    module ??= loadEngine(req.wasmUrl, req.threads);
    const mod = await module;
    let text: string | Uint8Array | undefined;
    if (req.text === undefined && req.inspect === undefined && req.config.model?.kind === 'gpt') {
      if (!req.dataUrl) throw new Error('engine: a gpt model needs text or dataUrl');
      let p = texts.get(req.dataUrl);
      if (!p) {
        p = fetchText(req.dataUrl);
        texts.set(req.dataUrl, p);
        p.catch(() => texts.delete(req.dataUrl!));
      }
      text = await p;
    }
    if (req.text === undefined && req.config.model?.kind === 'cnn') {
      if (!req.digitsUrl) throw new Error('engine: a cnn model needs digitsUrl (the digits asset)');
      const res = await fetch(req.digitsUrl);
      if (!res.ok) throw new Error(`engine: could not load ${req.digitsUrl} (HTTP ${res.status})`);
      text = new Uint8Array(await res.arrayBuffer());
    }
    return { module: mod, text };
  },
});

self.onmessage = (e: MessageEvent<Request>) => { void host.handle(e.data); };
self.addEventListener('error', (e) => {
  self.postMessage({ type: 'crashed', message: e.message || 'worker error' } satisfies WorkerMessage);
});
self.addEventListener('unhandledrejection', (e) => {
  self.postMessage({ type: 'crashed', message: errorMessage(e.reason) } satisfies WorkerMessage);
});
