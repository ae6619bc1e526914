import { readFileSync } from 'node:fs';

/**
 * The version is package.json's, so a release bumps one place. This file runs from src/ (tests) or
 * dist/src/ (built, and in the npm package, which always carries package.json at its root).
 */
function packageVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'alpr-edge' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this depth: try the next
    }
  }
  throw new Error(`package.json of alpr-edge not found above ${import.meta.url}`);
}

export const VERSION = packageVersion();
