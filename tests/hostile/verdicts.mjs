// The page's verdict on the hostile corpus (issue 21): the wasm engine (web/public/wasm/resnorm.wasm) loads
// each file as the playground does: a config through normalizeConfig, a checkpoint into a Trainer of the
// group's config with Trainer.load. One line per file: "ok: FILE" or "refused: MESSAGE".
// Usage: node tests/hostile/verdicts.mjs configs FILE...
//        node tests/hostile/verdicts.mjs checkpoints CONFIG.json TEXT_FILE|- FILE...
// The page gets a file's bytes from the browser (File.arrayBuffer), never from a FIFO or a directory; here
// Node reads them, so a path that is not a regular file is refused before reading, as the browser would
// never hand it over. A config's bytes are decoded as strict UTF-8 (TextDecoder fatal), as RFC 8259 asks.
import { openSync, fstatSync, readSync, closeSync } from 'node:fs';
import { loadWasmModule } from '../../web/src/engine/node-loader.mjs';

const [mode, ...rest] = process.argv.slice(2);
const mod = await loadWasmModule();
const oneLine = (s) => String(s).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
  (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function readRegular(path) {
  const fd = openSync(path, 'r');  // a FIFO would block here; the corpus's FIFO is stat'ed first below
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`"${path}" is not a regular file`);
    const out = new Uint8Array(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, out, got, st.size - got, null);
      if (n === 0) break;
      got += n;
    }
    return out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
import { statSync } from 'node:fs';
function bytesOf(path) {
  const st = statSync(path);
  if (!st.isFile()) throw new Error(`"${path}" is not a regular file (${st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : 'a special file'})`);
  return readRegular(path);
}

let worst = 0;
function verdict(file, fn) {
  try {
    console.log(`ok: ${oneLine(file)}${fn() ?? ''}`);
  } catch (e) {
    console.log(`refused: ${oneLine(e?.message ?? e)}`);
    worst = Math.max(worst, 1);
  }
}

if (mode === 'configs') {
  for (const f of rest)
    verdict(f, () => {
      const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytesOf(f));
      mod.normalizeConfig(text);
    });
} else if (mode === 'checkpoints') {
  const [configPath, textPath, ...files] = rest;
  const config = new TextDecoder().decode(bytesOf(configPath));
  const text = textPath === '-' ? '' : new TextDecoder().decode(bytesOf(textPath));
  for (const f of files)
    verdict(f, () => {
      const bytes = bytesOf(f);
      const tr = new mod.Trainer(config, text, '');
      try {
        tr.load(bytes);
        return ` loads (step ${tr.stepsDone()})`;
      } finally {
        tr.delete();
      }
    });
} else {
  console.error('usage: verdicts.mjs configs FILE... | checkpoints CONFIG TEXT|- FILE...');
  process.exit(2);
}
process.exit(worst);
