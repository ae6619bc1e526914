import type { Logger } from 'pino';
import { appendAccessLogInTxn } from '../access/access-log.js';
import { ulidTimePrefix } from '../ids/ulid.js';
import { ImageBuckets, type StateDatabase } from '../state/database.js';
import { plateIndexKeys, type IndexDeletions } from './plate-index.js';
import { bucketOf, OWED_IMAGE_BUCKETS, type ReadImages } from './read-images.js';
import type { StoredRead, StoredReadDecoder } from './read-record.js';

export interface PurgeResult {
  reason: 'retention' | 'disk-budget' | 'forwarded';
  purged: number;
  keptHeld: number;
  oldestRemainingAt: string | null;
}

/** What every purge policy works with: the database, where images lie, the batch size, the log. */
export interface PurgeContext {
  db: StateDatabase;
  images: ReadImages;
  purgeBatchSize: number;
  logger: Logger;
  /**
   * True once the store is stopping: a purge ends after the batch in hand, so a stop stays within
   * the daemon's 5 s. What it leaves is what a kill there leaves (owed buckets, orphan index
   * entries), which the next purge finishes.
   */
  stopping(): boolean;
  /** The stored record, checked (`decodeRecord`); undefined for a damaged one, which the store counts. */
  record: StoredReadDecoder;
}

/** Ids of the reads under an evidence hold (P4): never purged. */
export function heldIds(db: StateDatabase): Set<string> {
  const held = new Set<string>();
  for (const key of db.heldReads.getKeys()) held.add((key as [string, string])[0]);
  return held;
}

export function isHeld(db: StateDatabase, id: string): boolean {
  for (const _ of db.heldReads.getKeys({ start: [id, ''], end: [id, '\uffff'], limit: 1 })) return true;
  return false;
}

export function oldestRemainingAt(ctx: Pick<PurgeContext, 'db' | 'record'>): string | null {
  for (const { key, value } of ctx.db.reads.getRange({ limit: 1 })) {
    const s = ctx.record(key as string, value);
    return s ? new Date(s.capturedAtMs).toISOString() : null;
  }
  return null;
}

/**
 * Removes one read with its images and camera entry; call inside a write transaction. Its plate
 * index entries are deleted at once, or handed to `indexKeys` to be deleted later in key order.
 * When its images lie in a bucket that ends by `dropBucketsEndingBy` (and so will be dropped
 * whole), they are left for that drop and the bucket is returned: the caller records it as owed in
 * the same transaction (`OWED_IMAGE_BUCKETS`), so a crash before the drop leaves no image for good.
 */
export function deleteReadInTxn(ctx: Pick<PurgeContext, 'db' | 'images'>, id: string, s: StoredRead | undefined, indexKeys?: IndexDeletions, dropBucketsEndingBy = -Infinity): string | undefined {
  const { db, images } = ctx;
  db.reads.remove(id);
  if (!s) {
    // A damaged record (counted by the store) does not say where its images lie: they are looked for
    // by key. Its index and camera entries stay behind, never shown (the read is gone); the orphan
    // sweep removes its plate index entries.
    images.deleteAnywhereInTxn(id);
    return undefined;
  }
  let owedBucket: string | undefined;
  const bucket = bucketOf(id, s);
  const home = images.homeOf(id, s);
  if (bucket && ImageBuckets.rangeOf(bucket)!.endMs <= dropBucketsEndingBy) owedBucket = bucket;
  else if (home) images.deleteInTxn(home, id, s);
  const k = plateIndexKeys(id, s);
  if (indexKeys) {
    indexKeys.plate.push(k.plate);
    indexKeys.lookAlike.push(k.lookAlike);
  } else {
    db.byPlate.remove(k.plate);
    db.byLookAlike.remove(k.lookAlike);
  }
  db.byCamera.remove([s.cameraId, id]);
  return owedBucket;
}

export interface PurgeBatchResult {
  purged: number;
  keptHeld: number;
  lastScanned?: string;
  exhausted: boolean;
}

/**
 * Deletes up to `batchSize` reads older than `beforeMs` (all reads for the disk budget), oldest
 * first, skipping held ones (P4), in one write transaction together with its access-log entry.
 * The transaction is asynchronous: its work runs between pipeline writes and its commit (the
 * fsync) off the event loop. Plate index keys of deleted reads are collected in `indexKeys`.
 * Images in buckets ending by `dropBucketsEndingBy` are left for `ReadImages.dropBuckets`.
 */
export function purgeBatch(ctx: PurgeContext, reason: PurgeResult['reason'], beforeMs: number, batchSize: number, startAfter: string | undefined, indexKeys: IndexDeletions, dropBucketsEndingBy = -Infinity): Promise<PurgeBatchResult> {
  const { db, images } = ctx;
  const end = reason === 'retention' ? ulidTimePrefix(beforeMs) : undefined;
  return db.root.transaction(() => {
    const owed = new Set(images.owedBuckets());
    const owedBefore = owed.size;
    let purged = 0;
    let keptHeld = 0;
    let lastScanned: string | undefined;
    // A read deleted with its images is 11 deletes at 30 KB; one whose images go with their bucket
    // (or one only looked at) is 2-3: a batch holds `batchSize` of the first kind, or 4 times as many
    // of the second, for about the same time on the event loop.
    let work = 0;
    let full = false;
    // Read inside the deleting transaction, so a hold created a moment ago is honoured (P4); one
    // scan of the (small) held set per batch instead of a lookup per read.
    const held = heldIds(db);
    for (const { key, value } of db.reads.getRange({ ...(startAfter ? { start: startAfter, exclusiveStart: true } : {}), ...(end ? { end } : {}) })) {
      if (work >= batchSize) {
        full = true;
        break;
      }
      work += 0.25;
      const id = key as string;
      lastScanned = id;
      // A damaged record (counted by the store) is purged by its id's time: nothing outlives its age (P3).
      const s = ctx.record(id, value);
      if (reason === 'retention' && s && s.capturedAtMs >= beforeMs) continue;
      if (held.has(id)) {
        keptHeld++;
        continue;
      }
      const owedBucket = deleteReadInTxn(ctx, id, s, indexKeys, dropBucketsEndingBy);
      if (owedBucket !== undefined) owed.add(owedBucket);
      else work += 0.75;
      purged++;
    }
    if (owed.size > owedBefore) db.meta.put(OWED_IMAGE_BUCKETS, [...owed].sort());
    if (purged > 0) appendAccessLogInTxn(db, { user: 'system', action: 'purge', parameters: { reason, purged, keptHeld }, result: 'ok' });
    return { purged, keptHeld, lastScanned, exhausted: !full };
  });
}
