import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import type { OutboxIndexRecord, OutboxMessageRecord } from '../state/records.js';
import type { OutboxDatabase } from './outbox.js';

/** Where the outbox lay before it moved into the state environment: an LMDB environment of its own. */
export function legacyOutboxPath(stateDir: string): string {
  return join(stateDir, 'mqtt-outbox');
}

/**
 * The outbox's old layout: an environment of its own, sub-databases `messages` and `index` keyed
 * by uint32 sequence numbers, msgpack values, no compression. Opened to move what it holds, and by
 * the store bench to compare an outbox with a write lock of its own against the shared one.
 */
export function openLegacyOutbox(path: string): OutboxDatabase {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const root = open({ path, compression: false });
  return {
    root,
    outboxMessages: root.openDB<OutboxMessageRecord, number>({ name: 'messages', keyEncoding: 'uint32' }),
    outboxIndex: root.openDB<OutboxIndexRecord, number>({ name: 'index', keyEncoding: 'uint32' }),
  };
}

/** Per transaction: a few thousand messages, and not much more than 16 MiB of them (a full outbox is 1 GiB). */
export const MIGRATION_BATCH = { messages: 2000, bytes: 16 << 20 };

export interface OutboxMigration {
  /** Messages copied with their index entries, under their sequence numbers. */
  moved: number;
  /** Entries that did not read (a damaged record, or an index entry without its message): left behind, dropped. */
  unreadable: number;
}

/**
 * Moves the old environment's pending messages into the state environment at start, before the
 * outbox opens there: each message with its index entry, under the same sequence number (so the
 * order of delivery stays), in transactions of a few thousand; the old directory is deleted only
 * after the last commit. A crash in between leaves both, and the next start copies again over the
 * same keys, which changes nothing. Undefined when there is no old directory.
 */
export async function migrateLegacyOutbox(path: string, to: OutboxDatabase, batch = MIGRATION_BATCH): Promise<OutboxMigration | undefined> {
  if (!existsSync(path)) return undefined;
  const from = openLegacyOutbox(path);
  const result: OutboxMigration = { moved: 0, unreadable: 0 };
  try {
    let pending: Array<[number, OutboxMessageRecord, OutboxIndexRecord]> = [];
    let pendingBytes = 0;
    const commit = async () => {
      const entries = pending;
      pending = [];
      pendingBytes = 0;
      await to.root.transaction(() => {
        for (const [seq, message, index] of entries) {
          void to.outboxMessages.put(seq, message);
          void to.outboxIndex.put(seq, index);
        }
      });
      result.moved += entries.length;
    };
    // By the index, as the outbox itself reads: a message without an index entry was never sent by
    // the old outbox either. Key by key, so one record that does not read is left alone.
    for (const seq of from.outboxIndex.getKeys()) {
      let message: OutboxMessageRecord | undefined;
      let index: OutboxIndexRecord | undefined;
      try {
        index = from.outboxIndex.get(seq);
        message = from.outboxMessages.get(seq);
      } catch {
        // Not decodable at all: counted below as unreadable.
      }
      if (!message || !index) {
        result.unreadable++;
        continue;
      }
      pending.push([seq, message, index]);
      pendingBytes += (message.sealed?.byteLength ?? 0) + (message.payload?.byteLength ?? 0);
      if (pending.length >= batch.messages || pendingBytes >= batch.bytes) await commit();
    }
    if (pending.length > 0) await commit();
  } finally {
    await from.root.close();
  }
  rmSync(path, { recursive: true, force: true });
  return result;
}
