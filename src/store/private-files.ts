import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';

// P16: evidence written off the store (export bundles, audit samples) is readable by the device's
// service account alone: files 0600, directories this code makes 0700, whatever the umask.

/** Makes `dir` (and missing parents) 0700; a directory that exists already (a mounted medium) keeps its mode. */
export function makePrivateDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Writes `file` 0600: to a fresh temporary file, then renamed over the target, so an existing file
 * with a wider mode is replaced rather than rewritten in place.
 */
export function writePrivateFile(file: string, data: Buffer | string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
