import type { Logger } from 'pino';
import type { StoreConfig } from '../config/schema.js';
import type { Read } from '../pipeline/read.js';
import type { ImageBucketWidth, StateDatabase } from '../state/database.js';
import type { DeviceKeys } from '../state/device-keys.js';
import { budgetShort, enforceBudget, purgeOldest } from './budget-purge.js';
import { ForwardedPurge } from './forwarded-purge.js';
import { migrateIndexLayout } from './index-migration.js';
import { sweepOrphanIndexEntries } from './orphan-sweep.js';
import { putIndexEntriesInTxn } from './plate-index.js';
import { isHeld, oldestRemainingAt, type PurgeContext, type PurgeResult } from './purge-batch.js';
import { bucketOf, ReadImages } from './read-images.js';
import { findRecord, READS } from '../state/records.js';
import { openRead, sealRead, type ImageKind, type SealedRead, type ReadView, type StoredRead, type StoredReadDecoder } from './read-record.js';
import { searchReads, visibleAt, type ReadPage, type ReadQuery, type SearchSource } from './read-search.js';
import { purgeExpired } from './retention-purge.js';
import { storeUsage, type StoreUsage } from './store-usage.js';

export { ulidTimeMs, ulidTimePrefix } from '../ids/ulid.js';
export { indexDay } from './plate-index.js';
export type { PurgeResult } from './purge-batch.js';
export type { ImageKind, ReadView, StoredRead, StoredReadDecoder } from './read-record.js';
export type { PlateMatch, ReadPage, ReadQuery } from './read-search.js';
export type { StoreUsage } from './store-usage.js';

const DAY_MS = 86_400_000;

/** Image buckets of an hour, for retentions short enough that the hours fit LMDB's table (maxDbs). */
const HOURLY_BUCKETS_MAX_RETENTION_DAYS = 120;

function isStorageFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return /MDB_MAP_FULL|ENOSPC|No space left|MAP_FULL/i.test(`${String(e?.code)} ${String(e?.message)}`);
}

/**
 * The ring store (LMDB): reads keyed by ULID, plate indexes as keyed tags, images in their own
 * sub-databases, everything identifying sealed with AES-256-GCM. Retention (P3) is enforced twice:
 * reads past their age are filtered from every answer, and purged in small batches. This class
 * writes and reads; each other job has a module of its own: sealing (`read-record`), the plate
 * indexes (`plate-index`, `index-migration`, `orphan-sweep`), images (`read-images`), search
 * (`read-search`), the purge policies (`retention-purge`, `budget-purge`, `forwarded-purge` over
 * `purge-batch`) and usage (`store-usage`).
 */
export class ReadStore {
  /** Records that failed to decode since start (corrupt or sealed with a lost key). */
  corruptSkipped = 0;
  private readonly retentionMs: number;
  /**
   * Hours, so that a purge of any 24 h leaves at most one hour of reads whose images must go one
   * by one (the bucket the cutoff falls in): P3 lets nothing outlive its age to batch a drop.
   */
  private readonly bucketWidth: ImageBucketWidth;
  private readonly images: ReadImages;
  private readonly purge: PurgeContext;
  private readonly forwarded: ForwardedPurge;
  private readonly searchSource: SearchSource;
  private stopping = false;
  /** Every reader of `reads` gets its records through this: checked, a damaged one skipped and counted. */
  private readonly record: StoredReadDecoder = (id, value) => {
    try {
      return findRecord(READS, id, value);
    } catch (err) {
      this.countCorrupt(id, err, 'corrupt read record skipped');
      return undefined;
    }
  };

  constructor(
    readonly db: StateDatabase,
    readonly keys: DeviceKeys,
    private readonly config: StoreConfig,
    private readonly logger: Logger,
    private readonly path: string,
  ) {
    this.retentionMs = config.retentionDays * DAY_MS;
    this.bucketWidth = config.retentionDays <= HOURLY_BUCKETS_MAX_RETENTION_DAYS ? 'hour' : 'day';
    this.images = new ReadImages(db, logger, this.record);
    this.purge = { db, images: this.images, purgeBatchSize: config.purgeBatchSize, logger, stopping: () => this.stopping, record: this.record };
    this.forwarded = new ForwardedPurge(this.purge, config.forwardThenPurge);
    const store = this;
    this.searchSource = {
      db,
      keys,
      retentionCutoffMs: (nowMs) => this.retentionCutoffMs(nowMs),
      record: this.record,
      open: (id, stored) => this.open(id, stored),
      get corruptSkipped() {
        return store.corruptSkipped;
      },
    };
    migrateIndexLayout(db, logger, this.record);
  }

  /** Oldest capture time that may still be returned (P3). */
  retentionCutoffMs(nowMs = Date.now()): number {
    return nowMs - this.retentionMs;
  }

