// Starts a module Worker from a built script's URL, also when that script was loaded from another origin
// than the page's (a blog that loads the element from a CDN or from the project's own site, issue 20).
// Browsers refuse `new Worker(url)` for a cross-origin url ("Script at ... cannot be accessed from origin
// ..."); the HTML standard's dedicated workers must be same-origin. A `blob:` module worker is same-origin
// with the page, and its one line imports the real worker script with CORS (module imports always use
// CORS: the host must send Access-Control-Allow-Origin, docs/embedding.md). The imported module runs with
// its own URL as import.meta.url, so everything it resolves stays relative to where it lives.
// Same-origin scripts start directly, as before: a page's strict CSP (worker-src 'self') allows those and
// refuses blob: workers.

/** The source of the bootstrap: one static import (so the whole graph runs before the first message). */
export function bootstrapSource(scriptUrl: string): string {
  return `import ${JSON.stringify(scriptUrl)};\n`;
}

/** Whether a worker at `scriptUrl` needs the blob: bootstrap on a page at `pageOrigin`. */
export function needsBootstrap(scriptUrl: string, pageOrigin: string | undefined): boolean {
  if (!pageOrigin || pageOrigin === 'null') return false;
  return new URL(scriptUrl).origin !== pageOrigin;
}

export function startModuleWorker(scriptUrl: string, name: string): Worker {
  const g = globalThis as { location?: { origin: string; href: string } };
  const abs = new URL(scriptUrl, g.location?.href).href;
  if (!needsBootstrap(abs, g.location?.origin)) return new Worker(abs, { type: 'module', name });
  const blobUrl = URL.createObjectURL(new Blob([bootstrapSource(abs)], { type: 'text/javascript' }));
  const w = new Worker(blobUrl, { type: 'module', name });
  // The blob is fetched when the worker starts; free it once the worker has answered or failed.
  const free = () => URL.revokeObjectURL(blobUrl);
  w.addEventListener('message', free, { once: true });
  w.addEventListener('error', free, { once: true });
  return w;
}
