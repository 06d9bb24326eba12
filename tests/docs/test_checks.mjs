// Tests of the two doc checkers (run by scripts/test-docs.sh, so by npm test and npm run test:fast).
// check-links.mjs on a small fixture tree: every planted broken reference is reported (by file and line), and
// nothing else is, so the negative controls (URLs, globs, brace lists, placeholders, build outputs, headings
// that exist) show the checker is precise. docs-bench.mjs: the committed docs/benchmarks.md passes --check; a
// copy with one figure changed fails naming its table; a copy without a table's markers is refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resnorm-docs-test-'));
const write = (rel, text) => {
  fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
  fs.writeFileSync(path.join(tmp, rel), text);
};
const node = (args) => spawnSync(process.execPath, args, { encoding: 'utf8' });
let failed = 0;
function check(name, fn) {
  try {
    fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n${e.message}`);
  }
}

// ---- check-links ------------------------------------------------------------------------------------------
const PLANTED = [
  ['README.md', '[gone](docs/missing.md)'],
  ['README.md', '[no such heading](docs/a.md#no-such-heading)'],
  ['README.md', '[outside](../shared/TOOLCHAIN.md)'],
  ['README.md', 'the file `cpp/core/gone.h` here'],
  ['cpp/core/x.h', '// loads into tests/torch_ref/model.py as it is'],
  ['scripts/x.sh', '# see ../shared/TOOLCHAIN.md'],
  ['bench/x.py', '"""A docstring naming bench/results/missing.json."""'],
];
const CLEAN = {
  'README.md': [
    '# Fixture', '', '## A section, with `code` & punctuation', '',
    '[a doc](docs/a.md), [its heading](docs/a.md#some-heading), [here](#a-section-with-code--punctuation), [a folder](cpp/core/)',
    '[a site](https://example.com/cpp/core/nothing.h), [mail](mailto:someone@example.com), ![shot](docs/shot.png)',
    '`cpp/core/ops/*.cpp`, `cpp/core/gemm.{h,cpp}`, `web/public/data/NAME.txt`, `web/dist/index.html`, `build/native/resnorm`',
    '```sh', 'node scripts/x.sh   # a command in a fenced block names a real file', '```', ''],
  'docs/a.md': ['# A', '', '## Some heading', '', '[back](../README.md)', ''],
  'docs/shot.png': ['not really a PNG'],
  'cpp/core/x.h': ['// Names cpp/core/x.h itself, cpp/core/ops/*.cpp (a glob), https://github.com/x/y/blob/main/cpp/core/no.h,',
    '// web/public/wasm/resnorm.wasm (a build output), bench/results/cuda (written by a GPU run), DIR/FILE.',
    'int f(); /* a block comment naming README.md', ' * and scripts/x.sh */', 'const char* s = "cpp/not/a/comment.h";', ''],
  'scripts/x.sh': ['#!/usr/bin/env bash', '# runs cpp/core/x.h through nothing', 'echo ok', ''],
  'bench/x.py': ['# names scripts/x.sh', 'x = 1', ''],
};
function writeFixture(planted) {
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const [f, lines] of Object.entries(CLEAN)) write(f, lines.join('\n'));
  if (planted) for (const [f, text] of PLANTED) fs.appendFileSync(path.join(tmp, f), `${text}\n`);
}

check('check-links: the fixture without plants passes (no false positives on URLs, globs, placeholders, outputs)', () => {
  writeFixture(false);
  const r = node([path.join(ROOT, 'scripts/check-links.mjs'), '--root', tmp]);
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}`);
});
check('check-links: every planted broken link and path is reported, by file and line, and nothing else', () => {
  writeFixture(true);
  const r = node([path.join(ROOT, 'scripts/check-links.mjs'), '--root', tmp]);
  assert.equal(r.status, 1, `exit ${r.status}\n${r.stdout}${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const want = ['docs/missing.md does not exist', 'has no heading #no-such-heading', '../shared/TOOLCHAIN.md" points outside the repository',
    'cpp/core/gone.h (named) does not exist', 'tests/torch_ref/model.py (named in a comment) does not exist',
    'scripts/x.sh:4: ../shared/TOOLCHAIN.md (shared/TOOLCHAIN.md) does not exist', 'bench/results/missing.json (named in a comment) does not exist'];
  for (const w of want) assert.ok(lines.some((l) => l.includes(w)), `not reported: ${w}\n${r.stderr}`);
  assert.equal(lines.length, want.length, `reported ${lines.length}, planted ${want.length}:\n${r.stderr}`);
  assert.ok(lines.every((l) => /^[\w./-]+:\d+: /.test(l)), `a line without FILE:LINE:\n${r.stderr}`);
});

// ---- docs-bench -------------------------------------------------------------------------------------------
const BENCH = path.join(ROOT, 'docs/benchmarks.md');
check('docs-bench: the committed docs/benchmarks.md equals what bench/results gives', () => {
  const r = node([path.join(ROOT, 'scripts/docs-bench.mjs'), '--check']);
  assert.equal(r.status, 0, r.stderr);
});
check('docs-bench: one figure changed in a table fails the check, naming that table', () => {
  const doc = fs.readFileSync(BENCH, 'utf8');
  const start = doc.indexOf('<!-- bench:cpu-vs-torch -->');
  const row = doc.indexOf('| mlp-residual-deep |', start);
  assert.ok(start >= 0 && row > start, 'the cpu-vs-torch table or its mlp-residual-deep row is missing');
  const changed = doc.slice(0, row) + doc.slice(row).replace(/\d\.\d/, (m) => `${(Number(m[0]) + 1) % 10}.${m[2]}`);
  assert.notEqual(changed, doc);
  write('bench.md', changed);
  const r = node([path.join(ROOT, 'scripts/docs-bench.mjs'), '--check', '--out', path.join(tmp, 'bench.md')]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /table "bench:cpu-vs-torch"/);
});
check('docs-bench: a table whose markers were removed is refused, naming it', () => {
  const doc = fs.readFileSync(BENCH, 'utf8').replace('<!-- bench:conv -->', '').replace('<!-- /bench:conv -->', '');
  write('bench.md', doc);
  const r = node([path.join(ROOT, 'scripts/docs-bench.mjs'), '--check', '--out', path.join(tmp, 'bench.md')]);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /no markers for bench:conv/);
});

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`doc checker tests: ${failed} failed`);
process.exit(failed ? 1 : 0);
