import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Config } from '../config/schema.js';

/**
 * One LMDB environment holds reads, images, holds, users, sharing requests and the access log, so an
 * action and the log entry that records it commit in one transaction (P6) and a crash leaves both or
 * neither. LMDB allows one writer across processes: the daemon and the CLI can open it together.
 */
export interface StateDatabase {
  root: RootDatabase;
  /** read id (ULID, time-ordered) → StoredRead */
  reads: Database<unknown, string>;
  /** [readId, 'plate' | 'overview', chunk] → sealed JPEG, in chunks of at most one page (binary) */
  images: Database<Buffer, [string, string, number]>;
  /**
   * [day, keyId, plateTag, readId] → 1; tags are keyed HMACs, never plate text (P16). The UTC day of
   * the read id leads, so one day's entries lie together and a purge deletes them page by page.
   */
  byPlate: Database<number, PlateIndexKey>;
  /** [day, keyId, lookAlikeTag, readId] → 1 */
  byLookAlike: Database<number, PlateIndexKey>;
  /** [cameraId, readId] → 1 */
  byCamera: Database<number, [string, string]>;
  /** hold name → EvidenceHold */
  holds: Database<unknown, string>;
  /** [readId, holdName] → 1: a read with any entry here is never purged (P4) */
  heldReads: Database<number, [string, string]>;
  /** [holdName, readId] → 1 */
  holdReads: Database<number, [string, string]>;
  /** seq → AccessLogEntry */
  accessLog: Database<unknown, number>;
  /** username → User */
  users: Database<unknown, string>;
  /** request id → ShareRequest */
  shares: Database<unknown, string>;
  /** small singletons: access-log head, counters */
  meta: Database<unknown, string>;
}

/** [days since the epoch of the read id's time, data key id, keyed tag, read id] */
export type PlateIndexKey = [number, string, string, string];

export function storePath(config: Pick<Config, 'stateDir' | 'store'>): string {
  return config.store.path || join(config.stateDir, 'store');
}

export function openStateDatabase(path: string, mapSizeBytes: number): StateDatabase {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const root = open({
    path,
    mapSize: mapSizeBytes,
    maxDbs: 16,
    // Acknowledged writes must survive a crash or power cut: commits stay synced (no noSync).
    // P16: pages are zeroed before use, so no stale bytes of earlier records linger in the file.
    noMemInit: false,
  });
  const db = <V, K extends import('lmdb').Key>(name: string, encoding?: 'binary') =>
    root.openDB<V, K>({ name, ...(encoding ? { encoding } : {}) });
  return {
    root,
    reads: db('reads'),
    images: db('images', 'binary'),
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
  };
}

export function openStateDatabaseFor(config: Pick<Config, 'stateDir' | 'store'>): StateDatabase {
  return openStateDatabase(storePath(config), config.store.mapSizeBytes);
}
