import { describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import pino from 'pino';
import { migrateLegacyOutbox } from '../../src/mqtt/outbox-migration.js';
import { Outbox } from '../../src/mqtt/outbox.js';
import { openStateDatabaseFor, storePath } from '../../src/state/database.js';
import { openDeviceKeys, type Sealer } from '../../src/state/device-keys.js';
import { ReadStore } from '../../src/store/read-store.js';
import { storeUsage } from '../../src/store/store-usage.js';
import { entry, makePublisher, makeRead, startHitExtensions, subscribe, tempDir, testConfig, waitFor } from '../support/mqtt-harness.js';

// Issue 21: the durable outbox moved from an LMDB environment of its own (<stateDir>/mqtt-outbox)
// into the state environment. Pending hits survive the move and arrive in order on the real
// Mosquitto (127.0.0.1:1883); the outbox stays off the store's disk budget and within its own limits.
const URL = 'mqtt://127.0.0.1:1883';

/**
 * An outbox as the code before the move left it on disk: its own environment, `messages` and
 * `index` keyed by uint32 sequence numbers, payloads sealed with the device key bound to
 * `outbox:<topic>:<messageId>` (P16). Written here with lmdb directly, not through today's code, so
 * the test holds that layout fixed. Sequence numbers start at `firstSeq` (acknowledged ones before it).
 */
async function writeOldLayoutOutbox(path: string, keys: Sealer, hits: Array<{ topic: string; messageId: string; payload: Buffer }>, firstSeq: number): Promise<void> {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const root = open({ path, compression: false });
  const messages = root.openDB({ name: 'messages', keyEncoding: 'uint32' });
  const index = root.openDB({ name: 'index', keyEncoding: 'uint32' });
  await root.transaction(() => {
    hits.forEach(({ topic, messageId, payload }, i) => {
      const kid = keys.currentKeyId;
      void messages.put(firstSeq + i, { kind: 'hit', topic, messageId, kid, sealed: keys.seal(payload, `outbox:${topic}:${messageId}`, kid) });
      void index.put(firstSeq + i, { kind: 'hit', bytes: payload.length });
    });
  });
  await root.close();
}

describe('the outbox in the state environment', () => {
  it('hits pending in the old <stateDir>/mqtt-outbox move at start (again, unchanged, after a crash that left both) and arrive once each, in order, on the broker', async () => {
    const deviceId = `move-${randomUUID().slice(0, 8)}`;
    const dir = tempDir('outbox-move-');
    const pub = makePublisher(dir);
    const config = testConfig(deviceId, dir, pub.pubFile, { url: URL, allowPlainText: true, protocolVersion: 5, publishReads: false });
    const topic = `alpr/v1/${deviceId}/hits`;
    // More than one migration transaction's worth (MIGRATION_BATCH: 2000).
    const count = 2300;
    const plate = (i: number) => `QXZ${String(i).padStart(4, '0')}`;
    const hits = Array.from({ length: count }, (_, i) => {
      const messageId = `old-${String(i).padStart(5, '0')}`;
      return { topic, messageId, payload: Buffer.from(JSON.stringify({ schema: 'alpr-edge/hit/1', messageId, deviceId, read: { plate: plate(i) } })) };
    });
    const legacy = join(dir, 'mqtt-outbox');
    await writeOldLayoutOutbox(legacy, openDeviceKeys(dir), hits, 41);

    // A first start copied everything and crashed before it deleted the old directory: both remain.
    const backup = join(tempDir('outbox-move-backup-'), 'mqtt-outbox');
    cpSync(legacy, backup, { recursive: true });
    const first = openStateDatabaseFor(config);
    expect(await migrateLegacyOutbox(legacy, first)).toEqual({ moved: count, unreadable: 0 });
    expect(existsSync(legacy)).toBe(false);
    await first.root.close();
    cpSync(backup, legacy, { recursive: true });

    const central = await subscribe(URL, topic, { protocolVersion: 5 });
    onTestFinished(async () => {
      await central.client.publishAsync(`alpr/v1/${deviceId}/state`, '', { retain: true });
      await central.client.endAsync();
    });
    const exts = await startHitExtensions(config);
    onTestFinished(() => exts.stop());
    // The next start copied again over the same keys and then deleted the old directory.
    expect(existsSync(legacy)).toBe(false);
    await waitFor(() => central.messages.length >= count, 60_000, `${count} moved hits at the broker`);
    expect(await exts.mqtt.drained(30_000)).toBe(true);
    expect(central.messages.map((m) => m.payload['messageId'])).toEqual(hits.map((h) => h.messageId));
    expect(central.messages.map((m) => (m.payload['read'] as { plate: string }).plate).slice(0, 3)).toEqual([plate(0), plate(1), plate(2)]);
    // A hit made after the move follows the moved ones.
    exts.hotlist.installSigned(pub.sign('ncic', 1, [entry('QXZ9999', 'CA')]), 'test');
    await exts.deliver(makeRead('QXZ9999', 'CA', deviceId));
    await waitFor(() => central.messages.length > count, 10_000, 'the new hit');
    expect(central.messages.map((m) => (m.payload['read'] as { plate: string }).plate).slice(-2)).toEqual([plate(count - 1), 'QXZ9999']);
  }, 120_000);

  it('stays off the store\'s disk budget (a full outbox purges no read) and within its own limits (mqtt.outboxMaxMessages, outboxMaxBytes)', async () => {
    const dir = tempDir('outbox-budget-');
    const config = testConfig('budget-pole', dir, makePublisher(dir).pubFile, {});
    const db = openStateDatabaseFor(config);
    onTestFinished(() => db.root.close());
    const keys = openDeviceKeys(dir);
    const path = storePath(config);
    const reads = Array.from({ length: 5 }, (_, i) => makeRead(`QBC${100 + i}`, 'CA', 'budget-pole'));
    const first = new ReadStore(db, keys, config.store, pino({ level: 'silent' }), path);
    await first.putMany(reads);
    // A budget 1 MiB above what the reads use; the outbox gets up to 4 MiB of its own.
    const before = storeUsage(db, path);
    const store = new ReadStore(db, keys, { ...config.store, maxBytes: before.usedBytes + (1 << 20) }, pino({ level: 'silent' }), path);
    const limits = { maxMessages: 300, maxBytes: 4 << 20 };
    const outbox = new Outbox(db, limits, keys);
    onTestFinished(() => outbox.close());
    const pageBytes = (db.root.getStats() as { pageSize: number }).pageSize;
    const outboxBytesInFile = () => [db.outboxMessages, db.outboxIndex].reduce((sum, d) => {
      const s = d.getStats() as { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
      return sum + (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * pageBytes;
    }, 0);
    // 400 messages of 16 KB: 6.4 MB offered, more than either limit allows.
    for (let i = 0; i < 400; i++) await outbox.enqueue(i % 4 === 0 ? 'hit' : 'read', 't', `m${i}`, Buffer.alloc(16_000, i));
    expect(outbox.size).toBeLessThanOrEqual(limits.maxMessages);
    expect(outbox.bytes).toBeLessThanOrEqual(limits.maxBytes);
    expect(outbox.bytes).toBeGreaterThan(3 << 20);
    expect(outbox.countOf('hit')).toBe(100);
    // Its pages are in the file (several MB of them), but not in what the budget counts.
    expect(outboxBytesInFile()).toBeGreaterThan(3 << 20);
    expect(storeUsage(db, path).usedBytes).toBe(before.usedBytes);
    expect(store.budgetShort()).toBe(false);
    expect(await store.enforceBudget()).toBeUndefined();
    expect(db.reads.getCount()).toBe(reads.length);
  });
});