  private writeBatch(prepared: SealedRead[]): Promise<unknown> {
    const { db, images } = this;
    // Bucket databases are opened outside the transaction (see ImageBuckets).
    images.openForWrite(prepared.map((p) => bucketOf(p.id, p.stored)!));
    // One asynchronous LMDB batch = one transaction: a read and its indexes and images commit together.
    return db.root.batch(() => {
      for (const { id, stored, images: sealed } of prepared) {
        // Should a purge have dropped the read's bucket meanwhile (a read stamped with a time already
        // past retention), its images go where reads outliving their bucket keep theirs.
        const target = db.imageBuckets.cached(bucketOf(id, stored)!) ?? db.keptImages;
        const record: StoredRead = target === db.keptImages ? { ...stored, imagesIn: 'kept' } : stored;
        db.reads.put(id, record);
        images.putInTxn(target, id, 'plate', sealed.plate);
        images.putInTxn(target, id, 'overview', sealed.overview);
        putIndexEntriesInTxn(db, id, stored);
        db.byCamera.put([stored.cameraId, id], 1);
      }
    });
  }

  /**
   * Stores reads in one transaction; resolves once committed (that is the acknowledgement). A full
   * map or disk makes room by purging the oldest reads not under hold, then retries once.
   */
  async putMany(reads: Read[]): Promise<void> {
    if (reads.length === 0) return;
    const prepared = reads.map((r) => sealRead(r, this.keys, this.bucketWidth));
    try {
      await this.writeBatch(prepared);
    } catch (err) {
      if (!isStorageFull(err)) throw err;
      this.logger.warn({ err: (err as Error).message }, 'store full; purging the oldest reads not under hold, then retrying');
      const r = await purgeOldest(this.purge, Math.max(this.config.purgeBatchSize, reads.length * 2));
      this.logger.warn({ reason: 'disk-budget', ...r, oldestRemainingAt: oldestRemainingAt(this.purge) }, 'purge to make room');
      await this.writeBatch(prepared);
    }
  }

  put(read: Read): Promise<void> {
    return this.putMany([read]);
  }

  /** A damaged record (or image) is skipped and counted; it never takes the daemon or a search down. */
  private countCorrupt(readId: string, err: unknown, what: string, kind?: ImageKind): void {
    this.corruptSkipped++;
    this.logger.warn({ readId, ...(kind ? { kind } : {}), err: (err as Error).message }, what);
  }

  private open(id: string, stored: StoredRead): ReadView | undefined {
    try {
      return openRead(id, stored, this.keys);
    } catch (err) {
      this.countCorrupt(id, err, 'corrupt read record skipped');
      return undefined;
    }
  }

  get(id: string, nowMs = Date.now()): ReadView | undefined {
    const stored = this.record(id, this.db.reads.get(id));
    if (!stored || !visibleAt(stored, this.retentionCutoffMs(nowMs))) return undefined;
    return this.open(id, stored);
  }

  /** Held reads regardless of age: only for evidence exports of that hold (P4). */
  getForExport(id: string): ReadView | undefined {
    const stored = this.record(id, this.db.reads.get(id));
    return stored && this.open(id, stored);
  }

  image(id: string, kind: ImageKind, nowMs = Date.now(), opts: { ignoreRetention?: boolean } = {}): Buffer | undefined {
    const stored = this.record(id, this.db.reads.get(id));
    if (!stored || (!opts.ignoreRetention && !visibleAt(stored, this.retentionCutoffMs(nowMs)))) return undefined;
    const blob = this.images.sealedImage(id, kind, stored);
    if (!blob) return undefined;
    try {
      return this.keys.open(blob, `image:${id}:${kind}`, stored.kid);
    } catch (err) {
      this.countCorrupt(id, err, 'corrupt image skipped', kind);
      return undefined;
    }
  }

  /** Searches reads newest first: by plate (exact, look-alike, or partial with * ? _), camera and time. */
  search(q: ReadQuery, nowMs = Date.now()): ReadPage {
    return searchReads(this.searchSource, q, nowMs);
  }

  isHeld(id: string): boolean {
    return isHeld(this.db, id);
  }

  /**
   * Shutdown: purges running now end after the batch in hand, and later ones do nothing, so the
   * environment can be closed within the daemon's stop limit. The next start's purge goes on.
   */
  stopPurges(): void {
    this.stopping = true;
  }

  /** Removes plate index entries left behind by a crash between a purge and its index deletion. */
  sweepOrphanIndexEntries(): Promise<number> {
    return sweepOrphanIndexEntries(this.purge);
  }

  /** P3: purges every read past its age in batches, yielding to the event loop between batches. */
  purgeExpired(nowMs = Date.now()): Promise<PurgeResult> {
    return purgeExpired(this.purge, this.retentionCutoffMs(nowMs));
  }

  /** Ids of the reads that have image chunks anywhere in the store (tests, consistency checks). */
  readIdsWithImages(): Set<string> {
    return this.images.readIdsWithImages();
  }

  usage(): StoreUsage {
    return storeUsage(this.db, this.path);
  }

  /** True while the store is over its byte budget or the file system under its free-space floor. */
  budgetShort(u = this.usage()): boolean {
    return budgetShort(u, this.config);
  }

  /** Purges the oldest reads not under hold until the store is 5 % under budget again. */
  enforceBudget(): Promise<PurgeResult | undefined> {
    return enforceBudget(this.purge, this.config, () => this.usage());
  }

  /** P5 forward-then-purge: the central side has the read (deleted in batches, `flushAcknowledged`). */
  acknowledge(readId: string): void {
    this.forwarded.acknowledge(readId);
  }

  flushAcknowledged(): PurgeResult | undefined {
    return this.forwarded.flush();
  }
}
