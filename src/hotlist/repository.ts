import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { HotList } from './list.js';
import { HotListRejectedError, verifySignedList } from './signed-list.js';

/** Writes a file so readers see either the old or the new content, never half (P10: atomic replace). */
export function writeFileAtomic(path: string, data: Buffer | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dirFd = openSync(join(path, '..'), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/**
 * Signed lists on disk, under `<stateDir>/hotlists/`. The signed file itself is kept, so every
 * start re-verifies what it loads. `versions.json` is a high-water mark per list name: a replayed
 * older version is refused even if someone deleted the newer list file.
 */
export class HotListRepository {
  readonly dir: string;
  private readonly listsDir: string;
  private readonly versionsFile: string;

  constructor(
    stateDir: string,
    private readonly keys: ReadonlyMap<string, KeyObject>,
    private readonly maxBytes: number,
  ) {
    this.dir = join(stateDir, 'hotlists');
    this.listsDir = join(this.dir, 'lists');
    this.versionsFile = join(this.dir, 'versions.json');
    mkdirSync(this.listsDir, { recursive: true, mode: 0o700 });
  }

  highWaterMarks(): Record<string, number> {
    if (!existsSync(this.versionsFile)) return {};
    try {
      return JSON.parse(readFileSync(this.versionsFile, 'utf8')) as Record<string, number>;
    } catch {
      return {};
    }
  }

  /** Verifies, refuses replays, then atomically replaces the stored list of the same name. */
  install(bytes: Buffer): HotList {
    const list = verifySignedList(bytes, this.keys, this.maxBytes);
    const marks = this.highWaterMarks();
    const current = marks[list.name] ?? 0;
    if (list.version <= current) throw new HotListRejectedError('replay', `list "${list.name}" version ${list.version} is not newer than the installed version ${current}`);
    writeFileAtomic(join(this.listsDir, `${list.name}.hotlist`), bytes);
    writeFileAtomic(this.versionsFile, JSON.stringify({ ...marks, [list.name]: list.version }));
    return list;
  }

  /** Every stored list, re-verified; a file that no longer verifies is reported, not loaded. */
  loadAll(): { lists: HotList[]; errors: { file: string; error: Error }[] } {
    const lists: HotList[] = [];
    const errors: { file: string; error: Error }[] = [];
    for (const f of readdirSync(this.listsDir).filter((n) => n.endsWith('.hotlist')).sort()) {
      try {
        lists.push(verifySignedList(readFileSync(join(this.listsDir, f)), this.keys, this.maxBytes));
      } catch (error) {
        errors.push({ file: f, error: error as Error });
      }
    }
    return { lists, errors };
  }

  /** Cheap change detection for lists installed by another process (`alpr-edge hotlist import`). */
  fingerprint(): string {
    return existsSync(this.versionsFile) ? readFileSync(this.versionsFile, 'utf8') : '';
  }
}
