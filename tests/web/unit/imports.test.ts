// Structure (issue 10): no import cycle among the playground's modules. A cycle (it was compare.ts ->
// state.ts -> experiments.ts -> compare.ts) makes module order matter and hides a missing leaf. Type-only
// imports are erased by the compiler and do not count.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../../web/src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** The modules each module imports at run time (relative imports, `import type` left out). */
export function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^import\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm)) {
      if (m[1]) continue;
      const spec = m[2] ?? m[3];
      if (!spec || /\.(css|mjs)(\?|$)/.test(spec) || spec.includes('?')) continue;
      deps.push(resolve(dirname(f), spec.endsWith('.ts') ? spec : `${spec}.ts`));
    }
    g.set(f, deps);
  }
  return g;
}

function cycles(g: Map<string, string[]>): string[][] {
  const out: string[][] = [];
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 1);
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 1) out.push([...stack.slice(stack.indexOf(d)), d].map((x) => relative(SRC, x)));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of g.keys()) if (!state.has(n)) visit(n);
  return out;
}

describe('module structure', () => {
  it('has no import cycle in web/src', () => {
    expect(cycles(graph())).toEqual([]);
  });

  it('finds a cycle when there is one (the checker itself)', () => {
    const g = new Map([['/a.ts', ['/b.ts']], ['/b.ts', ['/c.ts']], ['/c.ts', ['/a.ts']], ['/d.ts', ['/a.ts']]]);
    expect(cycles(g).length).toBe(1);
    expect(graph().get(join(SRC, 'url.ts'))).toContain(join(SRC, 'state.ts'));
  });
});
