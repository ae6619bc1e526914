import type { Logger } from 'pino';
import { ulidTimeMs, ulidTimePrefix } from '../ids/ulid.js';
import { ImageBuckets, type ImageChunkKey, type StateDatabase } from '../state/database.js';
import type { ImageKind, StoredRead, StoredReadDecoder } from './read-record.js';

type ImageDatabase = StateDatabase['keptImages'];

/** meta key: image buckets owed a drop (some of their reads deleted, their images not yet). */
export const OWED_IMAGE_BUCKETS = 'images.owedBuckets';

/** The bucket holding a read's images, when they are in one. */
export function bucketOf(id: string, s: Pick<StoredRead, 'imagesIn'> | undefined): string | undefined {
  return s?.imagesIn === 'hour' || s?.imagesIn === 'day' ? ImageBuckets.nameOf(ulidTimeMs(id), s.imagesIn) : undefined;
}

/**
 * Where a read's sealed images lie: in the image bucket of its hour (or day), dropped whole once
 * past retention; in `keptImages` once a read outlived its bucket (held, P4); in `legacyImages` for
 * reads stored before buckets. Images are stored in chunks of at most one LMDB page.
 */
export class ReadImages {
  private pageChunkBytes: number | undefined;

  constructor(
    private readonly db: StateDatabase,
    private readonly logger: Logger,
    /** The stored record, checked; undefined for a damaged one (counted by the store). */
    private readonly record: StoredReadDecoder,
  ) {}

  /**
   * Images are stored in chunks that each fill one LMDB page at most. A 30 KB value would need 8
   * contiguous pages, and after months of purges the free list has few such runs, so LMDB would
   * append to the file instead of reusing space (bench, 30 KB images: whole images grew the file
   * 19 % in 30 simulated days past the window; page-sized chunks: +1 MB in 27 days).
   * Single pages are always reusable, so the file stops growing once the retention window is full.
   */
  get chunkBytes(): number {
    this.pageChunkBytes ??= (this.db.root.getStats() as { pageSize: number }).pageSize - 64;
    return this.pageChunkBytes;
  }

  putInTxn(target: ImageDatabase, id: string, kind: ImageKind, sealed: Buffer): void {
    const size = this.chunkBytes;
    for (let i = 0, off = 0; off < sealed.length; i++, off += size) target.put([id, kind, i], sealed.subarray(off, off + size));
  }

  private static chunksIn(db: ImageDatabase, id: string, kind: ImageKind): Buffer[] {
    return [...db.getRange({ start: [id, kind, 0], end: [id, kind, Number.MAX_SAFE_INTEGER] })].map((e) => e.value);
  }

  /**
   * Opens (creating) the buckets of reads about to be written; outside a transaction (see
   * ImageBuckets). A bucket that cannot be made is logged: its reads keep their images in `keptImages`.
   */
  openForWrite(buckets: Iterable<string>): void {
    for (const bucket of new Set(buckets)) {
      try {
        this.db.imageBuckets.open(bucket, true);
      } catch (err) {
        // A full table of databases (MDB_DBS_FULL, after a retention change) must not lose reads:
        // their images go to `keptImages`, purged read by read.
        this.logger.warn({ bucket, err: (err as Error).message }, 'image bucket not created; images kept read by read');
      }
    }
  }

  /** Outside a transaction: the sealed image wherever its layout keeps it. */
  sealedImage(id: string, kind: ImageKind, s: StoredRead): Buffer | undefined {
    const { db } = this;
    let parts: Buffer[];
    const bucket = bucketOf(id, s);
    if (bucket) {
      try {
        const bucketDb = db.imageBuckets.open(bucket);
        parts = bucketDb ? ReadImages.chunksIn(bucketDb, id, kind) : [];
      } catch {
        // Another process dropped the bucket while we looked: the read, if still there, is now 'kept'.
        parts = [];
      }
      if (!parts.length && this.record(id, db.reads.get(id))?.imagesIn === 'kept') parts = ReadImages.chunksIn(db.keptImages, id, kind);
    } else {
      parts = ReadImages.chunksIn(s.imagesIn === 'kept' ? db.keptImages : db.legacyImages, id, kind);
    }
    return parts.length ? Buffer.concat(parts) : undefined;
  }

  /** Inside a transaction: the database holding a read's images (its bucket's must be open). */
  homeOf(id: string, s: StoredRead | undefined): ImageDatabase | undefined {
    const bucket = bucketOf(id, s);
    if (bucket) return this.db.imageBuckets.cached(bucket);
    return s?.imagesIn === 'kept' ? this.db.keptImages : this.db.legacyImages;
  }

