// Creates engines for the page: one EngineClient (a Web Worker running the wasm Trainer) per run,
// with the wasm and the text corpus resolved from the site root, wherever the page embedding us is.
// data.name 'text' trains on your own text (and an mlp's 'points' on your own points, as CSV), kept in this browser (owndata/store.ts): it goes to the
// worker by postMessage and nowhere else.
import { EngineClient } from './engine/client';
import type { ResnormConfig } from './engine/types';
import { pointsToCsv } from './owndata/points';
import { ownPoints, ownText } from './owndata/store';
import type { EngineFactory } from './session';
import { siteUrl } from './site';

export const createEngine: EngineFactory = (config: ResnormConfig, opts = {}) => {
  const name = config.data?.name ?? 'tinyshakespeare';
  const own = name === 'text' ? ownText() : null;
  if (name === 'text' && !own) return Promise.reject(new Error('no text loaded (your own text is not in the link): load a text file'));
  const pts = name === 'points' ? ownPoints() : null;
  if (name === 'points' && !pts) return Promise.reject(new Error('no points (your own points are not in the link): upload a CSV'));
  return EngineClient.create(config, {
    text: own?.text ?? (pts ? pointsToCsv(pts) : undefined),
    dataUrl: siteUrl(`data/${name === 'tangpoems' ? 'tangpoems' : 'tinyshakespeare'}.txt`),
    // every asset relative to this script, not to the page that embeds it (issue 20: a post's own path)
    digitsUrl: siteUrl('data/digits.bin'),
    wasmUrl: siteUrl('wasm/resnorm.wasm'),
    inspect: opts.inspect,
    // Threads (issue 13) where the page is cross-origin isolated, for the nets whose matrices are big
    // enough to split (gpt, cnn); an mlp step is a fraction of a millisecond, bound by call overhead, and
    // its engine keeps one thread (no extra workers). A gpt or cnn engine loads with the whole count (capped):
    // the session then lowers it to the run's share of the cores (engine/threadSplit.ts, Session.balance).
    threads: (config.model?.kind ?? 'mlp') === 'mlp' ? 1 : undefined,
  });
};
