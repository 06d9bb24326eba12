// The link and reference check (npm test, npm run test:fast): every relative link in README.md and docs/*.md
// must point at a file or folder of the repository (and at a heading there, when it names one), and every
// repository path named in a source comment or in a doc's `code` must exist.
//   node scripts/check-links.mjs            check the repository; one line per broken reference; exit 1 if any
//   node scripts/check-links.mjs --root DIR check another tree (its own test plants broken links in a copy)
// What counts as a repository path: a token that starts with one of the repository's top-level folders
// (cpp/, web/, tests/, ...) or names a top-level file (README.md, package.json, ...), or a ../ path in a doc
// link. Not checked, on purpose: URLs (anything with a scheme, or after //host), globs and brace lists
// (`tests/cpp/test_*.cpp`, `gemm.{h,cpp}`: the token is followed by * or {), placeholders (<...>, $VAR, …),
// and build outputs (whatever .gitignore ignores: build/, web/dist/, web/public/wasm/, digits.bin).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
let ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--root' && args[i + 1]) ROOT = path.resolve(args[++i]);
  else {
    console.error(`check-links: unknown argument "${args[i]}" (usage: node scripts/check-links.mjs [--root DIR])`);
    process.exit(2);
  }
}

const TOP_DIRS = ['cpp', 'web', 'tests', 'python', 'scripts', 'bench', 'docs', 'cmake', '.ci'];
const TOP_FILES = ['README.md', 'CMakeLists.txt', 'CMakePresets.json', 'package.json', 'package-lock.json', '.gitignore'];
const SOURCE_EXT = /\.(cpp|h|hpp|cu|cuh|ts|mts|mjs|js|py|sh|cmake|css|html)$|(^|\/)(CMakeLists\.txt|run)$/;
// Folders never scanned (outputs, dependencies, data).
const SKIP_DIRS = new Set(['.git', 'node_modules', 'build', 'dist', 'test-results', '.deps', '__pycache__']);

function listFiles() {
  try {
    return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n').filter(Boolean).filter((f) => fs.existsSync(path.join(ROOT, f)));
  } catch {  // no git (an exported tree): walk it
    const out = [];
    const walk = (dir) => {
      for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        if (SKIP_DIRS.has(e.name)) continue;
        const rel = dir ? `${dir}/${e.name}` : e.name;
        if (e.isDirectory()) walk(rel);
        else out.push(rel);
      }
    };
    walk('');
    return out;
  }
}

// Paths .gitignore ignores are build outputs: named in comments and docs, never committed.
function ignoredSet(paths) {
  if (!paths.length) return new Set();
  try {
    // each path also as a folder (a pattern like /web/dist/ matches only folders)
    const out = execFileSync('git', ['check-ignore', '--no-index', '--stdin'], { cwd: ROOT, input: paths.flatMap((p) => [p, `${p}/`]).join('\n'),
      encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    return new Set(out.split('\n').filter(Boolean).map((p) => p.replace(/\/$/, '')));
  } catch (e) {
    if (e.status === 1) return new Set();  // none ignored
    // no git: the repository's own list of outputs
    return new Set(paths.filter((p) => /^(build|node_modules|web\/dist|web\/public\/wasm|test-results|\.deps)(\/|$)|^web\/public\/data\/digits\.bin$|\.tmp$|__pycache__/.test(p)));
  }
}

// Folders a script creates when it runs, named in its comments, neither committed nor ignored.
const OUTPUTS = new Set(['bench/results/cuda']);
const exists = (rel) => OUTPUTS.has(rel) || fs.existsSync(path.join(ROOT, rel));

// Repository paths in a piece of text (a comment, or a doc's inline code).
const PATH_RE = new RegExp(
  String.raw`(?<![\w.@/:-])((?:${TOP_DIRS.map((d) => d.replace('.', '\\.')).join('|')})/[\w./@+-]*|(?:${TOP_FILES.map((f) => f.replace(/\./g, '\\.')).join('|')})(?![\w.-]))`,
  'g');
// ../ paths (relative to the file that names them): resolved, they must stay inside the repository.
const UP_RE = /(?<![\w./-])((?:\.\.\/)+[\w.-][\w./@+-]*)/g;
function upPathsIn(text, file) {
  const found = [];
  for (const m of text.matchAll(UP_RE)) {
    const after = text[m.index + m[0].length] ?? '';
    if (after === '*' || after === '{' || after === '<' || after === '$' || after === '…' || m[1].endsWith('...')) continue;  // a glob or a placeholder
    const p = m[1].replace(/[.,;:)]+$/, '');
    found.push([p, path.posix.normalize(path.posix.join(path.posix.dirname(file), p)).replace(/\/$/, '')]);
  }
  return found;
}
function pathsIn(text) {
  const found = [];
  for (const m of text.matchAll(PATH_RE)) {
    let p = m[1];
    const after = text[m.index + m[0].length] ?? '';
    if (after === '*' || after === '{' || after === '<' || after === '$' || after === '…') continue;  // a glob or a placeholder
    const before = text.slice(Math.max(0, m.index - 8), m.index);
    if (/[a-z][a-z0-9+.-]*:\/\/[^\s]*$/i.test(before) || /\/\/[\w.-]+\/?$/.test(before)) continue;  // inside a URL
    p = p.replace(/[.,;:)]+$/, '');  // sentence punctuation
    if (!p || p.endsWith('/.')) continue;
    if (/(^|\/)[A-Z][A-Z0-9_]*(\.[a-z]+)?(\/|$)/.test(p.replace(/^(README\.md|CMakeLists\.txt)$/, ''))) continue;  // NAME.txt, DIR/: a placeholder
    found.push(p.replace(/\/$/, ''));
  }
  return found;
}

