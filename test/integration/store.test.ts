import { describe, expect, it, onTestFinished } from 'vitest';
import { appendFileSync, chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { openStateDatabaseFor, storePath, type StateDatabase } from '../../src/state/database.js';
import { DeviceKeys } from '../../src/state/device-keys.js';
import { createHold, releaseHold } from '../../src/store/evidence-holds.js';
import { exportHold, verifyExport } from '../../src/store/export-bundle.js';
import { ReadStore } from '../../src/store/read-store.js';
import { DAY_MS, makeRead, openStoreForTest, silent, testConfig } from '../support/store-fixtures.js';

/** The `reads` sub-database without its record type, to write what a damaged file would hold. */
const rawReads = (db: StateDatabase) => db.root.openDB<unknown, string>({ name: 'reads' });

const now = Date.now();

function purgeEntries(db: ReturnType<typeof openStoreForTest>['db']): AccessLogEntry[] {
  return [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action === 'purge');
}

describe('ring store on real LMDB', () => {
  it('stores a read and gives back its fields and both images', async () => {
    const { store, db } = openStoreForTest(testConfig());
    const read = { ...makeRead('7ABC123', now - 60_000), vehicle: { colour: 'red' as const, colourConfidence: 0.82 } };
    await store.put(read);
    const got = store.get(read.id)!;
    expect(got).toMatchObject({ id: read.id, plate: '7ABC123', state: 'CA', cameraId: 'cam1', location: read.location, candidates: read.candidates, vehicle: read.vehicle });
    expect(store.image(read.id, 'plate')!.equals(read.plateJpeg)).toBe(true);
    expect(store.image(read.id, 'overview')!.equals(read.overviewJpeg)).toBe(true);
  });

  it('P16: keeps no plate text and no image bytes in the clear on disk, and key files are 0600', async () => {
    const config = testConfig();
    const { store, db } = openStoreForTest(config);
    for (let i = 0; i < 20; i++) await store.put({ ...makeRead(`8QXZ${100 + i}`, now - i * 1000), vehicle: { colour: 'purple', colourConfidence: 0.7 } });
    await db.root.close();
    const raw = readFileSync(join(storePath(config), 'data.mdb'));
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.includes(Buffer.from('8QXZ1'))).toBe(false);
    expect(raw.includes(Buffer.from('JPEG-plate-'))).toBe(false);
    expect(raw.includes(Buffer.from('Main St'))).toBe(false);
    expect(raw.includes(Buffer.from('purple'))).toBe(false);
    const keyDir = join(config.stateDir, 'keys');
    for (const f of readdirSync(keyDir)) if (f !== 'current') expect(statSync(join(keyDir, f)).mode & 0o777).toBe(0o600);
  });

  it('P16: refuses a key file readable by others, naming the file and the fix', () => {
    const config = testConfig();
    const keys = DeviceKeys.open(join(config.stateDir, 'keys'));
    const file = join(keys.dir, `data-${keys.currentKeyId}.key`);
    chmodSync(file, 0o644);
    expect(() => DeviceKeys.open(keys.dir)).toThrow(/readable by group or others.*chmod 600/);
  });

  it('reads sealed before a key rotation stay readable and searchable after it', async () => {
    const config = testConfig();
    const first = openStoreForTest(config);
    const before = makeRead('5OLD111', now - 5000);
    await first.store.put(before);
    const newKid = first.keys.rotate();
    const after = makeRead('5OLD111', now - 1000);
    await first.store.put(after);
    await first.db.root.close();
    const { store, db, keys } = openStoreForTest(config);
    expect(keys.currentKeyId).toBe(newKid);
    expect(keys.keyIds).toHaveLength(2);
    expect(store.search({ plate: '5OLD111', limit: 10 }).reads.map((r) => r.id)).toEqual([after.id, before.id]);
    expect(store.image(before.id, 'plate')!.equals(before.plateJpeg)).toBe(true);
  });

  it('searches by exact plate, look-alike, wildcard partial, camera and time, newest first, paginated', async () => {
    const { store, db } = openStoreForTest(testConfig());
    await store.putMany([
      makeRead('8ABC123', now - 50_000, { cameraId: 'north' }),
      makeRead('BABC123', now - 40_000, { cameraId: 'south' }),
      makeRead('8ABC124', now - 30_000, { cameraId: 'north' }),
      makeRead('9XYZ999', now - 20_000, { cameraId: 'north' }),
      makeRead('8ABC123', now - 10_000, { cameraId: 'south' }),
    ]);
    const plates = (q: Parameters<ReadStore['search']>[0]) => store.search(q).reads.map((r) => `${r.plate}@${r.cameraId}`);
    expect(plates({ plate: '8abc-123', limit: 10 })).toEqual(['8ABC123@south', '8ABC123@north']);
    expect(plates({ plate: '8ABC123', match: 'lookalike', limit: 10 })).toEqual(['8ABC123@south', 'BABC123@south', '8ABC123@north']);
    expect(plates({ plate: '8ABC12?', match: 'partial', limit: 10 })).toEqual(['8ABC123@south', '8ABC124@north', '8ABC123@north']);
    expect(plates({ plate: '*XYZ*', match: 'partial', limit: 10 })).toEqual(['9XYZ999@north']);
    expect(plates({ cameraId: 'north', limit: 10 })).toEqual(['9XYZ999@north', '8ABC124@north', '8ABC123@north']);
    expect(plates({ fromMs: now - 35_000, toMs: now - 15_000, limit: 10 })).toEqual(['9XYZ999@north', '8ABC124@north']);
    const p1 = store.search({ limit: 2 });
    const p2 = store.search({ limit: 2, cursor: p1.nextCursor });
    const p3 = store.search({ limit: 2, cursor: p2.nextCursor });
    expect([...p1.reads, ...p2.reads, ...p3.reads].map((r) => r.plate)).toEqual(['8ABC123', '9XYZ999', '8ABC124', 'BABC123', '8ABC123']);
    expect(p3.nextCursor).toBeUndefined();
  });

  it('P3: a read past retention is never returned, even before it is purged', async () => {
    const { store, db } = openStoreForTest(testConfig({ retentionDays: 30 }));
    const old = makeRead('1OLD001', now - 31 * DAY_MS);
    const fresh = makeRead('1OLD001', now - 29 * DAY_MS);
    await store.putMany([old, fresh]);
    expect(db.reads.get(old.id)).toBeDefined();
    expect(store.get(old.id)).toBeUndefined();
    expect(store.image(old.id, 'plate')).toBeUndefined();
    expect(store.search({ plate: '1OLD001', limit: 10 }).reads.map((r) => r.id)).toEqual([fresh.id]);
    expect(store.search({ fromMs: 0, limit: 10 }).reads.map((r) => r.id)).toEqual([fresh.id]);
  });

  it('P3: purge deletes expired reads in batches, logs counts and the oldest remaining time, and records it in the access log', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const config = testConfig({ retentionDays: 30, purgeBatchSize: 10 });
    const { store, db } = openStoreForTest(config, logger);
    // Their hour is past retention whole, so their images go with it and a batch of 10 takes 40 reads.
    const expired = Array.from({ length: 95 }, (_, i) => makeRead(`2EXP${String(i).padStart(3, '0')}`, now - 40 * DAY_MS + i * 1000));
    const kept = makeRead('2KEEP01', now - DAY_MS);
    await store.putMany([...expired, kept]);
    const r = await store.purgeExpired(now);
    expect(r).toMatchObject({ reason: 'retention', purged: 95, keptHeld: 0, oldestRemainingAt: kept.capturedAt });
    expect(db.reads.getCount()).toBe(1);
    expect(store.readIdsWithImages()).toEqual(new Set([kept.id]));
    expect(db.byPlate.getCount()).toBe(1);
    expect(db.byCamera.getCount()).toBe(1);
    const logged = lines.find((l) => l['msg'] === 'retention purge')!;
    expect(logged).toMatchObject({ purged: 95, oldestRemainingAt: kept.capturedAt });
    // P16: the purge log line carries counts, never plate text.
    expect(JSON.stringify(lines)).not.toContain('2EXP');
    expect(purgeEntries(db).reduce((n, e) => n + (e.parameters['purged'] as number), 0)).toBe(95);
    expect(purgeEntries(db).length).toBe(3);
    expect(verifyAccessLog(db).ok).toBe(true);
  });

  it('P3: a purge deletes the plate index entries of every purged read and none of the kept ones', async () => {
    const { store, db } = openStoreForTest(testConfig({ retentionDays: 30, purgeBatchSize: 10 }));
    const expired = Array.from({ length: 25 }, (_, i) => makeRead(`4IDX${String(i).padStart(3, '0')}`, now - (31 + (i % 3)) * DAY_MS + i * 1000));
    const kept = Array.from({ length: 5 }, (_, i) => makeRead(`4IDX${String(i).padStart(3, '0')}`, now - i * DAY_MS - 1000));
    await store.putMany([...expired, ...kept]);
    expect(db.byPlate.getCount()).toBe(30);
    await store.purgeExpired(now);
    expect(db.byPlate.getCount()).toBe(5);
    expect(db.byLookAlike.getCount()).toBe(5);
    const remaining = new Set([...db.byPlate.getKeys()].map((k) => (k as unknown[])[3]));
    expect(remaining).toEqual(new Set(kept.map((r) => r.id)));
    for (const r of kept) expect(store.search({ plate: r.plate, limit: 10 }, now).reads.map((v) => v.id)).toEqual([r.id]);
  });

  it('P3: plate index entries a crash left behind (read gone, entry kept) are swept by the next purge', async () => {
    const { store, db } = openStoreForTest(testConfig({ retentionDays: 30 }));
    const gone = makeRead('5ORP001', now - 3 * DAY_MS);
    const live = makeRead('5ORP002', now - 1000);
    await store.putMany([gone, live]);
    // What a crash between a purge batch and its index deletion leaves: the read deleted, its entries not.
    await db.reads.remove(gone.id);
    expect(db.byPlate.getCount()).toBe(2);
    await store.purgeExpired(now);
    expect([...db.byPlate.getKeys()].map((k) => (k as unknown[])[3])).toEqual([live.id]);
    expect([...db.byLookAlike.getKeys()].map((k) => (k as unknown[])[3])).toEqual([live.id]);
  });

  it('rebuilds plate indexes of the earlier [key, tag, id] layout at open, so earlier reads stay searchable', async () => {
    const config = testConfig();
    const first = openStoreForTest(config);
    const reads = [makeRead('6OLD001', now - 2 * DAY_MS), makeRead('6OLD002', now - 1000)];
    await first.store.putMany(reads);
    // Rewrite the indexes as layout 1 had them.
    const old = [...first.db.byPlate.getKeys()].map((k) => k as unknown[]);
    const oldLa = [...first.db.byLookAlike.getKeys()].map((k) => k as unknown[]);
    first.db.root.transactionSync(() => {
      for (const k of old) {
        first.db.byPlate.remove(k as never);
        (first.db.byPlate as unknown as { put: (k: unknown[], v: number) => void }).put(k.slice(1), 1);
      }
      for (const k of oldLa) {
        first.db.byLookAlike.remove(k as never);
        (first.db.byLookAlike as unknown as { put: (k: unknown[], v: number) => void }).put(k.slice(1), 1);
      }
      first.db.meta.remove('index.layout');
    });
    await first.db.root.close();
    const { store, db } = openStoreForTest(config);
    expect([...db.byPlate.getKeys()].every((k) => typeof (k as unknown[])[0] === 'number')).toBe(true);
    expect(store.search({ plate: '6OLD001', limit: 10 }, now).reads.map((r) => r.id)).toEqual([reads[0]!.id]);
    expect(store.search({ plate: '6O1D002', match: 'lookalike', limit: 10 }, now).reads.map((r) => r.id)).toEqual([reads[1]!.id]);
  });

  it('P4: held reads survive purge until the hold is released', async () => {
    const { store, db } = openStoreForTest(testConfig({ retentionDays: 30 }));
    const evidence = makeRead('3EVD001', now - 20 * DAY_MS);
    const other = makeRead('3OTH001', now - 20 * DAY_MS);
    await store.putMany([evidence, other]);
    createHold(store, { name: 'case-42', caseNumber: '24-00042', reason: 'hit and run', readIds: [evidence.id] }, 'ivan', now);
    const later = now + 15 * DAY_MS;
    expect(await store.purgeExpired(later)).toMatchObject({ purged: 1, keptHeld: 1 });
    expect(db.reads.get(evidence.id)).toBeDefined();
    expect(db.reads.get(other.id)).toBeUndefined();
    releaseHold(store, 'case-42', 'ivan', 'case closed', later);
    expect(await store.purgeExpired(later)).toMatchObject({ purged: 1, keptHeld: 0 });
    expect(db.reads.getCount()).toBe(0);
  });

  it('P4: export writes a signed bundle that verifies, and any change to it is detected', async () => {
    const config = testConfig();
    const { store, db } = openStoreForTest(config);
    const reads = [makeRead('4EXP001', now - 3000), makeRead('4EXP001', now - 2000)];
    await store.putMany(reads);
    createHold(store, { name: 'h1', caseNumber: '24-1', reason: 'robbery', query: { plate: '4EXP001' } }, 'ivan', now);
    const out = join(config.stateDir, 'export');
    const { manifest } = exportHold(store, { hold: 'h1', outDir: out, by: 'ivan', deviceId: 'pole-test' });
    expect(Object.keys(manifest.files).sort()).toEqual(['custody.json', `images/${reads[0]!.id}-overview.jpg`, `images/${reads[0]!.id}-plate.jpg`, `images/${reads[1]!.id}-overview.jpg`, `images/${reads[1]!.id}-plate.jpg`, 'reads.json']);
    expect(readFileSync(join(out, `images/${reads[0]!.id}-plate.jpg`)).equals(reads[0]!.plateJpeg)).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'custody.json'), 'utf8'))[0]).toMatchObject({ action: 'exported', by: 'ivan', hold: { name: 'h1', caseNumber: '24-1' }, readCount: 2 });
    expect(verifyExport(out)).toMatchObject({ ok: true, problems: [], files: 6 });
    expect(verifyExport(out, 'f'.repeat(64)).ok).toBe(false);
    appendFileSync(join(out, 'reads.json'), ' ');
    expect(verifyExport(out).problems).toEqual(['reads.json was changed (sha256 mismatch)']);
    writeFileSync(join(out, 'extra.txt'), 'x');
    expect(verifyExport(out).problems).toContain('extra.txt is not in the manifest');
    writeFileSync(join(out, 'manifest.json'), readFileSync(join(out, 'manifest.json'), 'utf8').replace('"24-1"', '"24-2"'));
    expect(verifyExport(out).problems[0]).toMatch(/signature does not verify/);
    const exportEntry = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).find((e) => e.action === 'export');
    expect(exportEntry?.parameters).toMatchObject({ hold: 'h1', caseNumber: '24-1', readCount: 2 });
  });

  it('disk budget: over maxBytes, the oldest reads not under hold go first', async () => {
    const { store, db } = openStoreForTest(testConfig({ maxBytes: 2 * 1024 * 1024, purgeBatchSize: 20 }));
    const reads = Array.from({ length: 120 }, (_, i) => makeRead(`6BUD${String(i).padStart(3, '0')}`, now - (200 - i) * 1000, { imageBytes: 30_000 }));
    await store.putMany(reads);
    createHold(store, { name: 'keep-oldest', caseNumber: '1', reason: 'evidence', readIds: [reads[0]!.id] }, 'ivan', now);
    expect(store.budgetShort()).toBe(true);
    const r = (await store.enforceBudget())!;
    expect(r.reason).toBe('disk-budget');
    expect(r.purged).toBeGreaterThan(0);
    expect(store.budgetShort()).toBe(false);
    expect(db.reads.get(reads[0]!.id)).toBeDefined();
    expect(db.reads.get(reads[1]!.id)).toBeUndefined();
    expect(db.reads.get(reads[119]!.id)).toBeDefined();
  });

  it('survives a full LMDB map: a 1 MiB map takes 3 MB of reads by growing', async () => {
    const { store, db } = openStoreForTest(testConfig({ mapSizeBytes: 1024 * 1024 }));
    for (let i = 0; i < 50; i++) await store.put(makeRead(`7MAP${String(i).padStart(3, '0')}`, now - i * 1000, { imageBytes: 30_000 }));
    expect(db.reads.getCount()).toBe(50);
  });

  it('P6/P14: a refused export (no such hold, unapproved sharing request, media not empty) is logged as refused', async () => {
    const config = testConfig();
    const { store, db } = openStoreForTest(config);
    const read = makeRead('4REF001', now - 3000);
    await store.put(read);
    createHold(store, { name: 'h2', caseNumber: '24-2', reason: 'robbery', readIds: [read.id] }, 'ivan', now);
    const pending = { id: 'SR-2026-01-01-abc', agency: 'Fresno PD', agencyState: 'CA', requester: 'Det. Q', purpose: 'kidnapping', requestedBy: 'ivan', createdAt: new Date(now).toISOString(), status: 'pending' as const };
    expect(() => exportHold(store, { hold: 'nope', outDir: join(config.stateDir, 'x1'), by: 'ivan', deviceId: 'pole-test' })).toThrow(/no active hold/);
    expect(() => exportHold(store, { hold: 'h2', outDir: join(config.stateDir, 'x2'), by: 'ivan', deviceId: 'pole-test', share: pending })).toThrow(/not approved/);
    expect(existsSync(join(config.stateDir, 'x2'))).toBe(false);
    const refused = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action === 'export');
    expect(refused.map((e) => [e.result, e.parameters['field']])).toEqual([['refused', 'hold'], ['refused', 'share']]);
    expect(refused[1]!.parameters).toMatchObject({ hold: 'h2', shareRequest: pending.id });
    expect(verifyAccessLog(db).ok).toBe(true);
  });

  it('a corrupt record is skipped and counted, never thrown', async () => {
    const { store, db } = openStoreForTest(testConfig());
    const good = makeRead('8COR001', now - 2000);
    const bad = makeRead('8COR001', now - 1000);
    await store.putMany([good, bad]);
    const rec = db.reads.get(bad.id)!;
    await db.reads.put(bad.id, { ...rec, sealed: Buffer.from('garbage-garbage-garbage-garbage-garbage') });
    const page = store.search({ plate: '8COR001', limit: 10 });
    expect(page.reads.map((r) => r.id)).toEqual([good.id]);
    expect(page.skippedCorrupt).toBe(1);
    expect(store.get(bad.id)).toBeUndefined();
    await rawReads(db).put('0000000000BADBADBADBADBADB', 'not a record');
    expect(store.search({ limit: 10 }).reads.map((r) => r.id)).toEqual([good.id]);
  });

  it('a damaged read record is a counted error naming the sub-database and key: searches skip it and go on, and the retention purge still removes it (P3)', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const config = testConfig();
    const { store, db } = openStoreForTest(config, logger);
    const [older, damaged, newer] = [3000, 2000, 1000].map((ago) => makeRead('8DMG001', now - ago, { cameraId: 'north' }));
    await store.putMany([older!, damaged!, newer!]);
    // Damaged in its clear part (as a torn write or a hand edit would leave it), its seal intact.
    await rawReads(db).put(damaged!.id, { ...db.reads.get(damaged!.id)!, capturedAtMs: 'yesterday' });

    const exact = store.search({ plate: '8DMG001', limit: 10 });
    expect(exact.reads.map((r) => r.id)).toEqual([newer!.id, older!.id]);
    expect(exact.skippedCorrupt).toBe(1);
    const byCamera = store.search({ cameraId: 'north', limit: 10 });
    expect(byCamera.reads.map((r) => r.id)).toEqual([newer!.id, older!.id]);
    expect(byCamera.skippedCorrupt).toBe(1);
    expect(store.get(damaged!.id)).toBeUndefined();
    expect(store.image(damaged!.id, 'plate')).toBeUndefined();
    expect(store.corruptSkipped).toBe(4);
    const warned = lines.map((l) => JSON.parse(l) as { msg: string; readId: string; err: string });
    expect(warned.at(-1)).toMatchObject({ msg: 'corrupt read record skipped', readId: damaged!.id });
    expect(warned.at(-1)!.err).toContain(`reads record ${damaged!.id} is damaged (/capturedAtMs`);

    const purged = await store.purgeExpired(now + 10_000 + config.store.retentionDays * DAY_MS);
    expect(purged.purged).toBe(3);
    expect(rawReads(db).get(damaged!.id)).toBeUndefined();
    expect(store.readIdsWithImages().has(damaged!.id)).toBe(false);
  });

  it('P5: forward-then-purge deletes acknowledged reads only when enabled, and never held ones', async () => {
    const off = openStoreForTest(testConfig());
    const r0 = makeRead('9FWD000', now - 1000);
    await off.store.put(r0);
    off.store.acknowledge(r0.id);
    off.store.flushAcknowledged();
    expect(off.store.get(r0.id)).toBeDefined();
    await off.db.root.close();

    const { store, db } = openStoreForTest(testConfig({ forwardThenPurge: true }));
    const sent = makeRead('9FWD001', now - 2000);
    const held = makeRead('9FWD002', now - 1000);
    await store.putMany([sent, held]);
    createHold(store, { name: 'h', caseNumber: '1', reason: 'evidence', readIds: [held.id] }, 'ivan', now);
    store.acknowledge(sent.id);
    store.acknowledge(held.id);
    expect(store.flushAcknowledged()).toMatchObject({ reason: 'forwarded', purged: 1, keptHeld: 1 });
    expect(db.reads.get(sent.id)).toBeUndefined();
    expect(db.reads.get(held.id)).toBeDefined();
  });

  it('reopens an existing store with its reads (restart)', async () => {
    const config = testConfig();
    const a = openStoreForTest(config);
    const read = makeRead('1REOPEN', now - 1000);
    await a.store.put(read);
    await a.db.root.close();
    const b = openStateDatabaseFor(config);
    onTestFinished(() => b.root.close());
    const store = new ReadStore(b, DeviceKeys.open(join(config.stateDir, 'keys')), config.store, silent, storePath(config));
    expect(store.get(read.id)?.plate).toBe('1REOPEN');
    expect(existsSync(join(config.stateDir, 'keys', 'signing-ed25519.pem'))).toBe(true);
  });
});