  /**
   * Inside a transaction: deletes a read's image chunks from `home`. The chunk count follows from the
   * stored size (sealing adds 28 bytes), so no range scan per read; a record too damaged to say falls
   * back to scanning its image keys.
   */
  deleteInTxn(home: ImageDatabase, id: string, s: StoredRead | undefined): void {
    const sizes = s?.imageBytes;
    if (sizes && typeof sizes.plate === 'number' && typeof sizes.overview === 'number') {
      for (const kind of ['plate', 'overview'] as const) {
        const chunks = Math.ceil((sizes[kind] + 28) / this.chunkBytes);
        for (let i = 0; i < chunks; i++) home.remove([id, kind, i]);
      }
    } else {
      for (const key of home.getKeys({ start: [id, ''], end: [id, '\uffff'] })) home.remove(key as ImageChunkKey);
    }
  }

  /**
   * Inside a transaction: deletes the image chunks of a read whose record is damaged (so it does not
   * say where they lie) wherever they may be: the hour's or day's bucket of its id (if open), the
   * kept and the legacy images. A key scan of each, so only for the rare damaged record.
   */
  deleteAnywhereInTxn(id: string): void {
    const { db } = this;
    const buckets = (['hour', 'day'] as const).map((width) => db.imageBuckets.cached(ImageBuckets.nameOf(ulidTimeMs(id), width)));
    for (const home of [...buckets, db.keptImages, db.legacyImages]) if (home) this.deleteInTxn(home, id, undefined);
  }

  /** Buckets recorded as owed a drop (`OWED_IMAGE_BUCKETS`). */
  owedBuckets(): string[] {
    const names = this.db.meta.get(OWED_IMAGE_BUCKETS);
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string' && ImageBuckets.rangeOf(n) !== undefined) : [];
  }

  /** Inside a transaction: records buckets as owed a drop, so a crash before the drop leaves no image for good. */
  recordOwedInTxn(names: Iterable<string>): void {
    this.db.meta.put(OWED_IMAGE_BUCKETS, [...new Set([...this.owedBuckets(), ...names])].sort());
  }

  /**
   * Drops one image bucket whole: LMDB frees all its pages in one step instead of a delete per
   * chunk (9 per read at 30 KB). Reads still present in its time range (held, P4, or not yet past
   * their age) keep their images: those move to `keptImages` in the same transaction, so no read is
   * ever left without its images and, once committed, no image without its read. The bucket's
   * database must be open (`imageBuckets.openAll`). Call inside a write transaction.
   */
  private dropBucketInTxn(name: string): number {
    const { db } = this;
    const { startMs, endMs } = ImageBuckets.rangeOf(name)!;
    const bucketDb = db.imageBuckets.cached(name);
    let moved = 0;
    if (bucketDb) {
      for (const { key, value } of db.reads.getRange({ start: ulidTimePrefix(startMs), end: ulidTimePrefix(endMs) })) {
        const id = key as string;
        // A damaged record (counted by the store) loses its images with the bucket: none could be shown.
        const s = this.record(id, value);
        if (!s || bucketOf(id, s) !== name) continue;
        for (const chunk of bucketDb.getRange({ start: [id, ''], end: [id, '\uffff'] })) db.keptImages.put(chunk.key, chunk.value);
        db.reads.put(id, { ...s, imagesIn: 'kept' });
        moved++;
      }
      db.imageBuckets.dropInTxn(name);
    }
    const owed = this.owedBuckets();
    if (owed.includes(name)) db.meta.put(OWED_IMAGE_BUCKETS, owed.filter((n) => n !== name));
    return moved;
  }

  /** Drops every image bucket that ended by `endingBy`, and those a cut-off purge still owes. */
  async dropBuckets(endingBy: number, stopping: () => boolean = () => false): Promise<{ dropped: number; kept: number }> {
    const names = new Set([...this.db.imageBuckets.openAll().filter((n) => ImageBuckets.rangeOf(n)!.endMs <= endingBy), ...this.owedBuckets()]);
    let kept = 0;
    // A day's buckets per transaction: one commit instead of 24, and a backlog of months still
    // frees its pages in pieces the free list takes in its stride.
    const list = [...names];
    for (let off = 0; off < list.length && !stopping(); off += 24) {
      kept += await this.db.root.transaction(() => list.slice(off, off + 24).reduce((n, name) => n + this.dropBucketInTxn(name), 0));
    }
    if (names.size > 0) this.logger.info({ buckets: names.size, readsKeepingImages: kept }, 'image buckets past retention dropped');
    return { dropped: names.size, kept };
  }

  /** Ids of the reads that have image chunks anywhere in the store (tests, consistency checks). */
  readIdsWithImages(): Set<string> {
    const ids = new Set<string>();
    this.db.imageBuckets.openAll();
    for (const d of [this.db.legacyImages, this.db.keptImages, ...this.db.imageBuckets.openDatabases()]) {
      for (const key of d.getKeys()) ids.add((key as ImageChunkKey)[0]);
    }
    return ids;
  }
}
