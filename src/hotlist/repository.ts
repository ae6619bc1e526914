import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { HotList } from './list.js';
import { HotListRejectedError, verifySignedList } from './signed-list.js';
import { AlprError, EX_DATAERR } from '../errors.js';

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

/** `versions.json` exists but cannot be read or is not a map of list names to versions. */
export class HotListVersionsError extends AlprError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file} ${problem}`, file, EX_DATAERR);
  }
}

/**
 * Signed lists on disk, under `<stateDir>/hotlists/`. The signed file itself is kept, so every
 * start re-verifies what it loads. `versions.json` is a high-water mark per list name: a replayed
 * older version is refused even if someone deleted the newer list file. It fails closed: a versions
 * file that cannot be read or parsed refuses every install until a person repairs it (P10), and a
 * name it does not know takes the stored list's own version as its floor.
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

  /** The highest version installed per name; throws HotListVersionsError when the file is unreadable or corrupt. */
  highWaterMarks(): Record<string, number> {
    if (!existsSync(this.versionsFile)) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.versionsFile, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new HotListVersionsError(this.versionsFile, code ? `cannot be read (${code})` : `is not JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HotListVersionsError(this.versionsFile, 'is not an object of list names and versions');
    for (const [name, version] of Object.entries(parsed)) {
      if (!Number.isSafeInteger(version) || (version as number) < 1) throw new HotListVersionsError(this.versionsFile, `gives list "${name.slice(0, 64)}" the version ${JSON.stringify(version)?.slice(0, 32)}, not a positive integer`);
    }
    return parsed as Record<string, number>;
  }

  /** Why installs are refused now (the versions file is unreadable or corrupt), or undefined. */
  versionsProblem(): string | undefined {
    try {
      this.highWaterMarks();
      return undefined;
    } catch (err) {
      if (err instanceof HotListVersionsError) return err.message;
      throw err;
    }
  }

  /** Verifies, refuses replays, then atomically replaces the stored list of the same name. */
  install(bytes: Buffer): HotList {
    let marks: Record<string, number>;
    try {
      marks = this.highWaterMarks();
    } catch (err) {
      // Fail closed: without the high-water marks an older signed list would be accepted again.
      if (err instanceof HotListVersionsError) throw new HotListRejectedError('unavailable', `${err.message}; installs are refused until it is repaired (docs/hotlists.md)`);
      throw err;
    }
    const list = verifySignedList(bytes, this.keys, this.maxBytes);
    const current = marks[list.name] ?? this.storedVersion(list.name);
    if (list.version <= current) throw new HotListRejectedError('replay', `list "${list.name}" version ${list.version} is not newer than the installed version ${current}`);
    writeFileAtomic(join(this.listsDir, `${list.name}.hotlist`), bytes);
    writeFileAtomic(this.versionsFile, JSON.stringify({ ...marks, [list.name]: list.version }));
    return list;
  }

  /**
   * Retires a signed list: the device stops matching it (the daemon at its next check). Its
   * high-water mark stays, so that version or an older one is refused as a replay; a newer version
   * can be imported again. Refused (exit 65) for a name with no stored list.
   */
  retire(name: string): { name: string; version: number } {
    const file = `${name}.hotlist`;
    // The name must be one of the stored files, so it can never point outside the lists directory.
    if (!readdirSync(this.listsDir).includes(file)) throw new AlprError(`no signed hot list "${name}" is installed (alpr-edge hotlist status lists them)`, 'name', EX_DATAERR);
    const marks = this.highWaterMarks();
    const version = Math.max(marks[name] ?? 0, this.storedVersion(name));
    if (marks[name] !== version && version > 0) writeFileAtomic(this.versionsFile, JSON.stringify({ ...marks, [name]: version }));
    rmSync(join(this.listsDir, file));
    return { name, version };
  }

  /** The version of the stored list of that name, as its signature vouches for it; 0 when there is none that verifies. */
  private storedVersion(name: string): number {
    const file = join(this.listsDir, `${name}.hotlist`);
    if (!existsSync(file)) return 0;
    try {
      return verifySignedList(readFileSync(file), this.keys, this.maxBytes).version;
    } catch {
      return 0;
    }
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

  /** Cheap change detection for lists installed or retired by another process (`alpr-edge hotlist import|retire`). */
  fingerprint(): string {
    try {
      // The stored files' names too: a retire removes one and leaves the high-water marks as they were.
      const files = readdirSync(this.listsDir).filter((n) => n.endsWith('.hotlist')).sort().join(',');
      return `${files};${existsSync(this.versionsFile) ? readFileSync(this.versionsFile, 'utf8') : ''}`;
    } catch (err) {
      // Unreadable: installs are refused (versionsProblem); the check itself goes on.
      return `unreadable: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
  }
}
