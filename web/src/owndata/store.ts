// Where your own text lives: in this browser only (IndexedDB, database "resnorm-playground"), never in a
// link and never sent anywhere: the engine worker receives it by postMessage. Without IndexedDB (some
// private windows) the text is kept for this page's life only.

export interface OwnText {
  text: string;
  /** The file's name, or '' for pasted text. */
  name: string;
  chars: number;
  vocab: number;
}

const DB = 'resnorm-playground';
const STORE = 'owndata';
const KEY = 'gpt-text';

let current: OwnText | null = null;
let ready: Promise<void> | null = null;
const listeners = new Set<() => void>();

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') { reject(new Error('no IndexedDB')); return; }
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => { req.result.createObjectStore(STORE); };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
  });
}

async function tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = f(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

/** Reads the saved text once (later calls return the same promise); never rejects. */
export function ownTextReady(): Promise<void> {
  ready ??= tx<OwnText | undefined>('readonly', (s) => s.get(KEY) as IDBRequest<OwnText | undefined>)
    .then((t) => {
      if (t && typeof t.text === 'string' && !current) current = t;
    })
    .catch(() => undefined);
  return ready;
}

export function ownText(): OwnText | null { return current; }

/** Keeps the text (in memory at once, in IndexedDB when it can); resolves to whether it was stored. */
export async function setOwnText(t: OwnText | null): Promise<boolean> {
  current = t;
  for (const cb of listeners) cb();
  try {
    await tx<unknown>('readwrite', (s) => (t ? s.put(t, KEY) : s.delete(KEY)) as IDBRequest<unknown>);
    return true;
  } catch {
    return false;
  }
}

export function onOwnText(cb: () => void): () => void {
  listeners.add(cb);
  return () => { listeners.delete(cb); };
}
