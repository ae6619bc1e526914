import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Config } from '../config/schema.js';
import type { AccessLogRecord, HoldRecord, MetaValue, OutboxIndexRecord, OutboxMessageRecord, ShareRecord, StoredReadRecord, UserRecord } from './records.js';

/**
 * One LMDB environment holds reads, images, holds, users, sharing requests, the access log and the
 * MQTT outbox, so an action and the log entry that records it commit in one transaction (P6) and a
 * crash leaves both or neither. LMDB allows one writer across processes: the daemon and the CLI can
 * open it together.
 */
export interface StateDatabase {
  root: RootDatabase;
  /** read id (ULID, time-ordered) → stored read (records.ts; read through `decodeRecord`) */
  reads: Database<StoredReadRecord, string>;
  /**
   * Image layout 1 (reads stored before per-day image databases): [readId, 'plate' | 'overview',
   * chunk] → sealed JPEG, in chunks of at most one page (binary). Read and purged, never written.
   */
  legacyImages: Database<Buffer, ImageChunkKey>;
  /**
   * Each read's chunks lie in the database of the hour (or day) of its id (`imageBuckets`), so a
   * bucket past retention is dropped whole. Reads still present when their bucket is dropped
   * (evidence holds, P4) have their chunks moved here first.
   */
  keptImages: Database<Buffer, ImageChunkKey>;
  imageBuckets: ImageBuckets;
  /**
   * [day, keyId, plateTag, readId] → 1; tags are keyed HMACs, never plate text (P16). The UTC day of
   * the read id leads, so one day's entries lie together and a purge deletes them page by page.
   */
  byPlate: Database<number, PlateIndexKey>;
  /** [day, keyId, lookAlikeTag, readId] → 1 */
  byLookAlike: Database<number, PlateIndexKey>;
  /** [cameraId, readId] → 1 */
  byCamera: Database<number, [string, string]>;
  /** hold name → evidence hold, its query's plate sealed (records.ts) */
  holds: Database<HoldRecord, string>;
  /** [readId, holdName] → 1: a read with any entry here is never purged (P4) */
  heldReads: Database<number, [string, string]>;
  /** [holdName, readId] → 1 */
  holdReads: Database<number, [string, string]>;
  /** seq → one link of the access log's hash chain (records.ts; read through `decodeRecord`) */
  accessLog: Database<AccessLogRecord, number>;
  /** username → user (records.ts) */
  users: Database<UserRecord, string>;
  /** request id → sharing request (records.ts) */
  shares: Database<ShareRecord, string>;
  /** small singletons: the access-log head, the config hash, the index layout, image buckets owed a drop */
  meta: Database<MetaValue, string>;
  /**
   * seq → a message waiting for the broker's acknowledgement, payload sealed (mqtt/outbox.ts,
   * records.ts). Bounded by `mqtt.outboxMaxMessages`/`outboxMaxBytes`, and left out of the store's
   * disk budget (store/store-usage.ts): a long broker outage must never make the budget purge reads.
   */
  outboxMessages: Database<OutboxMessageRecord, number>;
  /** seq → kind and payload size of each outbox message, so the bound is kept without reading payloads */
  outboxIndex: Database<OutboxIndexRecord, number>;
}

/** [readId, 'plate' | 'overview', chunk number] */
export type ImageChunkKey = [string, string, number];

/** [days since the epoch of the read id's time, data key id, keyed tag, read id] */
export type PlateIndexKey = [number, string, string, string];

