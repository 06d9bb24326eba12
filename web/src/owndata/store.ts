// Where your own text (and your own mlp points) live: in this browser only (IndexedDB, database "resnorm-playground"), never in a
// link and never sent anywhere: the engine worker receives it by postMessage. Without IndexedDB (some
// private windows) the text is kept for this page's life only.

import type { Pt } from './points';

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
const POINTS_KEY = 'mlp-points';

let current: OwnText | null = null;
let points: Pt[] | null = null;
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

/** Reads the saved text and points once (later calls return the same promise); never rejects. */
export function ownTextReady(): Promise<void> {
  ready ??= (async () => {
    try {
      const t = await tx<OwnText | undefined>('readonly', (s) => s.get(KEY) as IDBRequest<OwnText | undefined>);
      if (t && typeof t.text === 'string' && !current) current = t;
      const p = await tx<Pt[] | undefined>('readonly', (s) => s.get(POINTS_KEY) as IDBRequest<Pt[] | undefined>);
      if (Array.isArray(p) && !points) points = p;
    } catch {
      // no IndexedDB: nothing saved
    }
  })();
  return ready;
}

export function ownPoints(): Pt[] | null { return points; }

/** Keeps the points (in memory at once, in IndexedDB when it can); resolves to whether they were stored. */
export async function setOwnPoints(p: Pt[] | null): Promise<boolean> {
  points = p;
  try {
    await tx<unknown>('readwrite', (s) => (p ? s.put(p, POINTS_KEY) : s.delete(POINTS_KEY)) as IDBRequest<unknown>);
    return true;
  } catch {
    return false;
  }
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
