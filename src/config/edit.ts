import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, stripJsonComments, validateConfig } from './load.js';
import type { Config } from './schema.js';

// Commands that change one setting (`hotlist keys add|remove`) edit the file the daemon reads, so
// the config stays the one place the device's settings live. The file is rewritten as plain JSON
// (comments are not kept), as `provision` writes it.

/** The file as written, without defaults filled in (they stay implicit, so a later release's apply). */
export function readRawConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, '(file)', file);
  }
  try {
    const raw = JSON.parse(stripJsonComments(text)) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
    return raw as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`, '(file)', file);
  }
}

/**
 * Validates `raw` (exit 78 naming the field, nothing written), then replaces the file atomically,
 * keeping its mode and, when run as root, its owner and group (the daemon's group reads it).
 */
export function writeRawConfig(file: string, raw: Record<string, unknown>): Config {
  const config = validateConfig(raw, file);
  const before = existsSync(file) ? statSync(file) : undefined;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(raw, null, 2) + '\n', { mode: before ? before.mode & 0o777 : 0o640 });
  if (before && process.getuid?.() === 0) chownSync(tmp, before.uid, before.gid);
  renameSync(tmp, file);
  return config;
}
