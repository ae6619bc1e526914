import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ImageBuckets, type ImageChunkKey } from '../../src/state/database.js';
import { createHold, releaseHold } from '../../src/store/evidence-holds.js';
import { exportHold, verifyExport } from '../../src/store/export-bundle.js';
import type { StoredRead } from '../../src/store/read-store.js';
import { DAY_MS, makeRead, openStoreForTest, testConfig } from '../support/store-fixtures.js';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const HOUR_MS = 3_600_000;
// An hour boundary 40 days back: reads laid out in whole hours past a 30-day retention.
const base = Math.floor((Date.now() - 40 * DAY_MS) / HOUR_MS) * HOUR_MS;
const now = Date.now();

type TestStore = ReturnType<typeof openStoreForTest>;

/** Every read still stored has both its images; no image is left without its read. */
function expectConsistent({ store, db }: TestStore): void {
  const reads = new Set([...db.reads.getKeys()].map((k) => k as string));
  expect(store.readIdsWithImages()).toEqual(reads);
  for (const id of reads) {
    expect(store.image(id, 'plate', now, { ignoreRetention: true }), `plate image of ${id}`).toBeDefined();
    expect(store.image(id, 'overview', now, { ignoreRetention: true }), `overview image of ${id}`).toBeDefined();
  }
}

describe('image buckets (hourly LMDB databases dropped whole)', () => {
  it('stores a read\'s images in the database of its hour, and a purge drops an hour past retention whole', async () => {
    const t = openStoreForTest(testConfig({ retentionDays: 30 }));
    const old = Array.from({ length: 30 }, (_, i) => makeRead(`1HRS${String(i).padStart(3, '0')}`, base + (i % 3) * HOUR_MS + i * 1000));
    const fresh = makeRead('1NEW001', now - 1000);
    await t.store.putMany([...old, fresh]);
    const hours = [0, 1, 2].map((h) => ImageBuckets.nameOf(base + h * HOUR_MS, 'hour'));
    expect(t.db.imageBuckets.names()).toEqual([...hours, ImageBuckets.nameOf(now - 1000, 'hour')]);
    expect((t.db.reads.get(fresh.id) as StoredRead).imagesIn).toBe('hour');
    expect(t.store.image(fresh.id, 'plate')!.equals(fresh.plateJpeg)).toBe(true);
    expect(await t.store.purgeExpired(now)).toMatchObject({ purged: 30 });
    expect(t.db.imageBuckets.names()).toEqual([ImageBuckets.nameOf(now - 1000, 'hour')]);
    expect(t.db.meta.get('images.owedBuckets')).toEqual([]);
    expectConsistent(t);
  });

  it('P3: reads of the hour the cutoff falls in take their images with them; the rest of that hour stays', async () => {
    const t = openStoreForTest(testConfig({ retentionDays: 30 }));
    const hourStart = Math.floor((now - 30 * DAY_MS) / HOUR_MS) * HOUR_MS;
    const cutoffAt = hourStart + 30 * 60_000;
    const before = makeRead('2CUT001', hourStart + 10 * 60_000);
    const after = makeRead('2CUT002', hourStart + 50 * 60_000);
    await t.store.putMany([before, after]);
    expect(await t.store.purgeExpired(cutoffAt + 30 * DAY_MS)).toMatchObject({ purged: 1 });
    expect(t.db.reads.get(before.id)).toBeUndefined();
    expect(t.db.imageBuckets.names()).toEqual([ImageBuckets.nameOf(hourStart, 'hour')]);
    expectConsistent(t);
    expect(t.store.image(after.id, 'overview', cutoffAt + 30 * DAY_MS)!.equals(after.overviewJpeg)).toBe(true);
  });

  it('P4: a held read keeps its images when its hour is dropped, exports with them, and loses them once released and purged', async () => {
    const t = openStoreForTest(testConfig({ retentionDays: 30 }));
    const evidence = makeRead('3HLD001', now - 20 * DAY_MS);
    const other = makeRead('3OTH001', now - 20 * DAY_MS + 1000);
    await t.store.putMany([evidence, other]);
    createHold(t.store, { name: 'case-7', caseNumber: '24-007', reason: 'robbery', readIds: [evidence.id] }, 'ivan', now);
    const later = now + 15 * DAY_MS;
    expect(await t.store.purgeExpired(later)).toMatchObject({ purged: 1, keptHeld: 1 });
    expect(t.db.imageBuckets.names().some((n) => n === ImageBuckets.nameOf(now - 20 * DAY_MS, 'hour'))).toBe(false);
    expect((t.db.reads.get(evidence.id) as StoredRead).imagesIn).toBe('kept');
    expect(t.store.image(evidence.id, 'plate', later, { ignoreRetention: true })!.equals(evidence.plateJpeg)).toBe(true);
    expectConsistent(t);
    const out = join(mkdtempSync(join(tmpdir(), 'alpr-export-')), 'bundle');
    exportHold(t.store, { hold: 'case-7', outDir: out, by: 'ivan', deviceId: 'pole-test', nowMs: later });
    expect(verifyExport(out)).toMatchObject({ ok: true, files: 4 });
    releaseHold(t.store, 'case-7', 'ivan', 'case closed', later);
    expect(await t.store.purgeExpired(later)).toMatchObject({ purged: 1 });
    expect(t.db.reads.getCount()).toBe(0);
    expect(t.store.readIdsWithImages().size).toBe(0);
  });

  it('reads stored before image buckets (images in the one `images` database) stay readable and are purged with their images', async () => {
    const config = testConfig({ retentionDays: 30 });
    const first = openStoreForTest(config);
    const oldExpired = makeRead('4LEG001', now - 35 * DAY_MS);
    const oldHeld = makeRead('4LEG002', now - 35 * DAY_MS + 1000);
    const oldLive = makeRead('4LEG003', now - 2 * DAY_MS);
    const legacy = [oldExpired, oldHeld, oldLive];
    await first.store.putMany(legacy);
    // Rewrite them as the earlier layout had them: records without `imagesIn`, chunks in `images`.
    first.db.imageBuckets.openAll();
    first.db.root.transactionSync(() => {
      for (const r of legacy) {
        const s = first.db.reads.get(r.id) as StoredRead;
        const bucket = first.db.imageBuckets.cached(ImageBuckets.nameOf(Date.parse(r.capturedAt), 'hour'))!;
        for (const { key, value } of bucket.getRange({ start: [r.id, ''], end: [r.id, '\uffff'] })) {
          first.db.legacyImages.put(key as ImageChunkKey, value);
          bucket.remove(key as ImageChunkKey);
        }
        const { imagesIn: _, ...rest } = s;
        first.db.reads.put(r.id, rest);
      }
    });
    createHold(first.store, { name: 'old-case', caseNumber: '23-001', reason: 'evidence', readIds: [oldHeld.id] }, 'ivan', now - 34 * DAY_MS);
    await first.db.root.close();
    const t = openStoreForTest(config);
    expect(t.db.legacyImages.getCount()).toBeGreaterThan(0);
    expect(t.store.image(oldLive.id, 'plate')!.equals(oldLive.plateJpeg)).toBe(true);
    const fresh = makeRead('4NEW001', now - 1000);
    await t.store.put(fresh);
    expect(await t.store.purgeExpired(now)).toMatchObject({ purged: 1, keptHeld: 1 });
    expect(t.store.image(oldHeld.id, 'overview', now, { ignoreRetention: true })!.equals(oldHeld.overviewJpeg)).toBe(true);
    expectConsistent(t);
    expect(new Set([...t.db.legacyImages.getKeys()].map((k) => (k as ImageChunkKey)[0]))).toEqual(new Set([oldHeld.id, oldLive.id]));
  });

  it('a purge cut off between deleting reads and dropping their hour is finished by the next one', async () => {
    const config = testConfig({ retentionDays: 30 });
    const t = openStoreForTest(config);
    const reads = Array.from({ length: 20 }, (_, i) => makeRead(`5CUT${String(i).padStart(3, '0')}`, base + i * 1000));
    await t.store.putMany(reads);
    const bucket = ImageBuckets.nameOf(base, 'hour');
    // What a kill after the first purge batch committed leaves: some reads deleted, their images not,
    // the bucket recorded as owed in the same transaction.
    t.db.root.transactionSync(() => {
      for (const r of reads.slice(0, 8)) t.db.reads.remove(r.id);
      t.db.meta.put('images.owedBuckets', [bucket]);
    });
    await t.db.root.close();
    // Even if the retention went up meanwhile, the owed bucket is dropped; live reads keep their images.
    const longer = openStoreForTest({ ...config, store: { ...config.store, retentionDays: 60 } });
    expect(await longer.store.purgeExpired(now)).toMatchObject({ purged: 0 });
    expect(longer.db.imageBuckets.names()).not.toContain(bucket);
    expect(longer.db.meta.get('images.owedBuckets')).toEqual([]);
    expect(longer.db.reads.getCount()).toBe(12);
    expectConsistent(longer);
  });
});

