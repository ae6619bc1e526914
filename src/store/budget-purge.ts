import type { StoreConfig } from '../config/schema.js';
import { removeIndexEntries, type IndexDeletions } from './plate-index.js';
import { oldestRemainingAt, purgeBatch, type PurgeContext, type PurgeResult } from './purge-batch.js';
import type { StoreUsage } from './store-usage.js';

export type BudgetLimits = Pick<StoreConfig, 'maxBytes' | 'minFreeBytes'>;

/** True while the store is over its byte budget or the file system under its free-space floor. */
export function budgetShort(u: StoreUsage, limits: BudgetLimits): boolean {
  return u.usedBytes > limits.maxBytes || u.fsFreeBytes < limits.minFreeBytes;
}

/** Deletes up to `count` of the oldest reads not under hold (disk budget, full map). */
export async function purgeOldest(ctx: PurgeContext, count: number): Promise<{ purged: number; keptHeld: number }> {
  let purged = 0;
  let keptHeld = 0;
  let startAfter: string | undefined;
  const indexKeys: IndexDeletions = { plate: [], lookAlike: [] };
  ctx.db.imageBuckets.openAll();
  while (purged < count && !ctx.stopping()) {
    const r = await purgeBatch(ctx, 'disk-budget', Infinity, Math.min(ctx.purgeBatchSize, count - purged), startAfter, indexKeys);
    purged += r.purged;
    keptHeld += r.keptHeld;
    startAfter = r.lastScanned;
    if (r.exhausted) break;
  }
  await removeIndexEntries(ctx.db, indexKeys, ctx.purgeBatchSize, ctx.stopping);
  return { purged, keptHeld };
}

/**
 * Purges the oldest reads not under hold until the store is 5 % under budget again, in batches
 * with yields. Free space on the file system only returns once LMDB reuses freed pages, so a low
 * floor is answered by making room inside the file rather than growing it.
 */
export async function enforceBudget(ctx: PurgeContext, limits: BudgetLimits, usage: () => StoreUsage): Promise<PurgeResult | undefined> {
  const start = usage();
  if (!budgetShort(start, limits)) return undefined;
  const target = Math.min(limits.maxBytes, start.usedBytes) * 0.95;
  let purged = 0;
  let keptHeld = 0;
  while (!ctx.stopping() && usage().usedBytes > target) {
    const r = await purgeOldest(ctx, ctx.purgeBatchSize);
    purged += r.purged;
    keptHeld = r.keptHeld;
    if (r.purged === 0) break;
  }
  const result: PurgeResult = { reason: 'disk-budget', purged, keptHeld, oldestRemainingAt: oldestRemainingAt(ctx) };
  ctx.logger.warn({ ...result, usedBytes: usage().usedBytes, maxBytes: limits.maxBytes, minFreeBytes: limits.minFreeBytes }, 'disk-budget purge');
  return result;
}
