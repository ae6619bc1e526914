import type { ImageChunkKey, PlateIndexKey, StateDatabase } from '../state/database.js';

/**
 * Deletes of a span of read ids by key ranges, for whole hours past retention: every table a read
 * has entries in is keyed by (or ends with) the read id, so the entries of a span are found by
 * walking keys, never by decoding a record (7-8 µs each, more than the deletes). Held reads (P4)
 * are skipped by id. Call the `…InTxn` functions inside a write transaction.
 */

/** Above every character of a read id (Crockford base32): `id + ID_END` bounds keys ending with `id`. */
const ID_END = '~';

/** The cameras that have entries in `byCamera`: one seek per camera, not a walk of the index. */
export function cameraIds(db: StateDatabase): string[] {
  const ids: string[] = [];
  let start: [string, string] | [string] = [''];
  for (;;) {
    let next: string | undefined;
    for (const key of db.byCamera.getKeys({ start, limit: 1 })) next = (key as [string, string])[0];
    if (next === undefined) return ids;
    ids.push(next);
    start = [next, ID_END];
  }
}

export interface IdSpanResult {
  deleted: number;
  keptHeld: number;
  /** Upper bound (exclusive) of the span walked; the next span starts there. */
  next: string;
  exhausted: boolean;
}

/**
 * Deletes the reads with ids from `from` up to (not including) `before`, at most `limit` of them,
 * with their camera entries and any images kept outside buckets (`keptImages`, `legacyImages`);
 * images in bucket databases go with the bucket's drop, plate index entries with `walkIndexEntries`
 * and `deleteIndexEntriesInTxn`. Entries whose read is already gone (left by a kill) go too.
 */
export function deleteIdSpanInTxn(db: StateDatabase, from: string, before: string, limit: number, held: ReadonlySet<string>, cameras: readonly string[]): IdSpanResult {
  const ids = [...db.reads.getKeys({ start: from, end: before, limit: limit + 1 })] as string[];
  const exhausted = ids.length <= limit;
  // A span ends just past its last id, so the camera and image ranges below cover exactly its reads.
  const next = exhausted ? before : ids[limit - 1]! + ID_END;
  let deleted = 0;
  let keptHeld = 0;
  for (const id of ids.slice(0, limit)) {
    if (held.has(id)) {
      keptHeld++;
      continue;
    }
    db.reads.remove(id);
    deleted++;
  }
  for (const camera of cameras) {
    const keys = [...db.byCamera.getKeys({ start: [camera, from], end: [camera, next] })] as Array<[string, string]>;
    for (const key of keys) if (!held.has(key[1])) db.byCamera.remove(key);
  }
  for (const images of [db.keptImages, db.legacyImages]) {
    const keys = [...images.getKeys({ start: [from], end: [next] })] as ImageChunkKey[];
    for (const key of keys) if (!held.has(key[0])) images.remove(key);
  }
  return { deleted, keptHeld, next, exhausted };
}

/**
 * The plate index entries `doomed` picks, in key order, read from a snapshot (no write lock held
 * while walking), at most `limit` keys walked from `start` on; `next` is where the walk goes on,
 * undefined at its end. The index leads with the id's UTC day, so the walk ends with `lastDay`;
 * deleting in this order rewrites each index page once.
 */
export function walkIndexEntries(index: StateDatabase['byPlate'], doomed: (key: PlateIndexKey) => boolean, lastDay: number, start: PlateIndexKey | undefined, limit: number): { keys: PlateIndexKey[]; next: PlateIndexKey | undefined } {
  const keys: PlateIndexKey[] = [];
  let walked = 0;
  for (const k of index.getKeys({ ...(start ? { start } : {}), end: [lastDay + 1] })) {
    const key = k as PlateIndexKey;
    if (walked++ === limit) return { keys, next: key };
    if (doomed(key)) keys.push(key);
  }
  return { keys, next: undefined };
}

/** Deletes the given plate index entries except those of held reads (P4); inside a write transaction. */
export function deleteIndexEntriesInTxn(index: StateDatabase['byPlate'], keys: readonly PlateIndexKey[], held: ReadonlySet<string>): number {
  let deleted = 0;
  for (const key of keys) {
    if (held.has(key[3])) continue;
    index.remove(key);
    deleted++;
  }
  return deleted;
}
