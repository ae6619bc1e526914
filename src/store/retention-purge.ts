import { appendAccessLogInTxn } from '../access/access-log.js';
import { ulidTimePrefix } from '../ids/ulid.js';
import { ImageBuckets } from '../state/database.js';
import { cameraIds, deleteIdSpanInTxn } from './key-ranges.js';
import { sweepOrphanIndexEntries } from './orphan-sweep.js';
import { removeIndexEntries, removeIndexEntriesBefore, type IndexDeletions } from './plate-index.js';
import { heldIds, oldestRemainingAt, purgeBatch, type PurgeContext, type PurgeResult } from './purge-batch.js';

const HOUR_MS = 3_600_000;

/**
 * Where the purge by key ranges stops: the start of the hour the cutoff falls in, or of an older
 * bucket still spanning it (a day's bucket of a longer retention). Every bucket ending by then is
 * dropped whole, so no image of a read purged by range is left behind.
 */
function wholeBucketsEnd(ctx: PurgeContext, cutoffMs: number): number {
  let end = Math.floor(cutoffMs / HOUR_MS) * HOUR_MS;
  for (const name of ctx.db.imageBuckets.names()) {
    const { startMs, endMs } = ImageBuckets.rangeOf(name)!;
    if (startMs < end && endMs > end) end = startMs;
  }
  return end;
}

/**
 * P3 for whole buckets past retention: their reads and camera entries go by key ranges (no record
 * decoded; held reads skipped by id, P4), their images with the buckets' drop, their plate index
 * entries with `removeIndexEntriesBefore`. The first transaction records the buckets as owed, so
 * a kill before the drop leaves no image for good. A read's id carries its capture time
 * (camera-pipeline), so ids before `endMs` are reads captured before it.
 */
async function purgeWholeBuckets(ctx: PurgeContext, endMs: number): Promise<{ purged: number; keptHeld: number }> {
  const { db, images } = ctx;
  const before = ulidTimePrefix(endMs);
  const cameras = cameraIds(db);
  const owing = db.imageBuckets.names().filter((n) => ImageBuckets.rangeOf(n)!.endMs <= endMs);
  // Walking keys and deleting by id costs about a quarter of a purge batch's per-read work.
  const readsPerTxn = ctx.purgeBatchSize * 4;
  let purged = 0;
  let keptHeld = 0;
  let from = '';
  for (let first = true; ; first = false) {
    const r = await db.root.transaction(() => {
      const span = deleteIdSpanInTxn(db, from, before, readsPerTxn, heldIds(db), cameras);
      if (first && owing.length > 0) images.recordOwedInTxn(owing);
      if (span.deleted > 0) appendAccessLogInTxn(db, { user: 'system', action: 'purge', parameters: { reason: 'retention', purged: span.deleted, keptHeld: span.keptHeld }, result: 'ok' });
      return span;
    });
    purged += r.deleted;
    keptHeld += r.keptHeld;
    from = r.next;
    if (r.exhausted || ctx.stopping()) break;
  }
  return { purged, keptHeld };
}

/**
 * P3: purges every read captured before `cutoffMs` in batches, yielding to the event loop between
 * batches so the camera pipeline keeps running. Logged once with counts and the oldest remaining time.
 */
export async function purgeExpired(ctx: PurgeContext, cutoffMs: number): Promise<PurgeResult> {
  const { db, images } = ctx;
  db.imageBuckets.openAll();
  // Buckets that ended by the cutoff are past retention whole: by key ranges, images dropped with
  // the bucket. Reads of the bucket the cutoff falls in go one by one and take their images with
  // them (P3: nothing outlives its age to batch a drop).
  const wholeEnd = wholeBucketsEnd(ctx, cutoffMs);
  let { purged, keptHeld } = await purgeWholeBuckets(ctx, wholeEnd);
  let startAfter: string | undefined = ulidTimePrefix(wholeEnd);
  const indexKeys: IndexDeletions = { plate: [], lookAlike: [] };
  while (!ctx.stopping()) {
    const r = await purgeBatch(ctx, 'retention', cutoffMs, ctx.purgeBatchSize, startAfter, indexKeys, cutoffMs);
    purged += r.purged;
    keptHeld += r.keptHeld;
    startAfter = r.lastScanned ?? startAfter;
    if (r.exhausted) break;
    // A backlog of months would otherwise hold every index key in memory at once.
    if (indexKeys.plate.length >= 100_000) await removeIndexEntries(db, indexKeys, ctx.purgeBatchSize, ctx.stopping);
  }
  if (!ctx.stopping()) await images.dropBuckets(cutoffMs, ctx.stopping);
  if (!ctx.stopping()) await removeIndexEntriesBefore(db, wholeEnd, indexKeys, ctx.purgeBatchSize, () => heldIds(db), ctx.stopping);
  if (!ctx.stopping()) await sweepOrphanIndexEntries(ctx);
  const result: PurgeResult = { reason: 'retention', purged, keptHeld, oldestRemainingAt: oldestRemainingAt(ctx) };
  if (ctx.stopping()) ctx.logger.info(result, 'retention purge ended early for stop; the next purge goes on from here');
  else if (purged > 0 || keptHeld > 0) ctx.logger.info(result, 'retention purge');
  return result;
}
