import { describe, expect, it, onTestFinished } from 'vitest';
import { appendAccessLog, canonicalJson, sampleInquiries, verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { SharingRegistry } from '../../src/access/sharing.js';
import { maySeeReads, UserDirectory, UserError } from '../../src/access/users.js';
import { openTestStore, testConfig } from '../support/store-fixtures.js';

const PASSWORD = 'correct horse battery';

function setup() {
  const config = testConfig({}, { access: { maxFailedLogins: 3, lockoutMinutes: 15 } });
  const { db } = openTestStore(config);
  // Closed however the test ends (setup runs inside each test).
  onTestFinished(() => db.root.close());
  return { config, db, users: new UserDirectory(db, config.access), sharing: new SharingRegistry(db, config.sharing) };
}

function entries(db: ReturnType<typeof setup>['db']): AccessLogEntry[] {
  return [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry);
}

describe('users and credentials (P6, P8)', () => {
  it('P6: stores an Argon2id hash, never the password, and refuses a second account of the same name', async () => {
    const { users, db } = setup();
    const u = await users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-01-01', password: PASSWORD }, 'cli:root');
    expect(u).not.toHaveProperty('passwordHash');
    expect(users.get('ivan')!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(users.add({ username: 'ivan', role: 'technician', trainingValidUntil: '2099-01-01', password: PASSWORD }, 'x')).rejects.toThrow(/already exists/);
    expect(entries(db).map((e) => e.action)).toEqual(['user.add']);
  });

  it('refuses a weak password and a bad training date, naming the field', async () => {
    const { users, db } = setup();
    const err = await users.add({ username: 'ann', role: 'investigator', trainingValidUntil: '2099-01-01', password: 'short' }, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('password');
    await expect(users.add({ username: 'ann', role: 'investigator', trainingValidUntil: 'soon', password: PASSWORD }, 'x')).rejects.toMatchObject({ field: 'trainingValidUntil' });
  });

  it('P6: logs every login, ok or failed, and locks an account after repeated failures', async () => {
    const { users, db } = setup();
    await users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-01-01', password: PASSWORD }, 'cli:root');
    expect((await users.login('ivan', PASSWORD, '127.0.0.1')).ok).toBe(true);
    for (let i = 0; i < 3; i++) expect(await users.login('ivan', 'wrong password!', '127.0.0.1')).toEqual({ ok: false, why: 'bad-password' });
    // Locked: even the right password fails until the lockout ends.
    expect(await users.login('ivan', PASSWORD, '127.0.0.1')).toEqual({ ok: false, why: 'locked' });
    expect((await users.login('ivan', PASSWORD, '127.0.0.1', Date.now() + 16 * 60_000)).ok).toBe(true);
    expect(await users.login('nobody', PASSWORD, '127.0.0.1')).toEqual({ ok: false, why: 'unknown-user' });
    const logins = entries(db).filter((e) => e.action === 'login');
    expect(logins.map((e) => e.result)).toEqual(['ok', 'failed', 'failed', 'failed', 'failed', 'ok', 'failed']);
    expect(JSON.stringify(logins)).not.toContain(PASSWORD);
  });

  it('P8: technicians never see reads; expired training blocks investigators', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    expect(maySeeReads({ role: 'technician', trainingValidUntil: '2099-01-01', disabled: false }, now)).toBe(false);
    expect(maySeeReads({ role: 'investigator', trainingValidUntil: '2026-06-01', disabled: false }, now)).toBe(true);
    expect(maySeeReads({ role: 'investigator', trainingValidUntil: '2026-05-31', disabled: false }, now)).toBe(false);
    expect(maySeeReads({ role: 'administrator', trainingValidUntil: '2099-01-01', disabled: true }, now)).toBe(false);
  });
});

describe('access log hash chain (P6, P9)', () => {
  function logWith(n: number) {
    const s = setup();
    for (let i = 0; i < n; i++) appendAccessLog(s.db, { user: 'ivan', action: 'search', parameters: { reason: `r${i}`, caseNumber: `c${i}` }, result: 'ok', time: new Date(Date.UTC(2026, 0, 1 + i)).toISOString() });
    return s;
  }

  it('verifies an intact chain', async () => {
    const { db } = logWith(10);
    expect(verifyAccessLog(db)).toMatchObject({ ok: true, entries: 10, head: { seq: 10 } });
  });

  it('P6: detects an edited entry', async () => {
    const { db } = logWith(10);
    const e = db.accessLog.get(4) as AccessLogEntry;
    await db.accessLog.put(4, { ...e, parameters: { ...e.parameters, reason: 'innocent' } });
    expect(verifyAccessLog(db)).toMatchObject({ ok: false, firstBadSeq: 4, problem: 'entry 4 was altered (hash mismatch)' });
  });

  it('P6: detects an edited entry whose hash was recomputed (the next link breaks)', async () => {
    const { db } = logWith(10);
    const { entryHash } = await import('../../src/access/access-log.js');
    const e = db.accessLog.get(4) as AccessLogEntry;
    const forged = { ...e, user: 'someone-else' };
    await db.accessLog.put(4, { ...forged, hash: entryHash(forged) });
    expect(verifyAccessLog(db)).toMatchObject({ ok: false, firstBadSeq: 5 });
  });

  it('P6: detects a deleted entry, a swapped pair and a cut-off tail', async () => {
    const a = logWith(10);
    await a.db.accessLog.remove(6);
    expect(verifyAccessLog(a.db)).toMatchObject({ ok: false, firstBadSeq: 6 });

    const b = logWith(10);
    const e3 = b.db.accessLog.get(3) as AccessLogEntry;
    const e4 = b.db.accessLog.get(4) as AccessLogEntry;
    await b.db.accessLog.put(3, { ...e4, seq: 3 });
    await b.db.accessLog.put(4, { ...e3, seq: 4 });
    expect(verifyAccessLog(b.db)).toMatchObject({ ok: false, firstBadSeq: 3 });

    const c = logWith(10);
    await c.db.accessLog.remove(10);
    expect(verifyAccessLog(c.db)).toMatchObject({ ok: false, firstBadSeq: 10 });
  });

  it('P9: draws the same random sample of inquiries for the same seed, only from the period', async () => {
    const { db } = logWith(60);
    appendAccessLog(db, { user: 'adm', action: 'user.add', parameters: {}, result: 'ok', time: '2026-01-05T00:00:00.000Z' });
    const opts = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-02-01T00:00:00Z'), n: 10 };
    const a = sampleInquiries(db, { ...opts, seed: 'audit-2026-q1' });
    const b = sampleInquiries(db, { ...opts, seed: 'audit-2026-q1' });
    const c = sampleInquiries(db, { ...opts, seed: 'another seed' });
    expect(a.population).toBe(31);
    expect(a.entries).toHaveLength(10);
    expect(a.entries.map((e) => e.seq)).toEqual(b.entries.map((e) => e.seq));
    expect(a.entries.map((e) => e.seq)).not.toEqual(c.entries.map((e) => e.seq));
    expect(a.entries.every((e) => e.action === 'search' && e.seq <= 31)).toBe(true);
    expect(a.chain.ok).toBe(true);
  });

  it('hashes do not depend on property order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
  });
});

describe('sharing requests (P14)', () => {
  it('P14: refuses immigration-enforcement purposes and out-of-state agencies, keeps and logs the refusal', async () => {
    const { sharing, db } = setup();
    const ice = sharing.request({ agency: 'Some Task Force', agencyState: 'CA', requester: 'Agent X', purpose: 'locate subject for removal proceedings (immigration)' }, 'ivan');
    expect(ice).toMatchObject({ status: 'refused', refusal: expect.stringMatching(/Values Act/) });
    const nv = sharing.request({ agency: 'Reno PD', agencyState: 'NV', requester: 'Det. Y', purpose: 'armed robbery 24-77' }, 'ivan');
    expect(nv).toMatchObject({ status: 'refused', refusal: expect.stringMatching(/outside CA/) });
    const ok = sharing.request({ agency: 'Oakland PD', agencyState: 'ca', requester: 'Det. Z', purpose: 'homicide 24-1001' }, 'ivan');
    expect(ok.status).toBe('pending');
    expect(() => sharing.approve(ok.id, { username: 'ivan', role: 'investigator' })).toThrow(/only an administrator/);
    expect(sharing.approve(ok.id, { username: 'ada', role: 'administrator' })).toMatchObject({ status: 'approved', approvedBy: 'ada' });
    expect(() => sharing.approve(ice.id, { username: 'ada', role: 'administrator' })).toThrow(/refused, not pending/);
    expect(entries(db).map((e) => `${e.action}:${e.result}`)).toEqual(['share.refuse:refused', 'share.refuse:refused', 'share.request:ok', 'share.approve:ok']);
    expect(sharing.list()).toHaveLength(3);
  });

  it('P14: with inStateOnly off, an out-of-state agency may ask (immigration still refused)', async () => {
    const config = testConfig({}, { sharing: { inStateOnly: false } });
    const { db } = openTestStore(config);
    onTestFinished(() => db.root.close());
    const sharing = new SharingRegistry(db, config.sharing);
    expect(sharing.request({ agency: 'Reno PD', agencyState: 'NV', requester: 'Det. Y', purpose: 'robbery' }, 'ivan').status).toBe('pending');
    expect(sharing.request({ agency: 'ICE ERO', agencyState: 'CA', requester: 'Z', purpose: 'fugitive' }, 'ivan').status).toBe('refused');
  });
});
