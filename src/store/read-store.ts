import { statfsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { StoreConfig } from '../config/schema.js';
import type { TextCandidate } from '../inference/reader.js';
import type { Box } from '../inference/image.js';
import type { LocationConfig } from '../config/schema.js';
import { normalisePlateText } from '../inference/plate-text.js';
import type { Read, VehicleDescriptors } from '../pipeline/read.js';
import { appendAccessLogInTxn } from '../access/access-log.js';
import { ImageBuckets, type ImageBucketWidth, type ImageChunkKey, type PlateIndexKey, type StateDatabase } from './database.js';
import { SealError, type DeviceKeys } from './device-keys.js';
import { cameraIds, deleteIdSpanInTxn, deleteIndexEntriesInTxn, walkIndexEntries } from './key-ranges.js';
import { isWildcardPattern, lookAlikeKey, wildcardMatcher } from './plate-match.js';

export type ImageKind = 'plate' | 'overview';
type ImagesIn = ImageBucketWidth | 'kept';
export type PlateMatch = 'exact' | 'lookalike' | 'partial';

/** The part of a read sealed with the device key (P16): what identifies a vehicle and where it was. */
interface SealedPart {
  plate: string;
  state: string | null;
  stateConfidence: number | null;
  candidates: TextCandidate[];
  location: LocationConfig;
  /** Sealed with the plate: a vehicle description is personal data too. Absent in older records. */
  vehicle?: VehicleDescriptors | null;
}

/** What a read keeps in the clear, both in LMDB and in the views handed out. */
interface ReadMetadata {
  deviceId: string;
  cameraId: string;
  firstSeenAt: string;
  lastSeenAt: string;
  confidence: number;
  agreement: number;
  frames: number;
  box: Box;
  modelVersion: string;
  imageBytes: Record<ImageKind, number>;
}

/** A read as it lies in LMDB: times, camera and scores in the clear (to index and purge), the rest sealed. */
export interface StoredRead extends ReadMetadata {
  v: 1;
  /** Data key the sealed part and images were sealed with (keys rotate; old ones stay to read). */
  kid: string;
  capturedAtMs: number;
  /** Keyed tags of the plate (exact and look-alike) so its index entries can be removed unsealed. */
  tags: { plate: string; lookAlike: string };
  sealed: Buffer;
  /**
   * Where the sealed images lie: 'hour' or 'day', the bucket database of that UTC hour or day of the
   * id (dropped whole once past retention); 'kept', `keptImages` (the read outlived its bucket's
   * drop: held, P4). Absent in reads stored before buckets: `legacyImages`, until they are purged.
   */
  imagesIn?: ImagesIn;
}

/** A read as the query API and exports hand it out (images fetched separately). */
export interface ReadView extends SealedPart, ReadMetadata {
  id: string;
  capturedAt: string;
}

export interface ReadQuery {
  plate?: string;
  match?: PlateMatch;
  cameraId?: string;
  fromMs?: number;
  toMs?: number;
  limit: number;
  /** Id of the last read of the previous page (results are newest first). */
  cursor?: string;
}

export interface ReadPage {
  reads: ReadView[];
  nextCursor?: string;
  /** Records that failed to decode or authenticate; skipped and counted, never fatal. */
  skippedCorrupt: number;
}

export interface PurgeResult {
  reason: 'retention' | 'disk-budget' | 'forwarded';
  purged: number;
  keptHeld: number;
  oldestRemainingAt: string | null;
}

export interface StoreUsage {
  reads: number;
  usedBytes: number;
  mapSizeBytes: number;
  fsFreeBytes: number;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The 10-character time part of a ULID: read ids compare like their capture times. */
export function ulidTimePrefix(ms: number): string {
  let out = '';
  let t = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

export function ulidTimeMs(id: string): number {
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + CROCKFORD.indexOf(c);
  return t;
}

/** The plate-index bucket of a read: the UTC day of its id's time. */
export function indexDay(id: string): number {
  return Math.floor(ulidTimeMs(id) / DAY_MS);
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

/** Layout of the plate indexes; older stores are re-indexed once at open. */
const INDEX_LAYOUT = 2;

/** meta key: image buckets owed a drop (some of their reads deleted, their images not yet). */
const OWED_IMAGE_BUCKETS = 'images.owedBuckets';

/** Image buckets of an hour, for retentions short enough that the hours fit LMDB's table (maxDbs). */
const HOURLY_BUCKETS_MAX_RETENTION_DAYS = 120;

/** The bucket holding a read's images, when they are in one. */
function bucketOf(id: string, s: Pick<StoredRead, 'imagesIn'> | undefined): string | undefined {
  return s?.imagesIn === 'hour' || s?.imagesIn === 'day' ? ImageBuckets.nameOf(ulidTimeMs(id), s.imagesIn) : undefined;
}

/** Plate index entries of purged reads, deleted after the reads in key order. */
interface IndexDeletions {
  plate: PlateIndexKey[];
  lookAlike: PlateIndexKey[];
}

function isStorageFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return /MDB_MAP_FULL|ENOSPC|No space left|MAP_FULL/i.test(`${String(e?.code)} ${String(e?.message)}`);
}

/**
 * The ring store (LMDB): reads keyed by ULID, plate indexes as keyed tags, images in their own
 * sub-database, everything identifying sealed with AES-256-GCM. Retention (P3) is enforced twice:
 * reads past their age are filtered from every answer, and purged in small batches.
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

  constructor(
    readonly db: StateDatabase,
    readonly keys: DeviceKeys,
    private readonly config: StoreConfig,
    private readonly logger: Logger,
    private readonly path: string,
  ) {
    this.retentionMs = config.retentionDays * DAY_MS;
    this.bucketWidth = config.retentionDays <= HOURLY_BUCKETS_MAX_RETENTION_DAYS ? 'hour' : 'day';
    this.migrateIndexLayout();
  }

  /**
   * Layout 1 keyed the plate indexes [keyId, tag, readId]: a purge deleted entries scattered over the
   * whole index, dirtying about one page per entry per index (bench: 3.1 s for one day of 20k reads
   * at 600k, most of it writing those pages at commit). Layout 2 leads with the day, so one day's
   * entries share few pages. The indexes are rebuilt from the clear-text tags in the reads; a crash
   * part-way leaves the layout mark unset and the rebuild starts again at the next open.
   */
  private migrateIndexLayout(): void {
    const { db } = this;
    if (db.meta.get('index.layout') === INDEX_LAYOUT) return;
    if (db.reads.getCount() > 0 || db.byPlate.getCount() > 0) {
      db.byPlate.clearSync();
      db.byLookAlike.clearSync();
      let batch: Array<[string, StoredRead]> = [];
      const flush = () => {
        db.root.transactionSync(() => {
          for (const [id, s] of batch) this.putIndexEntriesInTxn(id, s);
        });
        batch = [];
      };
      for (const { key, value } of db.reads.getRange()) {
        const s = value as StoredRead | undefined;
        if (s?.tags && s.kid) batch.push([key as string, s]);
        if (batch.length >= 5000) flush();
      }
      flush();
      this.logger.info({ reads: db.reads.getCount(), layout: INDEX_LAYOUT }, 'plate indexes rebuilt in the day-first layout');
    }
    db.meta.putSync('index.layout', INDEX_LAYOUT);
  }

  private plateIndexKeys(id: string, s: Pick<StoredRead, 'kid' | 'tags'>): { plate: PlateIndexKey; lookAlike: PlateIndexKey } {
    const day = indexDay(id);
    return { plate: [day, s.kid, s.tags.plate, id], lookAlike: [day, s.kid, s.tags.lookAlike, id] };
  }

  private putIndexEntriesInTxn(id: string, s: Pick<StoredRead, 'kid' | 'tags'>): void {
    const k = this.plateIndexKeys(id, s);
    this.db.byPlate.put(k.plate, 1);
    this.db.byLookAlike.put(k.lookAlike, 1);
  }

  /** Oldest capture time that may still be returned (P3). */
  retentionCutoffMs(nowMs = Date.now()): number {
    return nowMs - this.retentionMs;
  }

  private toStored(read: Read): { stored: StoredRead; images: Record<ImageKind, Buffer> } {
    const kid = this.keys.currentKeyId;
    const plate = normalisePlateText(read.plate);
    const part: SealedPart = { plate, state: read.state, stateConfidence: read.stateConfidence, candidates: read.candidates, location: read.location, vehicle: read.vehicle ?? null };
    const stored: StoredRead = {
      v: 1,
      kid,
      deviceId: read.deviceId,
      cameraId: read.cameraId,
      capturedAtMs: Date.parse(read.capturedAt),
      firstSeenAt: read.firstSeenAt,
      lastSeenAt: read.lastSeenAt,
      confidence: read.confidence,
      agreement: read.agreement,
      frames: read.frames,
      box: read.box,
      modelVersion: read.modelVersion,
      imageBytes: { plate: read.plateJpeg.length, overview: read.overviewJpeg.length },
      tags: { plate: this.keys.indexTag(kid, plate), lookAlike: this.keys.indexTag(kid, 'la:' + lookAlikeKey(plate)) },
      sealed: this.keys.seal(Buffer.from(JSON.stringify(part)), `read:${read.id}`, kid),
      imagesIn: this.bucketWidth,
    };
    return {
      stored,
      images: {
        plate: this.keys.seal(read.plateJpeg, `image:${read.id}:plate`, kid),
        overview: this.keys.seal(read.overviewJpeg, `image:${read.id}:overview`, kid),
      },
    };
  }

  /**
   * Images are stored in chunks that each fill one LMDB page at most. A 30 KB value would need 8
   * contiguous pages, and after months of purges the free list has few such runs, so LMDB would
   * append to the file instead of reusing space (bench, 30 KB images: whole images grew the file
   * 19 % in 30 simulated days past the window; page-sized chunks: +1 MB in 27 days).
   * Single pages are always reusable, so the file stops growing once the retention window is full.
   */
  private get chunkBytes(): number {
    this.pageChunkBytes ??= (this.db.root.getStats() as { pageSize: number }).pageSize - 64;
    return this.pageChunkBytes;
  }
  private pageChunkBytes: number | undefined;

  private putImageInTxn(target: StateDatabase['keptImages'], id: string, kind: ImageKind, sealed: Buffer): void {
    const size = this.chunkBytes;
    for (let i = 0, off = 0; off < sealed.length; i++, off += size) target.put([id, kind, i], sealed.subarray(off, off + size));
  }

  private static chunksIn(db: StateDatabase['keptImages'], id: string, kind: ImageKind): Buffer[] {
    return [...db.getRange({ start: [id, kind, 0], end: [id, kind, Number.MAX_SAFE_INTEGER] })].map((e) => e.value);
  }

  /** Outside a transaction: the sealed image wherever its layout keeps it. */
  private imageChunks(id: string, kind: ImageKind, s: StoredRead): Buffer | undefined {
    const { db } = this;
    let parts: Buffer[];
    const bucket = bucketOf(id, s);
    if (bucket) {
      try {
        const bucketDb = db.imageBuckets.open(bucket);
        parts = bucketDb ? ReadStore.chunksIn(bucketDb, id, kind) : [];
      } catch {
        // Another process dropped the bucket while we looked: the read, if still there, is now 'kept'.
        parts = [];
      }
      if (!parts.length && (db.reads.get(id) as StoredRead | undefined)?.imagesIn === 'kept') parts = ReadStore.chunksIn(db.keptImages, id, kind);
    } else {
      parts = ReadStore.chunksIn(s.imagesIn === 'kept' ? db.keptImages : db.legacyImages, id, kind);
    }
    return parts.length ? Buffer.concat(parts) : undefined;
  }

  /** Inside a transaction: the database holding a read's images (its bucket's must be open). */
  private imageHome(id: string, s: StoredRead | undefined): StateDatabase['keptImages'] | undefined {
    const bucket = bucketOf(id, s);
    if (bucket) return this.db.imageBuckets.cached(bucket);
    return s?.imagesIn === 'kept' ? this.db.keptImages : this.db.legacyImages;
  }

  private writeBatch(prepared: Array<{ id: string; stored: StoredRead; images: Record<ImageKind, Buffer> }>): Promise<unknown> {
    const { db } = this;
    // Bucket databases are opened outside the transaction (see ImageBuckets).
    for (const bucket of new Set(prepared.map((p) => bucketOf(p.id, p.stored)!))) {
      try {
        db.imageBuckets.open(bucket, true);
      } catch (err) {
        // A full table of databases (MDB_DBS_FULL, after a retention change) must not lose reads:
        // their images go to `keptImages`, purged read by read.
        this.logger.warn({ bucket, err: (err as Error).message }, 'image bucket not created; images kept read by read');
      }
    }
    // One asynchronous LMDB batch = one transaction: a read and its indexes and images commit together.
    return db.root.batch(() => {
      for (const { id, stored, images } of prepared) {
        // Should a purge have dropped the read's bucket meanwhile (a read stamped with a time already
        // past retention), its images go where reads outliving their bucket keep theirs.
        const target = db.imageBuckets.cached(bucketOf(id, stored)!) ?? db.keptImages;
        const record: StoredRead = target === db.keptImages ? { ...stored, imagesIn: 'kept' } : stored;
        db.reads.put(id, record);
        this.putImageInTxn(target, id, 'plate', images.plate);
        this.putImageInTxn(target, id, 'overview', images.overview);
        this.putIndexEntriesInTxn(id, stored);
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
    const prepared = reads.map((r) => ({ id: r.id, ...this.toStored(r) }));
    try {
      await this.writeBatch(prepared);
    } catch (err) {
      if (!isStorageFull(err)) throw err;
      this.logger.warn({ err: (err as Error).message }, 'store full; purging the oldest reads not under hold, then retrying');
      const r = await this.purgeOldest(Math.max(this.config.purgeBatchSize, reads.length * 2));
      this.logger.warn({ reason: 'disk-budget', ...r, oldestRemainingAt: this.oldestRemainingAt() }, 'purge to make room');
      await this.writeBatch(prepared);
    }
  }

  put(read: Read): Promise<void> {
    return this.putMany([read]);
  }

  private decode(id: string, value: unknown): ReadView | undefined {
    try {
      const s = value as StoredRead;
      if (!s || s.v !== 1 || !s.sealed) throw new SealError('record has an unknown shape', String((s as { kid?: unknown })?.kid));
      const part = JSON.parse(this.keys.open(s.sealed, `read:${id}`, s.kid).toString('utf8')) as SealedPart;
      return {
        id,
        deviceId: s.deviceId,
        cameraId: s.cameraId,
        capturedAt: new Date(s.capturedAtMs).toISOString(),
        firstSeenAt: s.firstSeenAt,
        lastSeenAt: s.lastSeenAt,
        confidence: s.confidence,
        agreement: s.agreement,
        frames: s.frames,
        box: s.box,
        modelVersion: s.modelVersion,
        imageBytes: s.imageBytes,
        ...part,
      };
    } catch (err) {
      // A corrupt record is skipped and counted; it never takes the daemon or a search down.
      this.corruptSkipped++;
      this.logger.warn({ readId: id, err: (err as Error).message }, 'corrupt read record skipped');
      return undefined;
    }
  }

  private visible(value: unknown, nowMs: number): boolean {
    const s = value as StoredRead | undefined;
    // P3: a read past its age is never returned, even before the purge has removed it.
    return !!s && typeof s.capturedAtMs === 'number' && s.capturedAtMs >= this.retentionCutoffMs(nowMs);
  }

  get(id: string, nowMs = Date.now()): ReadView | undefined {
    const value = this.db.reads.get(id);
    if (!this.visible(value, nowMs)) return undefined;
    return this.decode(id, value);
  }

  /** Held reads regardless of age: only for evidence exports of that hold (P4). */
  getForExport(id: string): ReadView | undefined {
    const value = this.db.reads.get(id);
    return value === undefined ? undefined : this.decode(id, value);
  }

  image(id: string, kind: ImageKind, nowMs = Date.now(), opts: { ignoreRetention?: boolean } = {}): Buffer | undefined {
    const value = this.db.reads.get(id) as StoredRead | undefined;
    if (!value || (!opts.ignoreRetention && !this.visible(value, nowMs))) return undefined;
    const blob = this.imageChunks(id, kind, value);
    if (!blob) return undefined;
    try {
      return this.keys.open(blob, `image:${id}:${kind}`, value.kid);
    } catch (err) {
      this.corruptSkipped++;
      this.logger.warn({ readId: id, kind, err: (err as Error).message }, 'corrupt image skipped');
      return undefined;
    }
  }

  /**
   * Candidate ids from a plate index, newest first: one range per day of the time range and data key
   * (keys rotate). Retention bounds the range, so a lookup costs about 31 short ranges per key.
   */
  private idsByTag(index: 'byPlate' | 'byLookAlike', term: string, fromMs: number, toMs: number): string[] {
    const ids: string[] = [];
    // A read id's time is its capture time; one day either side covers a clock that stepped.
    const first = Math.floor(fromMs / DAY_MS) - 1;
    const last = Math.floor(toMs / DAY_MS) + 1;
    for (const kid of this.keys.keyIds) {
      const tag = this.keys.indexTag(kid, term);
      for (let day = last; day >= first; day--) {
        for (const key of this.db[index].getKeys({ start: [day, kid, tag, ''], end: [day, kid, tag, '\uffff'] })) ids.push((key as PlateIndexKey)[3]);
      }
    }
    return ids.sort().reverse();
  }

  /** Searches reads newest first: by plate (exact, look-alike, or partial with * ? _), camera and time. */
  search(q: ReadQuery, nowMs = Date.now()): ReadPage {
    const fromMs = Math.max(q.fromMs ?? 0, this.retentionCutoffMs(nowMs));
    const toMs = q.toMs ?? nowMs + DAY_MS;
    const plate = q.plate === undefined ? undefined : q.match === 'partial' ? q.plate : normalisePlateText(q.plate);
    const match: PlateMatch = q.match ?? (plate !== undefined && isWildcardPattern(plate) ? 'partial' : 'exact');
    const out: ReadView[] = [];
    const before = this.corruptSkipped;
    const accept = (id: string, value: unknown, check?: (v: ReadView) => boolean): boolean => {
      const s = value as StoredRead | undefined;
      if (!this.visible(s, nowMs) || s!.capturedAtMs < fromMs || s!.capturedAtMs > toMs) return false;
      if (q.cameraId !== undefined && s!.cameraId !== q.cameraId) return false;
      const view = this.decode(id, s);
      if (!view || (check && !check(view))) return false;
      out.push(view);
      return true;
    };
    let nextCursor: string | undefined;
    if (plate !== undefined && match !== 'partial') {
      // An open-ended range stops at tomorrow: the index is walked day by day.
      const indexTo = Math.min(toMs, nowMs + DAY_MS);
      const ids = match === 'exact' ? this.idsByTag('byPlate', plate, fromMs, indexTo) : this.idsByTag('byLookAlike', 'la:' + lookAlikeKey(plate), fromMs, indexTo);
      const want = match === 'exact' ? (v: ReadView) => v.plate === plate : (v: ReadView) => lookAlikeKey(v.plate) === lookAlikeKey(plate);
      for (const id of ids) {
        if (q.cursor !== undefined && id >= q.cursor) continue;
        if (out.length === q.limit) {
          nextCursor = out[out.length - 1]!.id;
          break;
        }
        accept(id, this.db.reads.get(id), want);
      }
    } else {
      // Time-ordered scan (ULID keys), newest first, bounded by the time range; partial plates are
      // matched after unsealing, so they cost one decryption per read in the range.
      const matcher = plate !== undefined ? wildcardMatcher(plate) : undefined;
      const upper = q.cursor ?? ulidTimePrefix(toMs + 1);
      const lower = ulidTimePrefix(fromMs);
      const check = matcher ? (v: ReadView) => matcher(v.plate) : undefined;
      const rows = q.cameraId !== undefined
        ? this.db.byCamera.getKeys({ start: [q.cameraId, upper], end: [q.cameraId, lower], reverse: true, exclusiveStart: q.cursor !== undefined }).map((k) => (k as [string, string])[1])
        : this.db.reads.getKeys({ start: upper, end: lower, reverse: true, exclusiveStart: q.cursor !== undefined }).map((k) => k as string);
      for (const id of rows) {
        if (out.length === q.limit) {
          nextCursor = out[out.length - 1]!.id;
          break;
        }
        accept(id, this.db.reads.get(id), check);
      }
    }
    return { reads: out, ...(nextCursor ? { nextCursor } : {}), skippedCorrupt: this.corruptSkipped - before };
  }

  isHeld(id: string): boolean {
    for (const _ of this.db.heldReads.getKeys({ start: [id, ''], end: [id, '\uffff'], limit: 1 })) return true;
    return false;
  }

  /**
   * Removes one read with its images and camera entry; call inside a write transaction. Its plate
   * index entries are deleted at once, or handed to `indexKeys` to be deleted later in key order.
   * When its images lie in a bucket that ends by `dropBucketsEndingBy` (and so will be dropped
   * whole), they are left for that drop and the bucket is returned: the caller records it as owed in
   * the same transaction (`OWED_IMAGE_BUCKETS`), so a crash before the drop leaves no image for good.
   */
  private deleteInTxn(id: string, s: StoredRead | undefined, indexKeys?: IndexDeletions, dropBucketsEndingBy = -Infinity): string | undefined {
    const { db } = this;
    db.reads.remove(id);
    let owedBucket: string | undefined;
    const bucket = bucketOf(id, s);
    const home = this.imageHome(id, s);
    if (bucket && ImageBuckets.rangeOf(bucket)!.endMs <= dropBucketsEndingBy) {
      owedBucket = bucket;
    } else if (home) {
      // The chunk count follows from the stored size (sealing adds 28 bytes), so no range scan per
      // read; a record too damaged to say falls back to scanning its image keys.
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
    if (s?.tags && s.kid) {
      const k = this.plateIndexKeys(id, s);
      if (indexKeys) {
        indexKeys.plate.push(k.plate);
        indexKeys.lookAlike.push(k.lookAlike);
      } else {
        db.byPlate.remove(k.plate);
        db.byLookAlike.remove(k.lookAlike);
      }
    }
    if (s?.cameraId) db.byCamera.remove([s.cameraId, id]);
    return owedBucket;
  }

  /**
   * Deletes up to `batchSize` reads older than `beforeMs` (all reads for the disk budget), oldest
   * first, skipping held ones (P4), in one write transaction together with its access-log entry.
   * The transaction is asynchronous: its work runs between pipeline writes and its commit (the
   * fsync) off the event loop. Plate index keys of deleted reads are collected in `indexKeys`.
   * Images in buckets ending by `dropBucketsEndingBy` are left for `dropImageBucket`.
   */
  private async purgeBatch(reason: PurgeResult['reason'], beforeMs: number, batchSize: number, startAfter: string | undefined, indexKeys: IndexDeletions, dropBucketsEndingBy = -Infinity): Promise<{ purged: number; keptHeld: number; lastScanned?: string; exhausted: boolean }> {
    const end = reason === 'retention' ? ulidTimePrefix(beforeMs) : undefined;
    return this.db.root.transaction(() => {
      const owed = new Set(this.owedImageBuckets());
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
      const held = this.heldIds();
      for (const { key, value } of this.db.reads.getRange({ ...(startAfter ? { start: startAfter, exclusiveStart: true } : {}), ...(end ? { end } : {}) })) {
        if (work >= batchSize) {
          full = true;
          break;
        }
        work += 0.25;
        const id = key as string;
        lastScanned = id;
        const s = value as StoredRead | undefined;
        if (reason === 'retention' && s && typeof s.capturedAtMs === 'number' && s.capturedAtMs >= beforeMs) continue;
        if (held.has(id)) {
          keptHeld++;
          continue;
        }
        const owedBucket = this.deleteInTxn(id, s, indexKeys, dropBucketsEndingBy);
        if (owedBucket !== undefined) owed.add(owedBucket);
        else work += 0.75;
        purged++;
      }
      if (owed.size > owedBefore) this.db.meta.put(OWED_IMAGE_BUCKETS, [...owed].sort());
      if (purged > 0) appendAccessLogInTxn(this.db, { user: 'system', action: 'purge', parameters: { reason, purged, keptHeld }, result: 'ok' });
      return { purged, keptHeld, lastScanned, exhausted: !full };
    });
  }

  private owedImageBuckets(): string[] {
    const names = this.db.meta.get(OWED_IMAGE_BUCKETS);
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string' && ImageBuckets.rangeOf(n) !== undefined) : [];
  }

  /**
   * Drops one image bucket whole: LMDB frees all its pages in one step instead of a delete per
   * chunk (9 per read at 30 KB). Reads still present in its time range (held, P4, or not yet past
   * their age) keep their images: those move to `keptImages` in the same transaction, so no read is
   * ever left without its images and, once committed, no image without its read. The bucket's
   * database must be open (`imageBuckets.openAll`). Call inside a write transaction.
   */
  private dropImageBucketInTxn(name: string): number {
    const { db } = this;
    const { startMs, endMs } = ImageBuckets.rangeOf(name)!;
    const bucketDb = db.imageBuckets.cached(name);
    let moved = 0;
    if (bucketDb) {
      for (const { key, value } of db.reads.getRange({ start: ulidTimePrefix(startMs), end: ulidTimePrefix(endMs) })) {
        const id = key as string;
        const s = value as StoredRead | undefined;
        if (bucketOf(id, s) !== name) continue;
        for (const chunk of bucketDb.getRange({ start: [id, ''], end: [id, '\uffff'] })) db.keptImages.put(chunk.key, chunk.value);
        db.reads.put(id, { ...s!, imagesIn: 'kept' });
        moved++;
      }
      db.imageBuckets.dropInTxn(name);
    }
    const owed = this.owedImageBuckets();
    if (owed.includes(name)) db.meta.put(OWED_IMAGE_BUCKETS, owed.filter((n) => n !== name));
    return moved;
  }

  /** Drops every image bucket that ended by `endingBy`, and those a cut-off purge still owes. */
  private async dropImageBuckets(endingBy: number): Promise<{ dropped: number; kept: number }> {
    const names = new Set([...this.db.imageBuckets.openAll().filter((n) => ImageBuckets.rangeOf(n)!.endMs <= endingBy), ...this.owedImageBuckets()]);
    let kept = 0;
    // A day's buckets per transaction: one commit instead of 24, and a backlog of months still
    // frees its pages in pieces the free list takes in its stride.
    const list = [...names];
    for (let off = 0; off < list.length; off += 24) {
      kept += await this.db.root.transaction(() => list.slice(off, off + 24).reduce((n, name) => n + this.dropImageBucketInTxn(name), 0));
    }
    if (names.size > 0) this.logger.info({ buckets: names.size, readsKeepingImages: kept }, 'image buckets past retention dropped');
    return { dropped: names.size, kept };
  }

  private heldIds(): Set<string> {
    const held = new Set<string>();
    for (const key of this.db.heldReads.getKeys()) held.add((key as [string, string])[0]);
    return held;
  }

  /**
   * Deletes the plate index entries of purged reads in key order, `purgeBatchSize` reads' worth per
   * transaction: consecutive keys share pages, so each index page is rewritten about once per purge
   * instead of once per entry. Until then an entry points at a read that is gone, which a search
   * skips; a crash in between leaves entries that `sweepOrphanIndexEntries` removes.
   */
  private async removeIndexEntries(keys: IndexDeletions): Promise<void> {
    const { db } = this;
    // Sorted deletes of small keys touch few pages: 8 per purged read's worth keeps a transaction
    // about as long on the event loop as a purge batch, with fewer commits (fsyncs) per purge.
    const per = this.config.purgeBatchSize * 8;
    for (const [index, unsorted] of [[db.byPlate, keys.plate], [db.byLookAlike, keys.lookAlike]] as const) {
      const list = sortIndexKeys(unsorted);
      unsorted.length = 0;
      for (let off = 0; off < list.length; off += per) {
        const slice = list.slice(off, off + per);
        await db.root.transaction(() => {
          for (const k of slice) index.remove(k);
        });
      }
    }
  }

  /**
   * Removes plate index entries of days older than the oldest read not under hold whose read is
   * gone: what a crash between a purge and its index deletion left behind. Cheap when there is
   * nothing to do (only held reads have entries there).
   */
  async sweepOrphanIndexEntries(): Promise<number> {
    const { db } = this;
    const held = this.heldIds();
    let oldest: string | undefined;
    for (const key of db.reads.getKeys()) {
      if (!held.has(key as string)) {
        oldest = key as string;
        break;
      }
    }
    const endDay = oldest === undefined ? Number.MAX_SAFE_INTEGER : indexDay(oldest);
    let removed = 0;
    for (const index of [db.byPlate, db.byLookAlike]) {
      const orphans = [...index.getKeys({ end: [endDay] })].filter((k) => !db.reads.doesExist((k as PlateIndexKey)[3])) as PlateIndexKey[];
      for (let off = 0; off < orphans.length; off += this.config.purgeBatchSize * 2) {
        const slice = orphans.slice(off, off + this.config.purgeBatchSize * 2);
        await db.root.transaction(() => {
          for (const k of slice) index.remove(k);
        });
      }
      removed += orphans.length;
    }
    if (removed > 0) this.logger.info({ removed }, 'orphan plate index entries removed');
    return removed;
  }

  private oldestRemainingAt(): string | null {
    for (const { value } of this.db.reads.getRange({ limit: 1 })) {
      const s = value as StoredRead;
      return typeof s?.capturedAtMs === 'number' ? new Date(s.capturedAtMs).toISOString() : null;
    }
    return null;
  }

  /**
   * Where the purge by key ranges stops: the start of the hour the cutoff falls in, or of an older
   * bucket still spanning it (a day's bucket of a longer retention). Every bucket ending by then is
   * dropped whole, so no image of a read purged by range is left behind.
   */
  private wholeBucketsEnd(cutoffMs: number): number {
    let end = Math.floor(cutoffMs / HOUR_MS) * HOUR_MS;
    for (const name of this.db.imageBuckets.names()) {
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
  private async purgeWholeBuckets(endMs: number): Promise<{ purged: number; keptHeld: number }> {
    const { db } = this;
    const before = ulidTimePrefix(endMs);
    const cameras = cameraIds(db);
    const owing = db.imageBuckets.names().filter((n) => ImageBuckets.rangeOf(n)!.endMs <= endMs);
    // Walking keys and deleting by id costs about a quarter of a purge batch's per-read work.
    const readsPerTxn = this.config.purgeBatchSize * 4;
    let purged = 0;
    let keptHeld = 0;
    let from = '';
    for (let first = true; ; first = false) {
      const r = await db.root.transaction(() => {
        const span = deleteIdSpanInTxn(db, from, before, readsPerTxn, this.heldIds(), cameras);
        if (first && owing.length > 0) db.meta.put(OWED_IMAGE_BUCKETS, [...new Set([...this.owedImageBuckets(), ...owing])].sort());
        if (span.deleted > 0) appendAccessLogInTxn(db, { user: 'system', action: 'purge', parameters: { reason: 'retention', purged: span.deleted, keptHeld: span.keptHeld }, result: 'ok' });
        return span;
      });
      purged += r.deleted;
      keptHeld += r.keptHeld;
      from = r.next;
      if (r.exhausted) break;
    }
    return { purged, keptHeld };
  }

  /**
   * Deletes the plate index entries of the reads purged by ranges (ids before `endMs`, not held)
   * and those of the reads purged one by one (`perRead`), walking each index once in key order:
   * the indexes lead with the day, so each page is rewritten once. Sorted deletes of small keys and
   * nothing else: 32 purged reads' worth per transaction keeps it about as long on the event loop
   * as a purge batch, with few commits.
   */
  private async removeIndexEntriesBefore(endMs: number, perRead: IndexDeletions): Promise<void> {
    const { db } = this;
    const before = ulidTimePrefix(endMs);
    const keysPerTxn = this.config.purgeBatchSize * 32;
    const joined = (k: PlateIndexKey) => `${k[0]}\u0000${k[1]}\u0000${k[2]}\u0000${k[3]}`;
    for (const [index, listed] of [[db.byPlate, perRead.plate], [db.byLookAlike, perRead.lookAlike]] as const) {
      const pending = new Map(listed.map((k) => [joined(k), k]));
      listed.length = 0;
      let start: PlateIndexKey | undefined;
      do {
        // A backlog of months is walked 100k keys at a time, not held in memory at once.
        const walk = walkIndexEntries(index, (k) => k[3] < before || (pending.size > 0 && pending.delete(joined(k))), Math.floor(endMs / DAY_MS), start, 100_000);
        for (let off = 0; off < walk.keys.length; off += keysPerTxn) {
          const slice = walk.keys.slice(off, off + keysPerTxn);
          await db.root.transaction(() => deleteIndexEntriesInTxn(index, slice, this.heldIds()));
        }
        start = walk.next;
      } while (start);
      // Entries of reads purged one by one that lie past the walk (none unless a clock stepped).
      if (index === db.byPlate) perRead.plate.push(...pending.values());
      else perRead.lookAlike.push(...pending.values());
    }
    await this.removeIndexEntries(perRead);
  }

  /**
   * P3: purges every read past its age in batches, yielding to the event loop between batches so
   * the camera pipeline keeps running. Logged once with counts and the oldest remaining time.
   */
  async purgeExpired(nowMs = Date.now()): Promise<PurgeResult> {
    const cutoff = this.retentionCutoffMs(nowMs);
    this.db.imageBuckets.openAll();
    // Buckets that ended by the cutoff are past retention whole: by key ranges, images dropped with
    // the bucket. Reads of the bucket the cutoff falls in go one by one and take their images with
    // them (P3: nothing outlives its age to batch a drop).
    const wholeEnd = this.wholeBucketsEnd(cutoff);
    let { purged, keptHeld } = await this.purgeWholeBuckets(wholeEnd);
    let startAfter: string | undefined = ulidTimePrefix(wholeEnd);
    const indexKeys: IndexDeletions = { plate: [], lookAlike: [] };
    for (;;) {
      const r = await this.purgeBatch('retention', cutoff, this.config.purgeBatchSize, startAfter, indexKeys, cutoff);
      purged += r.purged;
      keptHeld += r.keptHeld;
      startAfter = r.lastScanned ?? startAfter;
      if (r.exhausted) break;
      // A backlog of months would otherwise hold every index key in memory at once.
      if (indexKeys.plate.length >= 100_000) await this.removeIndexEntries(indexKeys);
    }
    await this.dropImageBuckets(cutoff);
    await this.removeIndexEntriesBefore(wholeEnd, indexKeys);
    await this.sweepOrphanIndexEntries();
    const result: PurgeResult = { reason: 'retention', purged, keptHeld, oldestRemainingAt: this.oldestRemainingAt() };
    if (purged > 0 || keptHeld > 0) this.logger.info(result, 'retention purge');
    return result;
  }

  /** Deletes up to `count` of the oldest reads not under hold (disk budget, full map). */
  private async purgeOldest(count: number): Promise<{ purged: number; keptHeld: number }> {
    let purged = 0;
    let keptHeld = 0;
    let startAfter: string | undefined;
    const indexKeys: IndexDeletions = { plate: [], lookAlike: [] };
    this.db.imageBuckets.openAll();
    while (purged < count) {
      const r = await this.purgeBatch('disk-budget', Infinity, Math.min(this.config.purgeBatchSize, count - purged), startAfter, indexKeys);
      purged += r.purged;
      keptHeld += r.keptHeld;
      startAfter = r.lastScanned;
      if (r.exhausted) break;
    }
    await this.removeIndexEntries(indexKeys);
    return { purged, keptHeld };
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

  usage(): StoreUsage {
    const stats = this.db.root.getStats() as { pageSize: number; mapSize: number };
    let pages = 0;
    this.db.imageBuckets.openAll();
    for (const d of [this.db.reads, this.db.legacyImages, this.db.keptImages, ...this.db.imageBuckets.openDatabases(), this.db.byPlate, this.db.byLookAlike, this.db.byCamera, this.db.accessLog, this.db.heldReads, this.db.holdReads]) {
      const s = d.getStats() as { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
      pages += s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    }
    let fsFreeBytes = Number.POSITIVE_INFINITY;
    try {
      const fs = statfsSync(this.path);
      fsFreeBytes = fs.bavail * fs.bsize;
    } catch {
      // No statfs (unusual file systems): the byte budget alone applies.
    }
    return { reads: this.db.reads.getCount(), usedBytes: pages * stats.pageSize, mapSizeBytes: stats.mapSize, fsFreeBytes };
  }

  /** True while the store is over its byte budget or the file system under its free-space floor. */
  budgetShort(u = this.usage()): boolean {
    return u.usedBytes > this.config.maxBytes || u.fsFreeBytes < this.config.minFreeBytes;
  }

  /**
   * Purges the oldest reads not under hold until the store is 5 % under budget again, in batches
   * with yields. Free space on the file system only returns once LMDB reuses freed pages, so a low
   * floor is answered by making room inside the file rather than growing it.
   */
  async enforceBudget(): Promise<PurgeResult | undefined> {
    const start = this.usage();
    if (!this.budgetShort(start)) return undefined;
    const target = Math.min(this.config.maxBytes, start.usedBytes) * 0.95;
    let purged = 0;
    let keptHeld = 0;
    while (this.usage().usedBytes > target) {
      const r = await this.purgeOldest(this.config.purgeBatchSize);
      purged += r.purged;
      keptHeld = r.keptHeld;
      if (r.purged === 0) break;
    }
    const result: PurgeResult = { reason: 'disk-budget', purged, keptHeld, oldestRemainingAt: this.oldestRemainingAt() };
    this.logger.warn({ ...result, usedBytes: this.usage().usedBytes, maxBytes: this.config.maxBytes, minFreeBytes: this.config.minFreeBytes }, 'disk-budget purge');
    return result;
  }

  private readonly acknowledged = new Set<string>();

  /**
   * P5 forward-then-purge: the central side has the read, so the local copy goes (unless held).
   * Acknowledgements are collected and deleted in batches (`flushAcknowledged`, run with the purge
   * timer or once a batch is full), so the access log gets one purge entry per batch, not per read.
   */
  acknowledge(readId: string): void {
    if (!this.config.forwardThenPurge) return;
    this.acknowledged.add(readId);
    if (this.acknowledged.size >= this.config.purgeBatchSize) this.flushAcknowledged();
  }

  flushAcknowledged(): PurgeResult | undefined {
    if (this.acknowledged.size === 0) return undefined;
    const ids = [...this.acknowledged];
    this.acknowledged.clear();
    let purged = 0;
    let keptHeld = 0;
    this.db.imageBuckets.openAll();
    this.db.root.transactionSync(() => {
      for (const id of ids) {
        const s = this.db.reads.get(id) as StoredRead | undefined;
        if (!s) continue;
        if (this.isHeld(id)) {
          keptHeld++;
          continue;
        }
        this.deleteInTxn(id, s);
        purged++;
      }
      if (purged > 0) appendAccessLogInTxn(this.db, { user: 'system', action: 'purge', parameters: { reason: 'forwarded', purged, keptHeld }, result: 'ok' });
    });
    const result: PurgeResult = { reason: 'forwarded', purged, keptHeld, oldestRemainingAt: this.oldestRemainingAt() };
    this.logger.info(result, 'forward-then-purge');
    return result;
  }
}
