import type { PlateIndexKey } from '../state/database.js';
import { indexDay } from './plate-index.js';
import { heldIds, type PurgeContext } from './purge-batch.js';

/**
 * Removes plate index entries of days older than the oldest read not under hold whose read is
 * gone: what a crash between a purge and its index deletion left behind. Cheap when there is
 * nothing to do (only held reads have entries there).
 */
export async function sweepOrphanIndexEntries(ctx: Pick<PurgeContext, 'db' | 'purgeBatchSize' | 'logger' | 'stopping'>): Promise<number> {
  const { db } = ctx;
  const held = heldIds(db);
  let oldest: string | undefined;
  for (const key of db.reads.getKeys()) {
    if (!held.has(key as string)) {
      oldest = key as string;
      break;
    }
  }
  const endDay = oldest === undefined ? Number.MAX_SAFE_INTEGER : indexDay(oldest);
  const per = ctx.purgeBatchSize * 2;
  let removed = 0;
  for (const index of [db.byPlate, db.byLookAlike]) {
    const orphans = [...index.getKeys({ end: [endDay] })].filter((k) => !db.reads.doesExist((k as PlateIndexKey)[3])) as PlateIndexKey[];
    for (let off = 0; off < orphans.length && !ctx.stopping(); off += per) {
      const slice = orphans.slice(off, off + per);
      await db.root.transaction(() => {
        for (const k of slice) index.remove(k);
      });
      removed += slice.length;
    }
  }
  if (removed > 0) ctx.logger.info({ removed }, 'orphan plate index entries removed');
  return removed;
}
