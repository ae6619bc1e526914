// Just enough of bitbake's metadata syntax to check our layer's files without a Yocto build:
// assignments (=, ?=, ??=, :=, +=, =+, .=, =.), flags (VAR[flag]), line continuations, export,
// inherit, require/include, and shell/python task bodies. Values are expanded for ${VAR} references
// to variables the file (or the caller) defines; ${@...} python stays as written.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface BitbakeFile {
  vars: Map<string, string>;
  inherits: string[];
  /** Files pulled in by require/include, as paths. */
  includes: string[];
  /** Task and function bodies by name (e.g. `do_install:append`). */
  functions: Map<string, string>;
}

export class BitbakeSyntaxError extends Error {
  constructor(file: string, line: number, text: string) {
    super(`${file}:${line}: not bitbake syntax this parser knows: ${text}`);
    this.name = 'BitbakeSyntaxError';
  }
}

const ASSIGNMENT = /^(?:export\s+)?([A-Za-z0-9_${}:.\-/+]+(?:\[[A-Za-z0-9_.\-]+\])?)\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*"(.*)"\s*$/s;
const FUNCTION_START = /^(?:python\s+)?([A-Za-z0-9_:${}\-]+)\s*\(\)\s*\{\s*$/;

/** Parses a recipe, class-free: `context` seeds variables bitbake would provide (PN, PV, THISDIR...). */
export function parseBitbake(path: string, context: Record<string, string> = {}, into?: BitbakeFile): BitbakeFile {
  const file: BitbakeFile = into ?? { vars: new Map(Object.entries(context)), inherits: [], includes: [], functions: new Map() };
  const weak = new Map<string, string>();
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    const fn = FUNCTION_START.exec(line);
    if (fn !== null) {
      const body: string[] = [];
      while (++i < lines.length && lines[i] !== '}') body.push(lines[i]!);
      if (i >= lines.length) throw new BitbakeSyntaxError(path, start + 1, `${fn[1]}: no closing } at column 0`);
      file.functions.set(fn[1]!, body.join('\n'));
      continue;
    }
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!;
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    const directive = /^(inherit|require|include)\s+(.+)$/.exec(text);
    if (directive !== null) {
      const [, kind, args] = directive;
      if (kind === 'inherit') file.inherits.push(...args!.split(/\s+/));
      else {
        const included = resolve(dirname(path), expand(args!.trim(), file.vars));
        file.includes.push(included);
        parseBitbake(included, context, file);
      }
      continue;
    }
    const assignment = ASSIGNMENT.exec(text);
    if (assignment === null) throw new BitbakeSyntaxError(path, start + 1, text);
    const [, rawName, op, value] = assignment as unknown as [string, string, string, string];
    // bitbake expands names too: RDEPENDS:${PN} is RDEPENDS:alpr-edge.
    const name = expand(rawName, file.vars);
    const old = file.vars.get(name);
    switch (op) {
      case '=': case ':=': file.vars.set(name, value); break;
      case '?=': if (old === undefined) file.vars.set(name, value); break;
      case '??=': weak.set(name, value); break;
      case '+=': file.vars.set(name, old === undefined ? value : `${old} ${value}`); break;
      case '=+': file.vars.set(name, old === undefined ? value : `${value} ${old}`); break;
      case '.=': file.vars.set(name, (old ?? '') + value); break;
      case '=.': file.vars.set(name, value + (old ?? '')); break;
    }
  }
  for (const [name, value] of weak) if (!file.vars.has(name)) file.vars.set(name, value);
  return file;
}

/** Expands ${VAR} for known variables (repeatedly, as bitbake does at use); unknown ones stay. */
export function expand(value: string, vars: Map<string, string>): string {
  let out = value;
  for (let round = 0; round < 10; round++) {
    const next = out.replace(/\$\{([A-Za-z0-9_:\-]+)\}/g, (whole, name: string) => vars.get(name) ?? whole);
    if (next === out) break;
    out = next;
  }
  return out;
}

/** The expanded value split on whitespace, as bitbake lists (SRC_URI, RDEPENDS, ...) are. */
export function listOf(file: BitbakeFile, name: string): string[] {
  return expand(file.vars.get(name) ?? '', file.vars).split(/\s+/).filter((w) => w !== '');
}

/** `file://path;md5=...;beginline=...` → its path and parameters. */
export function parseUri(uri: string): { scheme: string; path: string; params: Record<string, string> } {
  const [head, ...params] = uri.split(';');
  const m = /^([a-z0-9]+):\/\/(.*)$/.exec(head!);
  if (m === null) throw new Error(`not a bitbake URI: ${uri}`);
  return { scheme: m[1]!, path: m[2]!, params: Object.fromEntries(params.map((p) => p.split('=', 2) as [string, string])) };
}
