import { describe, expect, it, onTestFinished } from 'vitest';
import { Outbox } from '../../src/mqtt/outbox.js';
import { openDeviceKeys } from '../../src/state/device-keys.js';
import { openTestStateDatabase, tempDir } from '../support/mqtt-harness.js';

describe('durable MQTT outbox: a write that fails', () => {
  it('leaves no ghost message: size, bytes and per-kind counts stay as they were, and a reopen finds only the committed one', async () => {
    const dir = tempDir('outbox-');
    const db = openTestStateDatabase(dir);
    const o = new Outbox(db, { maxMessages: 100, maxBytes: 1 << 20 }, openDeviceKeys(tempDir('outbox-keys-')));
    onTestFinished(() => o.close());
    await o.enqueue('hit', 't/hits', 'h1', Buffer.from('hit one'));
    // The state environment goes away under the outbox (as on a full disk, the transaction fails).
    await db.root.close();
    await expect(o.enqueue('hit', 't/hits', 'h2', Buffer.from('hit two'))).rejects.toThrow();
    expect(o.size).toBe(1);
    expect(o.bytes).toBe('hit one'.length);
    expect(o.countOf('hit')).toBe(1);
    const again = openTestStateDatabase(dir);
    onTestFinished(() => again.root.close());
    const reopened = new Outbox(again, { maxMessages: 100, maxBytes: 1 << 20 }, openDeviceKeys(tempDir('outbox-keys-')));
    onTestFinished(() => reopened.close());
    expect(reopened.size).toBe(1);
  });

  it('counts messages whose writes are still in flight against the bound, so concurrent writes never overfill it', async () => {
    const keys = openDeviceKeys(tempDir('outbox-keys-'));
    const db = openTestStateDatabase();
    onTestFinished(() => db.root.close());
    const o = new Outbox(db, { maxMessages: 3, maxBytes: 1 << 20 }, keys);
    onTestFinished(() => o.close());
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => o.enqueue('read', 'r', `r${i}`, Buffer.from(`read ${i}`))));
    expect(o.size).toBeLessThanOrEqual(3);
    expect(o.peek(0, 10).length).toBe(o.size);
    expect(results.filter((r) => r.seq > 0).length - o.dropped.read).toBe(o.size);
  });
});
