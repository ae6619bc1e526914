import { describe, expect, it, onTestFinished } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { DeviceEventBus } from '../../src/device-events.js';
import { StoreExtension } from '../../src/store/store-extension.js';
import { DAY_MS, makeRead, openStoreForTest, silent, testConfig } from '../support/store-fixtures.js';
import { waitFor } from '../support/wait-for.js';

async function started(store: Parameters<typeof testConfig>[0] = {}) {
  const config = testConfig(store);
  const ext = new StoreExtension();
  const metrics = createMetrics();
  const sink = await ext.start({ config, logger: silent, metrics, events: new DeviceEventBus() });
  // Closed however the test ends: a failed assertion leaks no LMDB environment or server.
  onTestFinished(async () => {
    await ext.stop();
  });
  return { ext, sink, metrics, config };
}

describe('store extension (the daemon\'s sink)', () => {
  it('accepts reads without waiting for the disk, then stores them all', async () => {
    const { ext, sink, metrics } = await started();
    const reads = Array.from({ length: 50 }, (_, i) => makeRead(`5SNK${String(i).padStart(3, '0')}`, Date.now() - i * 1000));
    for (const r of reads) await sink.accept(r);
    // accept() resolved for all 50 while the first commit was still in flight: nothing waits on LMDB.
    expect(ext.health()).toMatchObject({ status: 'ok', queued: 49 });
    await ext.flush();
    expect(ext.store!.db.reads.getCount()).toBe(50);
    expect(ext.health()).toMatchObject({ status: 'ok', written: 50, dropped: 0, queued: 0 });
    expect(await metrics.registry.getSingleMetricAsString('alpr_edge_store_reads_written_total')).toContain(' 50');
  });

  it('drops the oldest waiting read when the queue is full, counts it and reports degraded health', async () => {
    const { ext, sink } = await started({ queueMax: 3 });
    for (let i = 0; i < 12; i++) await sink.accept(makeRead(`5DRP${String(i).padStart(3, '0')}`, Date.now() - i * 1000));
    await ext.flush();
    const h = ext.health();
    expect(h.status).toBe('degraded');
    expect((h.written as number) + (h.dropped as number)).toBe(12);
    expect(h.dropped as number).toBeGreaterThan(0);
  });

  it('P3: keeps accepting and storing reads while a purge of a large backlog runs', async () => {
    const config = testConfig({ retentionDays: 1, purgeBatchSize: 10 });
    const seed = openStoreForTest(config);
    await seed.store.putMany(Array.from({ length: 400 }, (_, i) => makeRead(`5BKL${String(i).padStart(3, '0')}`, Date.now() - 3 * DAY_MS + i * 1000)));
    await seed.db.root.close();
    const ext = new StoreExtension();
    const metrics = createMetrics();
    // start() begins the purge in the background (40 batches) and returns the sink at once.
    const sink = await ext.start({ config, logger: silent, metrics, events: new DeviceEventBus() });
    onTestFinished(async () => {
      await ext.stop();
    });
    const fresh = Array.from({ length: 30 }, (_, i) => makeRead(`5LIV${String(i).padStart(3, '0')}`, Date.now() - i * 10));
    for (const r of fresh) await sink.accept(r);
    await ext.flush();
    // The purge finishes in the background: what is left is the 30 fresh reads, none of the 400 old.
    await waitFor('the backlog purged', () => ext.store!.db.reads.getCount() <= 30);
    expect(ext.store!.db.reads.getCount()).toBe(30);
    expect(fresh.every((r) => ext.store!.get(r.id) !== undefined)).toBe(true);
    expect(ext.health()).toMatchObject({ status: 'ok', written: 30, dropped: 0 });
    expect(await metrics.registry.getSingleMetricAsString('alpr_edge_store_corrupt_records_skipped_total')).toContain(' 0');
  });

  it('P3: purges expired reads at start', async () => {
    const config = testConfig({ retentionDays: 1 });
    const first = new StoreExtension();
    onTestFinished(() => first.stop());
    const sink = await first.start({ config, logger: silent, metrics: createMetrics(), events: new DeviceEventBus() });
    await sink.accept(makeRead('5OLD999', Date.now() - 2 * DAY_MS));
    await sink.accept(makeRead('5NEW999', Date.now()));
    await first.stop();
    const second = new StoreExtension();
    await second.start({ config, logger: silent, metrics: createMetrics(), events: new DeviceEventBus() });
    onTestFinished(async () => {
      await second.stop();
    });
    // The start-up purge runs in the background: wait for the expired read to go, then check the other stays.
    await waitFor('the expired read purged', () => second.store!.db.reads.getCount() < 2);
    expect(second.store!.db.reads.getCount()).toBe(1);
  });

  it('P17: logs a configuration change found at start, once per change', async () => {
    const config = testConfig();
    const actions = async (c: typeof config) => {
      const ext = new StoreExtension();
      onTestFinished(() => ext.stop());
      await ext.start({ config: c, logger: silent, metrics: createMetrics(), events: new DeviceEventBus() });
      const log = [...ext.store!.db.accessLog.getRange()].map((e) => (e.value as { action: string }).action);
      await ext.stop();
      return log.filter((a) => a === 'config.change').length;
    };
    expect(await actions(config)).toBe(1);
    expect(await actions(config)).toBe(1);
    expect(await actions({ ...config, store: { ...config.store, retentionDays: 20 } })).toBe(2);
  });

  it('disk budget: purges the oldest reads early and raises a degraded alarm in health', async () => {
    const { ext, sink } = await started({ maxBytes: 1024 * 1024, purgeIntervalS: 1 });
    for (let i = 0; i < 80; i++) await sink.accept(makeRead(`5BIG${String(i).padStart(3, '0')}`, Date.now() - (100 - i) * 1000, { imageBytes: 30_000 }));
    await ext.flush();
    // The purge runs every second; on a busy machine the first pass may come later.
    await waitFor('the disk-budget alarm', () => ext.health().status === 'degraded');
    const h = ext.health();
    expect(h.status).toBe('degraded');
    expect(String(h.alarm)).toMatch(/disk budget/);
    expect(ext.store!.db.reads.getCount()).toBeLessThan(80);
    expect(ext.store!.usage().usedBytes).toBeLessThanOrEqual(1024 * 1024);
  });
});