// The comments of a source file, with their line numbers: // and /* */ (C-like), # (Python, shell, CMake).
function comments(file, text) {
  const out = [];
  const hash = /\.(py|sh|cmake)$|(^|\/)(CMakeLists\.txt|run)$/.test(file);
  const lines = text.split('\n');
  let inBlock = false;
  let doc = false;  // inside a Python docstring ('''/""" blocks are documentation too)
  lines.forEach((line, i) => {
    if (file.endsWith('.py')) {
      const q = (line.match(/"""|'''/g) ?? []).length;
      if (doc || q) out.push([i + 1, line]);
      if (q % 2 === 1) doc = !doc;
      if (doc || q) return;
    }
    if (hash) {
      const k = line.search(/(^|\s)#/);
      if (k >= 0) out.push([i + 1, line.slice(k)]);
      return;
    }
    if (inBlock) {
      out.push([i + 1, line]);
      if (line.includes('*/')) inBlock = false;
      return;
    }
    const b = line.indexOf('/*');
    const c = line.search(/(^|[^:])\/\//);
    if (c >= 0 && (b < 0 || c < b)) out.push([i + 1, line.slice(c)]);
    else if (b >= 0) {
      out.push([i + 1, line.slice(b)]);
      if (!line.slice(b + 2).includes('*/')) inBlock = true;
    }
  });
  return out;
}

// GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
function anchors(mdText) {
  const set = new Set();
  const counts = new Map();
  let fence = false;
  for (const line of mdText.split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    const m = !fence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1].replace(/`/g, '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    set.add(n ? `${base}-${n}` : base);
  }
  return set;
}

const problems = [];
const candidates = [];  // [where, repoPath, why]
const upCandidates = [];  // [where, as written, resolved]
const files = listFiles();

// 1. Docs: relative links (and their #anchors), and repository paths in inline code.
const docs = files.filter((f) => f === 'README.md' || /^docs\/[^/]+\.md$/.test(f));
for (const doc of docs) {
  const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
  const lines = text.split('\n');
  let fence = false;
  let siteSnippet = false;  // a fenced html/toml/yaml/template block: its ../ paths are the reader's site, not ours
  lines.forEach((line, i) => {
    const where = `${doc}:${i + 1}`;
    const open = /^\s*```\s*([\w-]*)/.exec(line);
    if (open) {
      fence = !fence;
      siteSnippet = fence && /^(html|xml|toml|ya?ml|go-html-template|liquid|markdown|md)$/i.test(open[1]);
      return;
    }
    // [text](target) and ![alt](target); <img src="target">
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|<img[^>]*\ssrc="([^"]+)"/g)) {
      const target = m[1] ?? m[2];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;  // http:, https:, mailto:
      const [p, anchor] = target.split('#');
      const rel = p ? path.posix.normalize(path.posix.join(path.posix.dirname(doc), decodeURIComponent(p.split('?')[0]))) : doc;
      if (rel.startsWith('../') || rel === '..') { problems.push(`${where}: link "${target}" points outside the repository`); continue; }
      if (!exists(rel)) { problems.push(`${where}: link "${target}": ${rel} does not exist`); continue; }
      if (anchor && rel.endsWith('.md') && !anchors(fs.readFileSync(path.join(ROOT, rel), 'utf8')).has(anchor))
        problems.push(`${where}: link "${target}": ${rel} has no heading #${anchor}`);
    }
    // repository paths in `code` (inside fenced blocks too: commands name files)
    const codes = fence ? [line] : [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    for (const c of codes) {
      for (const p of pathsIn(c)) candidates.push([where, p, 'named']);
      if (!siteSnippet) for (const [p, rel] of upPathsIn(c, doc)) upCandidates.push([where, p, rel]);
    }
  });
}

// 2. Source comments.
for (const f of files) {
  // (tests/docs/test_checks.mjs holds the checker's fixtures: broken on purpose, inside strings that look like comments)
  if (!SOURCE_EXT.test(f) || f.startsWith('web/public/') || /(^|\/)(corpus|data)\//.test(f) || f === 'tests/docs/test_checks.mjs') continue;
  const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
  for (const [line, c] of comments(f, text)) {
    for (const p of pathsIn(c)) candidates.push([`${f}:${line}`, p, 'named in a comment']);
    for (const [p, rel] of upPathsIn(c, f)) upCandidates.push([`${f}:${line}`, p, rel]);
  }
}

const ignored = ignoredSet([...new Set([...candidates.map(([, p]) => p), ...upCandidates.map(([, , r]) => r)])]);
for (const [where, p, why] of candidates) {
  if (ignored.has(p) || exists(p)) continue;
  problems.push(`${where}: ${p} (${why}) does not exist`);
}

for (const [where, p, rel] of upCandidates) {
  if (rel === '..' || rel.startsWith('../')) problems.push(`${where}: ${p} points outside the repository`);
  else if (!ignored.has(rel) && !exists(rel)) problems.push(`${where}: ${p} (${rel}) does not exist`);
}
for (const p of problems) console.error(p);
const n = problems.length;
console.log(`check-links: ${docs.length} docs and ${files.filter((f) => SOURCE_EXT.test(f)).length} source files, ` +
  `${candidates.length} repository paths: ${n ? `${n} broken` : 'all exist'}`);
process.exit(n ? 1 : 0);
