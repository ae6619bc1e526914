// The environment systemd/alpr-edge.service gives the daemon. glibc and V8 read some of it only as a
// process starts (MALLOC_ARENA_MAX, NODE_OPTIONS), so the benchmarks start their processes with it
// to measure the daemon as a device runs it (issue 23).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const UNIT_FILE = 'systemd/alpr-edge.service';

/** `Environment=NAME=value` lines of a systemd unit (quoted values unquoted; `$` expansions are not used there). */
export function unitEnvironment(unit: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unit.split('\n')) {
    const m = /^Environment=(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const word of m[1]!.match(/"[^"]*"|\S+/g) ?? []) {
      const kv = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(word.replace(/^"(.*)"$/, '$1'));
      if (kv) env[kv[1]!] = kv[2]!;
    }
  }
  return env;
}

/** The unit's environment as installed with this tree (`root`: the package root). */
export function daemonUnitEnvironment(root: string): Record<string, string> {
  return unitEnvironment(readFileSync(resolve(root, UNIT_FILE), 'utf8'));
}
