import { describe, expect, it, onTestFinished } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendAccessLog, entryHash, verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { AnchorSchedule, checkAnchors, signAnchor, type ChainAnchor } from '../../src/access/anchors.js';
import type { StateDatabase } from '../../src/state/database.js';
import { DeviceKeys } from '../../src/state/device-keys.js';
import { openTestStore, testConfig } from '../support/store-fixtures.js';

// Issue 20 §1 (P6): whoever can write the LMDB file can rewrite the access log consistently (edit an
// entry and recompute every hash after it, or cut the end and rewrite the head); the local chain
// then verifies. Signed heads kept off the device expose it. Real LMDB in a temp dir, real keys.
const DEVICE = 'anchor-pole';

function openLog() {
  const { db, keys } = openTestStore(testConfig());
  onTestFinished(() => db.root.close());
  return { db, keys };
}

function log(db: StateDatabase, n: number, tag = 'r'): void {
  for (let i = 0; i < n; i++) appendAccessLog(db, { user: 'ivan', action: 'search', parameters: { reason: `${tag}${i}`, caseNumber: `c${i}` }, result: 'ok' });
}

/** What an attacker with write access does: change entries from `seq` on and recompute every hash and the head. */
async function rewriteFrom(db: StateDatabase, seq: number, change: (e: AccessLogEntry) => AccessLogEntry): Promise<void> {
  const before = seq > 1 ? (db.accessLog.get(seq - 1) as AccessLogEntry) : undefined;
  let prevHash = before?.hash ?? '0'.repeat(64);
  let last: AccessLogEntry | undefined = before;
  for (const { value } of [...db.accessLog.getRange({ start: seq })]) {
    const entry = value as AccessLogEntry;
    const e = { ...(entry.seq === seq ? change(entry) : entry), prevHash };
    last = { ...e, hash: entryHash(e) };
    await db.accessLog.put(last.seq, last);
    prevHash = last.hash;
  }
  await db.meta.put('access-log.head', { seq: last?.seq ?? 0, hash: last?.hash ?? '0'.repeat(64) });
}

/** Cuts the log after `seq` and points the head at that entry. */
async function cutAfter(db: StateDatabase, seq: number): Promise<void> {
  for (const key of [...db.accessLog.getKeys({ start: seq + 1 })]) await db.accessLog.remove(key);
  const e = db.accessLog.get(seq) as AccessLogEntry;
  await db.meta.put('access-log.head', { seq: e.seq, hash: e.hash });
}

describe('access-log anchors', () => {
  it('P6: verify --anchors names the first anchored entry that disagrees when an entry was edited and every hash after it recomputed', async () => {
    const { db, keys } = openLog();
    log(db, 5);
    const a1 = signAnchor(db, DEVICE, keys);
    log(db, 5, 's');
    const a2 = signAnchor(db, DEVICE, keys);
    expect(checkAnchors(db, [a1, a2], DEVICE, keys.signingPublicKeyPem)).toMatchObject({ ok: true, anchors: 2, lastMatchingSeq: 10, problems: [] });

    await rewriteFrom(db, 7, (e) => ({ ...e, parameters: { ...e.parameters, reason: 'innocent' } }));
    // The chain on the device is consistent again: a local-only verify cannot tell.
    expect(verifyAccessLog(db)).toMatchObject({ ok: true, entries: 10 });
    const r = checkAnchors(db, [a1, a2], DEVICE, keys.signingPublicKeyPem);
    expect(r).toMatchObject({ ok: false, lastMatchingSeq: 5, firstDisagreement: { seq: 10, afterSeq: 5, anchoredHash: a2.hash } });
    expect(r.problems[0]).toContain('changed after entry 5');
  });

  it('P6: verify --anchors finds a missing tail when the end was cut and the head rewritten, and a fork when the rewritten log was anchored again', async () => {
    const { db, keys } = openLog();
    log(db, 10);
    const a10 = signAnchor(db, DEVICE, keys, Date.now() - 60_000);
    await cutAfter(db, 8);
    expect(verifyAccessLog(db)).toMatchObject({ ok: true, entries: 8 });
    expect(checkAnchors(db, [a10], DEVICE, keys.signingPublicKeyPem)).toMatchObject({ ok: false, missingTail: { anchoredSeq: 10, localHeadSeq: 8 } });

    // The log grows again to the same length with other entries; the daemon signs that head.
    log(db, 2, 'other');
    const again = signAnchor(db, DEVICE, keys);
    expect(verifyAccessLog(db)).toMatchObject({ ok: true, entries: 10 });
    const r = checkAnchors(db, [a10, again], DEVICE, keys.signingPublicKeyPem);
    expect(r).toMatchObject({ ok: false, fork: { seq: 10, hashes: [a10.hash, again.hash] }, firstDisagreement: { seq: 10 } });
    // A head signed while the end was cut (seq 8, after seq 10 was anchored) is a fork too.
    await cutAfter(db, 8);
    const back = signAnchor(db, DEVICE, keys);
    expect(checkAnchors(db, [a10, back], DEVICE, keys.signingPublicKeyPem).fork).toMatchObject({ seq: 8 });
  });

  it('P6: anchors not signed by the device key are left out and reported', () => {
    const { db, keys } = openLog();
    log(db, 3);
    const good = signAnchor(db, DEVICE, keys);
    const other = DeviceKeys.open(join(mkdtempSync(join(tmpdir(), 'other-keys-')), 'keys'));
    const forged: ChainAnchor = { ...signAnchor(db, DEVICE, other), keyFingerprint: good.keyFingerprint };
    const r = checkAnchors(db, [good, forged, { ...good, deviceId: 'another-pole' }], DEVICE, keys.signingPublicKeyPem);
    expect(r).toMatchObject({ ok: false, anchors: 1, badSignatures: 1, otherDevices: 1 });
    expect(checkAnchors(db, [], DEVICE, keys.signingPublicKeyPem)).toMatchObject({ ok: false, problems: [expect.stringContaining('nothing to check against')] });
  });

  it('P6: a head is published at start, after an export, hold, user change or audit, and every anchorIntervalMinutes otherwise', () => {
    const { db, keys } = openLog();
    log(db, 2);
    const published: ChainAnchor[] = [];
    const schedule = new AnchorSchedule({ db, signer: keys, deviceId: DEVICE, intervalMs: 15 * 60_000, publish: (a) => published.push(a) });
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    expect(schedule.tick(t0)?.seq).toBe(2);
    log(db, 3); // searches alone wait for the interval
    expect(schedule.tick(t0 + 60_000)).toBeUndefined();
    for (const action of ['hold.create', 'export', 'user.add', 'audit.sample'] as const) {
      appendAccessLog(db, { user: 'ada', action, parameters: {}, result: 'ok' });
      expect(schedule.tick(t0 + 120_000)?.seq, action).toBe(db.accessLog.getKeysCount());
    }
    expect(schedule.tick(t0 + 120_000 + 14 * 60_000)).toBeUndefined();
    expect(schedule.tick(t0 + 120_000 + 15 * 60_000)?.seq).toBe(9);
    expect(published.map((a) => a.seq)).toEqual([2, 6, 7, 8, 9, 9]);
    expect(checkAnchors(db, published, DEVICE, keys.signingPublicKeyPem)).toMatchObject({ ok: true, anchors: 6 });
  });
});