export function storePath(config: Pick<Config, 'stateDir' | 'store'>): string {
  return config.store.path || join(config.stateDir, 'store');
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const IMAGE_BUCKET_PREFIX = 'images-';

/** How much time one image database covers: an hour, or a day for retentions too long for hours. */
export type ImageBucketWidth = 'hour' | 'day';

/**
 * The image databases, one per hour (or day) of read-id time: `images-YYYY-MM-DDTHH` or
 * `images-YYYY-MM-DD` (UTC). LMDB opens a named database in a write transaction of its own, and a
 * handle opened inside a transaction that aborts is closed with it, so handles are opened outside
 * transactions (`open`, `openAll`) and code inside a transaction uses those already open (`cached`).
 */
export class ImageBuckets {
  private readonly handles = new Map<string, Database<Buffer, ImageChunkKey>>();

  constructor(private readonly root: RootDatabase) {}

  /** The bucket holding the images of a read whose id carries `idTimeMs`. */
  static nameOf(idTimeMs: number, width: ImageBucketWidth): string {
    const iso = new Date(idTimeMs).toISOString();
    return IMAGE_BUCKET_PREFIX + (width === 'hour' ? iso.slice(0, 13) : iso.slice(0, 10));
  }

  /** [start, end) of read-id times a bucket covers, from its name; undefined for other names. */
  static rangeOf(name: string): { startMs: number; endMs: number } | undefined {
    const stamp = name.slice(IMAGE_BUCKET_PREFIX.length);
    const hour = /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(stamp);
    if (!hour && !/^\d{4}-\d{2}-\d{2}$/.test(stamp)) return undefined;
    const startMs = Date.parse(hour ? `${stamp}:00:00Z` : `${stamp}T00:00:00Z`);
    return Number.isFinite(startMs) ? { startMs, endMs: startMs + (hour ? HOUR_MS : DAY_MS) } : undefined;
  }

  /** Buckets that have a database in the file now, oldest first. */
  names(): string[] {
    const names: string[] = [];
    for (const key of this.root.getKeys({ start: IMAGE_BUCKET_PREFIX, end: IMAGE_BUCKET_PREFIX + '\uffff' })) {
      if (typeof key === 'string' && ImageBuckets.rangeOf(key)) names.push(key);
    }
    return names.sort((a, b) => ImageBuckets.rangeOf(a)!.startMs - ImageBuckets.rangeOf(b)!.startMs);
  }

  /** Outside a transaction: the bucket's database, created when `create` (a write transaction of its own). */
  open(name: string, create = false): Database<Buffer, ImageChunkKey> | undefined {
    let db = this.handles.get(name);
    if (!db) {
      // `create: false` (lmdb-js, missing from its typings) makes openDB answer undefined for a missing database.
      const options = { name, encoding: 'binary', create } as const;
      db = this.root.openDB<Buffer, ImageChunkKey>(options as Parameters<RootDatabase['openDB']>[0] & typeof options) ?? undefined;
      if (db) this.handles.set(name, db);
    }
    return db;
  }

  /** Outside a transaction: opens every bucket's database, so a purge transaction finds them all. */
  openAll(): string[] {
    const names = this.names();
    for (const name of names) this.open(name);
    return names;
  }

  /** Inside a transaction: the bucket's database if it is open (see `openAll`). */
  cached(name: string): Database<Buffer, ImageChunkKey> | undefined {
    return this.handles.get(name);
  }

  /** Inside a write transaction: frees every page of the bucket's database at once. */
  dropInTxn(name: string): void {
    const db = this.handles.get(name);
    if (!db) return;
    // LMDB closes the handle with the drop, whatever becomes of the transaction.
    this.handles.delete(name);
    void db.drop();
  }

  /** Open handles, for page counts. */
  openDatabases(): Array<Database<Buffer, ImageChunkKey>> {
    return [...this.handles.values()];
  }
}

export function openStateDatabase(path: string, mapSizeBytes: number): StateDatabase {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const root = open({
    path,
    mapSize: mapSizeBytes,
    // 15 fixed databases plus one per hour of images over the retention window (720 for 30 days;
    // a day each past 120 days, ≤ 3650 days in the config schema), and buckets awaiting their drop.
    // A table entry costs ~60 bytes per transaction.
    maxDbs: 4096,
    // Acknowledged writes must survive a crash or power cut: commits stay synced (no noSync).
    // P16: pages are zeroed before use, so no stale bytes of earlier records linger in the file.
    noMemInit: false,
  });
  const db = <V, K extends import('lmdb').Key>(name: string, encoding?: 'binary') =>
    root.openDB<V, K>({ name, ...(encoding ? { encoding } : {}) });
  // Sequence numbers as uint32 keys, as the outbox's own environment had them (mqtt/outbox-migration.ts).
  const bySeq = <V>(name: string) => root.openDB<V, number>({ name, keyEncoding: 'uint32' });
  return {
    root,
    reads: db('reads'),
    legacyImages: db('images', 'binary'),
    keptImages: db('kept-images', 'binary'),
    imageBuckets: new ImageBuckets(root),
    byPlate: db('by-plate'),
    byLookAlike: db('by-lookalike'),
    byCamera: db('by-camera'),
    holds: db('holds'),
    heldReads: db('held-reads'),
    holdReads: db('hold-reads'),
    accessLog: db('access-log'),
    users: db('users'),
    shares: db('shares'),
    meta: db('meta'),
    outboxMessages: bySeq('outbox-messages'),
    outboxIndex: bySeq('outbox-index'),
  };
}

export function openStateDatabaseFor(config: Pick<Config, 'stateDir' | 'store'>): StateDatabase {
  return openStateDatabase(storePath(config), config.store.mapSizeBytes);
}
