import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// STYLE.md: one composition root, and no two parts of src/ import each other. A part is a folder
// under src/ (store/, mqtt/, ...) or a file at the top of src/ (daemon.ts, app.ts, ...).

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(c|m)?ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** `from './x.js'`, `import './x.js'`, `import('./x.js')`: relative imports, type-only ones too. */
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function partOf(file: string): string {
  const [first, ...rest] = relative(SRC, file).split('/');
  return rest.length > 0 ? `${first}/` : first!.replace(/\.(c|m)?ts$/, '');
}

/** Part → the parts it imports (static and dynamic imports, type-only ones too). */
export function partGraph(files: string[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of files) {
    const from = partOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), spec!).replace(/\.(c|m)?js$/, '.ts');
      if (!target.startsWith(SRC + '/')) continue;
      const to = partOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, relative(SRC, file));
    }
  }
  return graph;
}

/** Every cycle's parts, as strongly connected components of more than one part (Tarjan). */
export function cycles(graph: Map<string, Map<string, string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('src/ part imports', () => {
  it('form no cycle: no two folders (or top-level files) of src/ import each other, directly or round about', () => {
    const graph = partGraph(sourceFiles(SRC));
    const found = cycles(graph).map((scc) =>
      scc.flatMap((from) => [...(graph.get(from) ?? new Map<string, string>())].filter(([to]) => scc.includes(to)).map(([to, file]) => `${from} -> ${to} (${file})`)),
    );
    expect(found).toEqual([]);
  });

  it('are each named in docs/architecture.md, so every file belongs to a described part', () => {
    const doc = readFileSync(join(SRC, '../docs/architecture.md'), 'utf8');
    const parts = readdirSync(SRC).map((name) => (statSync(join(SRC, name)).isDirectory() ? `src/${name}/` : `src/${name}`));
    expect(parts.filter((part) => !doc.includes(`\`${part}\``))).toEqual([]);
  });

  it('keep http/ off the concrete store: no HTTP module imports the ReadStore or the state database (app.ts hands narrow services)', () => {
    const concrete = ['store/read-store.ts', 'state/database.ts'];
    const offending = sourceFiles(join(SRC, 'http')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(IMPORT)]
        .map(([, spec]) => relative(SRC, resolve(dirname(file), spec!)).replace(/\.(c|m)?js$/, '.ts'))
        .filter((target) => concrete.includes(target))
        .map((target) => `${relative(SRC, file)} -> ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself can fail)', () => {
    const graph = new Map([
      ['store/', new Map([['http/', 'store/store-extension.ts']])],
      ['http/', new Map([['store/', 'http/api/query-api.ts']])],
      ['daemon', new Map([['store/', 'daemon.ts']])],
    ]);
    expect(cycles(graph)).toEqual([['http/', 'store/']]);
  });
});
