import { ulidTimeMs, ulidTimePrefix } from '../ids/ulid.js';
import type { PlateIndexKey, StateDatabase } from '../state/database.js';
import { deleteIndexEntriesInTxn, walkIndexEntries } from './key-ranges.js';
import type { StoredRead } from './read-record.js';

const DAY_MS = 86_400_000;

/** The plate-index bucket of a read: the UTC day of its id's time. */
export function indexDay(id: string): number {
  return Math.floor(ulidTimeMs(id) / DAY_MS);
}

/** A read's entries in the two plate indexes (exact and look-alike), day first. */
export function plateIndexKeys(id: string, s: Pick<StoredRead, 'kid' | 'tags'>): { plate: PlateIndexKey; lookAlike: PlateIndexKey } {
  const day = indexDay(id);
  return { plate: [day, s.kid, s.tags.plate, id], lookAlike: [day, s.kid, s.tags.lookAlike, id] };
}

/** Inside a write transaction: indexes a read by its keyed plate tags. */
export function putIndexEntriesInTxn(db: StateDatabase, id: string, s: Pick<StoredRead, 'kid' | 'tags'>): void {
  const k = plateIndexKeys(id, s);
  db.byPlate.put(k.plate, 1);
  db.byLookAlike.put(k.lookAlike, 1);
}

/** Plate index entries of purged reads, deleted after the reads in key order. */
export interface IndexDeletions {
  plate: PlateIndexKey[];
  lookAlike: PlateIndexKey[];
}

/**
 * Plate-index keys in LMDB order (day, then key id, tag, read id). The parts are ASCII without NUL,
 * so one joined string per key (day zero-padded) sorts like the keys; a plain string sort is several
 * times faster than a comparator over arrays for the tens of thousands of keys of a day's purge.
 */
function sortIndexKeys(keys: PlateIndexKey[]): PlateIndexKey[] {
  return keys
    .map((k) => `${String(k[0]).padStart(8, '0')}\u0000${k[1]}\u0000${k[2]}\u0000${k[3]}`)
    .sort()
    .map((joined) => {
      const [day, kid, tag, id] = joined.split('\u0000') as [string, string, string, string];
      return [Number(day), kid, tag, id];
    });
}

/**
 * Deletes the plate index entries of purged reads in key order, `purgeBatchSize` reads' worth per
 * transaction: consecutive keys share pages, so each index page is rewritten about once per purge
 * instead of once per entry. Until then an entry points at a read that is gone, which a search
 * skips; a crash in between leaves entries that `sweepOrphanIndexEntries` removes.
 */
export async function removeIndexEntries(db: StateDatabase, keys: IndexDeletions, purgeBatchSize: number, stopping: () => boolean = () => false): Promise<void> {
  // Sorted deletes of small keys touch few pages: 8 per purged read's worth keeps a transaction
  // about as long on the event loop as a purge batch, with fewer commits (fsyncs) per purge.
  const per = purgeBatchSize * 8;
  for (const [index, unsorted] of [[db.byPlate, keys.plate], [db.byLookAlike, keys.lookAlike]] as const) {
    const list = sortIndexKeys(unsorted);
    unsorted.length = 0;
    for (let off = 0; off < list.length && !stopping(); off += per) {
      const slice = list.slice(off, off + per);
      await db.root.transaction(() => {
        for (const k of slice) index.remove(k);
      });
    }
  }
}

/**
 * Deletes the plate index entries of the reads purged by ranges (ids before `endMs`, not held)
 * and those of the reads purged one by one (`perRead`), walking each index once in key order:
 * the indexes lead with the day, so each page is rewritten once. Sorted deletes of small keys and
 * nothing else: 32 purged reads' worth per transaction keeps it about as long on the event loop
 * as a purge batch, with few commits.
 */
export async function removeIndexEntriesBefore(db: StateDatabase, endMs: number, perRead: IndexDeletions, purgeBatchSize: number, heldIds: () => ReadonlySet<string>, stopping: () => boolean = () => false): Promise<void> {
  const before = ulidTimePrefix(endMs);
  const keysPerTxn = purgeBatchSize * 32;
  const joined = (k: PlateIndexKey) => `${k[0]}\u0000${k[1]}\u0000${k[2]}\u0000${k[3]}`;
  for (const [index, listed] of [[db.byPlate, perRead.plate], [db.byLookAlike, perRead.lookAlike]] as const) {
    const pending = new Map(listed.map((k) => [joined(k), k]));
    listed.length = 0;
    let start: PlateIndexKey | undefined;
    do {
      // A backlog of months is walked 100k keys at a time, not held in memory at once.
      const walk = walkIndexEntries(index, (k) => k[3] < before || (pending.size > 0 && pending.delete(joined(k))), Math.floor(endMs / DAY_MS), start, 100_000);
      for (let off = 0; off < walk.keys.length && !stopping(); off += keysPerTxn) {
        const slice = walk.keys.slice(off, off + keysPerTxn);
        await db.root.transaction(() => deleteIndexEntriesInTxn(index, slice, heldIds()));
      }
      start = walk.next;
    } while (start && !stopping());
    // Entries of reads purged one by one that lie past the walk (none unless a clock stepped).
    if (index === db.byPlate) perRead.plate.push(...pending.values());
    else perRead.lookAlike.push(...pending.values());
  }
  await removeIndexEntries(db, perRead, purgeBatchSize, stopping);
}
