import { describe, expect, it, onTestFinished } from 'vitest';
import { verifyAccessLog } from '../../src/access/access-log.js';
import { ImageBuckets, type ImageChunkKey, type PlateIndexKey } from '../../src/state/database.js';
import { createHold } from '../../src/store/evidence-holds.js';
import type { StoredRead } from '../../src/store/read-store.js';
import { DAY_MS, makeRead, openStoreForTest, testConfig } from '../support/store-fixtures.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
// A UTC day 40 days back, read every 30 minutes from two cameras; retention 30 days.
const dayStart = Math.floor((Date.now() - 40 * DAY_MS) / DAY_MS) * DAY_MS;
// The cutoff falls 20 minutes into 13:00: hours 00-12 are past retention whole (purged by key
// ranges, images dropped with their hour), 13:07 goes read by read, 13:37 on stays.
const cutoff = dayStart + 13 * HOUR_MS + 20 * MINUTE_MS;
const purgeAt = cutoff + 30 * DAY_MS;

type TestStore = ReturnType<typeof openStoreForTest>;

function dayOfReads() {
  return Array.from({ length: 48 }, (_, i) => makeRead(`7DAY${String(i).padStart(3, '0')}`, dayStart + i * 30 * MINUTE_MS + 7 * MINUTE_MS, { cameraId: i % 2 ? 'north' : 'south' }));
}

/** Every table a read has entries in names exactly `ids`, and each of them has both its images. */
function expectOnly({ store, db }: TestStore, ids: string[]): void {
  const want = new Set(ids);
  expect(new Set([...db.reads.getKeys()].map((k) => k as string))).toEqual(want);
  expect(new Set([...db.byCamera.getKeys()].map((k) => (k as [string, string])[1]))).toEqual(want);
  expect(new Set([...db.byPlate.getKeys()].map((k) => (k as PlateIndexKey)[3]))).toEqual(want);
  expect(new Set([...db.byLookAlike.getKeys()].map((k) => (k as PlateIndexKey)[3]))).toEqual(want);
  expect(store.readIdsWithImages()).toEqual(want);
  for (const id of ids) {
    expect(store.image(id, 'plate', purgeAt, { ignoreRetention: true }), `plate image of ${id}`).toBeDefined();
    expect(store.image(id, 'overview', purgeAt, { ignoreRetention: true }), `overview image of ${id}`).toBeDefined();
  }
}

describe('purging a day past retention (real LMDB)', () => {
  it('P3/P4: keeps held reads with their images and index entries, and removes every other expired read with its images, camera and plate index entries', async () => {
    const t = openStoreForTest(testConfig({ retentionDays: 30, purgeBatchSize: 10 }));
    const reads = dayOfReads();
    await t.store.putMany(reads);
    // Held: one in a whole hour (purged by ranges), one in the cutoff's hour (read by read), one not expired.
    const held = [reads[5]!, reads[26]!, reads[30]!];
    createHold(t.store, { name: 'case-9', caseNumber: '24-009', reason: 'evidence', readIds: held.map((r) => r.id) }, 'ivan', dayStart + 29 * DAY_MS);

    const result = await t.store.purgeExpired(purgeAt);

    expect(result).toMatchObject({ reason: 'retention', purged: 25, keptHeld: 2 });
    const kept = [reads[5]!, reads[26]!, ...reads.slice(27)];
    expectOnly(t, kept.map((r) => r.id));
    for (const r of held) expect(t.store.image(r.id, 'plate', purgeAt, { ignoreRetention: true })!.equals(r.plateJpeg)).toBe(true);
    // Hours 00-12 are gone whole; 13:00 and later stay with the reads that are not expired.
    expect(t.db.imageBuckets.names()).toEqual(Array.from({ length: 11 }, (_, h) => ImageBuckets.nameOf(dayStart + (13 + h) * HOUR_MS, 'hour')));
    expect((t.db.reads.get(reads[5]!.id) as StoredRead).imagesIn).toBe('kept');
    expect(t.db.meta.get('images.owedBuckets')).toEqual([]);
    // Reads not expired are found as before, by plate and by camera.
    expect(t.store.search({ plate: reads[40]!.plate, limit: 10 }, purgeAt).reads.map((r) => r.id)).toEqual([reads[40]!.id]);
    expect(t.store.search({ cameraId: 'north', limit: 100 }, purgeAt).reads.map((r) => r.id)).toEqual(reads.slice(27).filter((_, i) => (27 + i) % 2).map((r) => r.id).reverse());
    expect(verifyAccessLog(t.db).ok).toBe(true);

    // A second purge at the same time finds nothing more to do.
    expect(await t.store.purgeExpired(purgeAt)).toMatchObject({ purged: 0, keptHeld: 2 });
    expectOnly(t, kept.map((r) => r.id));
  });

  it('an old-layout store (images in the one `images` database, records without `imagesIn`, indexes keyed [key, tag, id]) opens and purges a day the same way', async () => {
    const config = testConfig({ retentionDays: 30, purgeBatchSize: 10 });
    const first = openStoreForTest(config);
    const reads = dayOfReads();
    await first.store.putMany(reads);
    // Rewrite everything as the layout before image buckets and day-first indexes had it.
    first.db.imageBuckets.openAll();
    first.db.root.transactionSync(() => {
      for (const r of reads) {
        const bucket = first.db.imageBuckets.cached(ImageBuckets.nameOf(Date.parse(r.capturedAt), 'hour'))!;
        for (const { key, value } of bucket.getRange({ start: [r.id, ''], end: [r.id, '\uffff'] })) first.db.legacyImages.put(key as ImageChunkKey, value);
        const { imagesIn: _, ...rest } = first.db.reads.get(r.id) as StoredRead;
        first.db.reads.put(r.id, rest);
      }
      for (const index of [first.db.byPlate, first.db.byLookAlike]) {
        for (const k of [...index.getKeys()] as PlateIndexKey[]) {
          index.remove(k);
          (index as unknown as { put: (k: unknown[], v: number) => void }).put(k.slice(1), 1);
        }
      }
      first.db.meta.remove('index.layout');
    });
    for (const name of first.db.imageBuckets.names()) first.db.imageBuckets.open(name)!.dropSync();
    createHold(first.store, { name: 'old-case', caseNumber: '23-002', reason: 'evidence', readIds: [reads[5]!.id, reads[26]!.id] }, 'ivan', dayStart + 29 * DAY_MS);
    await first.db.root.close();

    const t = openStoreForTest(config);
    expect(t.db.imageBuckets.names()).toEqual([]);
    expect(await t.store.purgeExpired(purgeAt)).toMatchObject({ purged: 25, keptHeld: 2 });
    expectOnly(t, [reads[5]!, reads[26]!, ...reads.slice(27)].map((r) => r.id));
    expect(new Set([...t.db.legacyImages.getKeys()].map((k) => (k as ImageChunkKey)[0]))).toEqual(new Set([reads[5]!, reads[26]!, ...reads.slice(27)].map((r) => r.id)));
    expect(t.store.search({ plate: reads[5]!.plate, limit: 10 }, dayStart + 29 * DAY_MS).reads.map((r) => r.id)).toEqual([reads[5]!.id]);
    expect(verifyAccessLog(t.db).ok).toBe(true);
  });
});
