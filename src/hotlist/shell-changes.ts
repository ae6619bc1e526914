import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './repository.js';
import type { HotListChange, HotListChangeLog } from './local-entries.js';
import type { Sealer } from '../state/device-keys.js';

/** One line of the file: the change sealed with the device key (P16: a local entry's plate is in it). */
interface SealedLine {
  kid: string;
  sealed: string;
}

const AAD = 'hotlist-shell-change';

/**
 * Hot-list changes made from the shell (`hotlist import|add|remove`), waiting for the running daemon
 * to publish them on the MQTT `audit` topic as it does its own (docs/hotlists.md). The command
 * appends one JSON line per change; the daemon, at each hot-list check, takes the lines past the
 * offset it saved last time. The access log is the record of the change (P6); this file only carries
 * it across the process boundary, so a change made while the daemon is down is published once it runs.
 * Each line is sealed with the device key, as reads are in the store (P16): a local entry's plate
 * is never in the file in the clear.
 */
export class ShellChangeQueue implements HotListChangeLog {
  private readonly file: string;
  private readonly offsetFile: string;

  constructor(
    stateDir: string,
    private readonly keys: Sealer,
  ) {
    const dir = join(stateDir, 'hotlists');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'shell-changes.jsonl');
    this.offsetFile = join(dir, 'shell-changes.published');
  }

  append(change: HotListChange): void {
    // One write of one line: appends from several shells do not interleave.
    const kid = this.keys.currentKeyId;
    const line: SealedLine = { kid, sealed: this.keys.seal(Buffer.from(JSON.stringify(change)), AAD, kid).toString('base64') };
    appendFileSync(this.file, JSON.stringify(line) + '\n', { mode: 0o600 });
  }

  /**
   * Changes appended since the last take, oldest first, and marks them taken. `unreadable` counts
   * lines that are not a change (a shell killed mid-write, a line that does not open with the device
   * keys); they are skipped, not retried. Lines written in the clear before sealing are still read.
   */
  take(): { changes: HotListChange[]; unreadable: number } {
    const none = { changes: [], unreadable: 0 };
    if (!existsSync(this.file)) return none;
    const size = statSync(this.file).size;
    let offset = existsSync(this.offsetFile) ? Number(readFileSync(this.offsetFile, 'utf8')) : 0;
    // A file replaced by a shorter one (restored, or removed by hand) starts again from its beginning.
    if (!Number.isInteger(offset) || offset > size) offset = 0;
    if (offset === size) return none;
    const bytes = Buffer.alloc(size - offset);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, bytes, 0, bytes.length, offset);
    } finally {
      closeSync(fd);
    }
    // Only whole lines: a line still being appended is taken next time.
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end === 0) return none;
    const changes: HotListChange[] = [];
    let unreadable = 0;
    for (const line of bytes.subarray(0, end).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const parsed = JSON.parse(line) as SealedLine | HotListChange;
        changes.push('sealed' in parsed ? (JSON.parse(this.keys.open(Buffer.from(parsed.sealed, 'base64'), AAD, parsed.kid).toString('utf8')) as HotListChange) : parsed);
      } catch {
        unreadable++;
      }
    }
    writeFileAtomic(this.offsetFile, String(offset + end));
    return { changes, unreadable };
  }
}
