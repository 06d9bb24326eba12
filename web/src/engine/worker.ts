// The engine's dedicated module Worker: loads the wasm lazily on the first create request and hands every
// message to an EngineHost. Anything thrown outside a request (a trap in a timer) is reported as a crash.
/// <reference lib="webworker" />
import { EngineHost, errorMessage } from './host';
import type { Request, WorkerMessage } from './protocol';
import type { ResnormModule } from './wasm';
import { loadResnormFromUrl } from './wasm';

declare const self: DedicatedWorkerGlobalScope;

let module: Promise<ResnormModule> | undefined;

const host = new EngineHost({
  post: (msg: WorkerMessage, transfer: Transferable[] = []) => self.postMessage(msg, transfer),
  async load(req) {
    if (!req.wasmUrl) throw new Error('engine: create needs wasmUrl');
    module ??= loadResnormFromUrl(req.wasmUrl);
    const mod = await module;
    let text: string | Uint8Array | undefined;
    if (req.text === undefined && req.config.model?.kind === 'gpt') {
      if (!req.dataUrl) throw new Error('engine: a gpt model needs text or dataUrl');
      const res = await fetch(req.dataUrl);
      if (!res.ok) throw new Error(`engine: could not load ${req.dataUrl} (HTTP ${res.status})`);
      text = await res.text();
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