const CHILD = 'test/support/store-purge-child.mjs';

function purgeAndKill(stateDir: string, nowMs: number, killAfterMs: number): Promise<'killed' | 'done'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, stateDir, String(nowMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n') && killAfterMs >= 0) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') return resolve('killed');
      if (code !== 0) return reject(new Error(`purge child failed (code ${code}): ${err}`));
      resolve('done');
    });
  });
}

describe('image buckets across kills (SIGKILL during a purge)', { timeout: 300_000 }, () => {
  it('a purge killed at random moments leaves every stored read with its images, and the next purge leaves no image without its read', async () => {
    expect(existsSync('dist/src/store/read-store.js'), 'run `node_modules/.bin/tsc -b` first').toBe(true);
    const config = testConfig({ retentionDays: 30, purgeBatchSize: 10 });
    for (let round = 0; round < 4; round++) {
      const t = openStoreForTest(config);
      const expired = Array.from({ length: 400 }, (_, i) => makeRead(`6KIL${round}${String(i).padStart(3, '0')}`, base + round * 4 * HOUR_MS + (i % 4) * HOUR_MS + i * 1000, { imageBytes: 6000 }));
      const live = makeRead(`6LIV${round}00`, now - 1000);
      await t.store.putMany([...expired, live]);
      createHold(t.store, { name: `hold-${round}`, caseNumber: String(round), reason: 'evidence', readIds: [expired[5]!.id] }, 'ivan', base + round * 4 * HOUR_MS + 30 * DAY_MS - HOUR_MS);
      await t.db.root.close();
      for (let k = 0; k < 3; k++) {
        await purgeAndKill(config.stateDir, now, Math.floor(Math.random() * 120));
        const after = openStoreForTest(config);
        // After any kill: whatever reads remain still have both images.
        for (const key of after.db.reads.getKeys()) {
          expect(after.store.image(key as string, 'plate', now, { ignoreRetention: true }), `images of ${key as string} after a kill`).toBeDefined();
        }
        await after.db.root.close();
      }
      expect(await purgeAndKill(config.stateDir, now, -1)).toBe('done');
      const done = openStoreForTest(config);
      expectConsistent(done);
      expect(done.db.reads.get(live.id)).toBeDefined();
      expect(done.db.reads.get(expired[5]!.id)).toBeDefined();
      expect(done.db.meta.get('images.owedBuckets')).toEqual([]);
      await done.db.root.close();
    }
  });
});
