import type { Logger } from 'pino';
import type { StateDatabase } from '../state/database.js';
import { putIndexEntriesInTxn } from './plate-index.js';
import type { StoredRead, StoredReadDecoder } from './read-record.js';

/** Layout of the plate indexes; older stores are re-indexed once at open. */
const INDEX_LAYOUT = 2;

/**
 * Layout 1 keyed the plate indexes [keyId, tag, readId]: a purge deleted entries scattered over the
 * whole index, dirtying about one page per entry per index (bench: 3.1 s for one day of 20k reads
 * at 600k, most of it writing those pages at commit). Layout 2 leads with the day, so one day's
 * entries share few pages. The indexes are rebuilt from the clear-text tags in the reads; a crash
 * part-way leaves the layout mark unset and the rebuild starts again at the next open.
 */
export function migrateIndexLayout(db: StateDatabase, logger: Logger, record: StoredReadDecoder): void {
  if (db.meta.get('index.layout') === INDEX_LAYOUT) return;
  if (db.reads.getCount() > 0 || db.byPlate.getCount() > 0) {
    db.byPlate.clearSync();
    db.byLookAlike.clearSync();
    let batch: Array<[string, StoredRead]> = [];
    const flush = () => {
      db.root.transactionSync(() => {
        for (const [id, s] of batch) putIndexEntriesInTxn(db, id, s);
      });
      batch = [];
    };
    for (const { key, value } of db.reads.getRange()) {
      // A damaged record (counted by the store) gets no index entries: searches could not show it.
      const s = record(key as string, value);
      if (s) batch.push([key as string, s]);
      if (batch.length >= 5000) flush();
    }
    flush();
    logger.info({ reads: db.reads.getCount(), layout: INDEX_LAYOUT }, 'plate indexes rebuilt in the day-first layout');
  }
  db.meta.putSync('index.layout', INDEX_LAYOUT);
}
