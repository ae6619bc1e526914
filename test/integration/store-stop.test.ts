import { describe, expect, it, onTestFinished } from 'vitest';
import pino from 'pino';
import { createMetrics } from '../../src/metrics/metrics.js';
import { DeviceEventBus } from '../../src/device-events.js';
import { StoreExtension } from '../../src/store/store-extension.js';
import type { Config } from '../../src/config/schema.js';
import { DAY_MS, makeRead, openStoreForTest, silent, testConfig } from '../support/store-fixtures.js';

/** A started store extension whose stop (if the test has not stopped it) and HTTP server close when the test ends. */
async function startStore(config: Config, opts: { flushAtStopMs?: number; logger?: pino.Logger } = {}) {
  const ext = new StoreExtension({ ...(opts.flushAtStopMs !== undefined ? { flushAtStopMs: opts.flushAtStopMs } : {}) });
  onTestFinished(async () => {
    await ext.stop();
  });
  const sink = await ext.start({ config, logger: opts.logger ?? silent, metrics: createMetrics(), events: new DeviceEventBus() });
  return { ext, sink };
}

/** Waits for a condition on the event loop (no fixed sleep); the test's timeout bounds it. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

describe('store extension stop', () => {
  it('ends a purge of a large backlog after the batch in hand instead of waiting for all of it, and the next start finishes the purge', async () => {
    const config = testConfig({ retentionDays: 1, purgeBatchSize: 10 });
    const seed = openStoreForTest(config);
    const backlog = Array.from({ length: 2000 }, (_, i) => makeRead(`5STP${String(i).padStart(4, '0')}`, Date.now() - 3 * DAY_MS + i * 1000));
    await seed.store.putMany(backlog);
    await seed.db.root.close();

    // start() begins the purge in the background: 2000 expired reads at 40 a transaction.
    const first = await startStore(config);
    await first.ext.stop();
    const after = openStoreForTest(config);
    const left = after.db.reads.getCount();
    await after.db.root.close();
    expect(left).toBeGreaterThan(0);

    // What the stopped purge left (reads, owed image buckets, index entries) goes at the next start.
    const second = await startStore(config);
    const db = second.ext.store!.db;
    await until(() => db.reads.getCount() === 0 && db.byPlate.getCount() === 0 && db.byLookAlike.getCount() === 0 && second.ext.store!.readIdsWithImages().size === 0);
    expect(db.byCamera.getCount()).toBe(0);
  });

  it('counts a read handed to the sink after stop as dropped instead of leaving it unseen in the queue', async () => {
    const { ext, sink } = await startStore(testConfig());
    await sink.accept(makeRead('5AFT001', Date.now()));
    await ext.stop();
    await sink.accept(makeRead('5AFT002', Date.now()));
    expect(ext.health()).toMatchObject({ written: 1, dropped: 1, queued: 0 });
  });

  it('writes or counts every read accepted before stop: reads still queued when the flush time runs out are dropped, counted and logged', async () => {
    const config = testConfig();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const { ext, sink } = await startStore(config, { flushAtStopMs: 0, logger });
    const reads = Array.from({ length: 1000 }, (_, i) => makeRead(`5QUE${String(i).padStart(4, '0')}`, Date.now() - i * 100));
    for (const r of reads) await sink.accept(r);
    await ext.stop();
    const h = ext.health() as { status: string; written: number; dropped: number; queued: number };
    expect(h.queued).toBe(0);
    expect(h.written + h.dropped).toBe(reads.length);
    const reopened = openStoreForTest(config);
    expect(reopened.db.reads.getCount()).toBe(h.written);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; reads?: number }).find((l) => l.msg.startsWith('store stopping: reads still queued'));
    expect(logged?.reads ?? 0).toBe(h.dropped);
  });
});
