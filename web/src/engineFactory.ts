// Creates engines for the page: one EngineClient (a Web Worker running the wasm Trainer) per run,
// with the wasm and the text corpus resolved from the site root, wherever the page embedding us is.
import { EngineClient } from './engine/client';
import type { ResnormConfig } from './engine/types';
import type { EngineFactory } from './session';
import { siteUrl } from './site';

export const createEngine: EngineFactory = (config: ResnormConfig) =>
  EngineClient.create(config, {
    dataUrl: siteUrl('data/tinyshakespeare.txt'),
    wasmUrl: siteUrl('wasm/resnorm.wasm'),
  });
