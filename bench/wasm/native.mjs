// Node-only helpers of the wasm benchmarks (measure.mjs is also loaded by the benchmark page in Chromium,
// so it imports nothing from node:).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// The checkout's short commit for a result file, "(with uncommitted changes)" when tracked files differ
// from it; null outside a git checkout.
export function commitLabel(root) {
  const git = (...a) => execFileSync('git', ['-C', root, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return null;
  }
}

// The native GEMM benchmark is compiled with exactly the flags the preset uses for the core's linear.cpp.
export function nativeGemmBinary(repo, preset) {
  const P = (p) => join(repo, p);
  const cc = JSON.parse(readFileSync(P(`build/${preset}/compile_commands.json`), 'utf8'));
  const entry = cc.find((e) => e.file.endsWith('cpp/core/ops/linear.cpp'));
  if (!entry) throw new Error(`no compile command for linear.cpp in build/${preset}`);
  const words = entry.command.split(/\s+/).filter(Boolean);
  const flags = [];
  for (let i = 1; i < words.length; ++i) {
    const w = words[i];
    if (w === '-o' || w === '-c' || w === '-MF' || w === '-MT') { ++i; continue; }
    if (w === '-MD' || w.endsWith('linear.cpp') || w.includes('ccache')) continue;
    flags.push(w.replace(/^-D(\w+)=\\?"(.*?)\\?"$/, '-D$1="$2"'));
  }
  const compiler = words[0].includes('ccache') ? words[1] : words[0];
  const out = P(`build/wasm/bench-native/gemm_${preset}`);
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(compiler, [...flags.filter((f) => f !== compiler), '-Icpp/core', P('bench/wasm/gemm_bench.cpp'),
    P(`build/${preset}/libresnorm_core.a`), '-o', out], { cwd: repo, stdio: 'inherit' });
  return out;
}
