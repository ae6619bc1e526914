import { createPublicKey, verify } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/access/access-log.js';
import { ANCHOR_SCHEMA, signAnchor } from '../../src/access/anchors.js';
import { createHold } from '../../src/store/evidence-holds.js';
import { verifyExport } from '../../src/store/export-bundle.js';
import { keyFingerprint } from '../../src/state/device-keys.js';
import { PASSWORD, startConsoleApp, USERS, type ConsoleApp } from '../support/console-app.js';

// Administration over the API (src/http/api/admin-routes.ts), as the console's Administration page
// and scripts with a bearer token use it: administrators only, every action in the access log.

describe('administration API', () => {
  let c: ConsoleApp;
  const token: Record<string, string> = {};
  const as = (who: string) => ({ authorization: `Bearer ${token[who]}` });

  beforeAll(async () => {
    c = await startConsoleApp();
    for (const u of Object.values(USERS)) {
      const res = await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: u, password: PASSWORD } });
      token[u] = res.json().token as string;
    }
  });
  afterAll(async () => {
    await c.close();
  });

  it('refuses technicians and investigators, and logs each refusal', async () => {
    for (const who of [USERS.technician, USERS.investigator]) {
      for (const [method, url] of [['GET', '/api/v1/users'], ['GET', '/api/v1/shares'], ['GET', '/api/v1/audit/verify'], ['POST', '/api/v1/audit/sample']] as const) {
        const res = await c.app.inject({ method, url, headers: as(who), ...(method === 'POST' ? { payload: { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', n: 5, seed: 's' } } : {}) });
        expect(res.statusCode, `${who} ${url}`).toBe(403);
        expect(c.accessLog().at(-1)).toMatchObject({ user: who, action: 'api.denied', result: 'denied' });
      }
    }
  });

  it('lists users without password hashes, adds one, refuses a short password naming the field', async () => {
    const list = await c.app.inject({ method: 'GET', url: '/api/v1/users', headers: as('ada') });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toMatch(/passwordHash|argon2/);
    expect(list.json().map((u: { username: string }) => u.username).sort()).toEqual(['ada', 'ivan', 'tina']);
    const short = await c.app.inject({ method: 'POST', url: '/api/v1/users', headers: as('ada'), payload: { username: 'tom', role: 'technician', password: 'short' } });
    expect(short.statusCode).toBe(422);
    expect(short.json().field).toBe('password');
    const added = await c.app.inject({ method: 'POST', url: '/api/v1/users', headers: as('ada'), payload: { username: 'tom', role: 'technician', trainingValidUntil: null, password: PASSWORD } });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ username: 'tom', role: 'technician', disabled: false, createdBy: 'ada', lockedUntil: null });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'user.add', parameters: { username: 'tom' } });
  });

  it('disabling a user ends their session at once; a new password lets them in again only if enabled', async () => {
    const session = await c.app.inject({ method: 'POST', url: '/api/v1/session', headers: { host: '127.0.0.1:8080' }, payload: { username: 'tom', password: PASSWORD } });
    const cookie = String(session.headers['set-cookie']).split(';')[0]!;
    const reset = await c.app.inject({ method: 'POST', url: '/api/v1/users/tom/password', headers: as('ada'), payload: { password: 'another long password' } });
    expect(reset.statusCode).toBe(200);
    // P6: a changed password ends the sessions opened with the old one.
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(401);
    const disabled = await c.app.inject({ method: 'POST', url: '/api/v1/users/tom/disable', headers: as('ada') });
    expect(disabled.json()).toMatchObject({ username: 'tom', disabled: true });
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'tom', password: 'another long password' } })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/users/nobody/disable', headers: as('ada') })).statusCode).toBe(422);
  });

  it('an administrator enables a disabled user: they sign in again with their password, old sessions stay ended; logged; others refused', async () => {
    // tom was disabled by the test before; his session from before the disable must not come back.
    const before = await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: PASSWORD } });
    expect(before.statusCode).toBe(200);
    await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/disable', headers: as('ada') });
    const oldToken = { authorization: `Bearer ${before.json().token as string}` };
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/holds', headers: oldToken })).statusCode).toBe(401);
    for (const who of [USERS.technician]) {
      expect((await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/enable', headers: as(who) })).statusCode).toBe(403);
      expect(c.accessLog().at(-1)).toMatchObject({ user: who, action: 'api.denied', result: 'denied' });
    }
    expect(c.users.get('ivan')?.disabled).toBe(true);
    const enabled = await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/enable', headers: as('ada') });
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toMatchObject({ username: 'ivan', disabled: false });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'user.enable', parameters: { username: 'ivan' }, result: 'ok' });
    // The token from before the disable stays dead; a new sign-in works.
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/holds', headers: oldToken })).statusCode).toBe(401);
    const again = await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: PASSWORD } });
    expect(again.statusCode).toBe(200);
    token['ivan'] = again.json().token as string;
    const twice = await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/enable', headers: as('ada') });
    expect(twice.statusCode).toBe(422);
    expect(twice.json()).toMatchObject({ field: 'username' });
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/users/nobody/enable', headers: as('ada') })).statusCode).toBe(422);
  });

  it('an administrator lifts a lockout: the user signs in again with their own password; logged; others refused', async () => {
    for (let i = 0; i < 20 && !c.users.list().find((u) => u.username === 'ivan')?.lockedUntilMs; i++) {
      expect((await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: 'not the password' } })).statusCode).not.toBe(200);
    }
    expect(c.users.list().find((u) => u.username === 'ivan')?.lockedUntilMs).toBeGreaterThan(Date.now());
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: PASSWORD } })).statusCode).not.toBe(200);
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/unlock', headers: as(USERS.technician) })).statusCode).toBe(403);
    const unlocked = await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/unlock', headers: as('ada') });
    expect(unlocked.statusCode).toBe(200);
    expect(unlocked.json()).toMatchObject({ username: 'ivan', disabled: false, lockedUntil: null });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'user.unlock', parameters: { username: 'ivan' }, result: 'ok' });
    const again = await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: PASSWORD } });
    expect(again.statusCode).toBe(200);
    token['ivan'] = again.json().token as string;
    const twice = await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/unlock', headers: as('ada') });
    expect(twice.statusCode).toBe(422);
    expect(twice.json()).toMatchObject({ field: 'username' });
  });

  it('changes a training date (logged), refuses none for an investigator and refuses the change to others', async () => {
    const set = await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/training', headers: as('ada'), payload: { trainingValidUntil: '2098-06-30' } });
    expect(set.json()).toMatchObject({ username: 'ivan', trainingValidUntil: '2098-06-30' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'user.training', result: 'ok' });
    const none = await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/training', headers: as('ada'), payload: { trainingValidUntil: null } });
    expect(none.statusCode).toBe(422);
    expect(none.json()).toMatchObject({ field: 'trainingValidUntil' });
    const byIvan = await c.app.inject({ method: 'POST', url: '/api/v1/users/ivan/training', headers: as('ivan'), payload: { trainingValidUntil: '2099-12-31' } });
    expect(byIvan.statusCode).toBe(403);
    expect(c.users.get('ivan')?.trainingValidUntil).toBe('2098-06-30');
  });

  it('refuses a pending sharing request with a reason, which stays on file and in the log; not twice, not without a reason', async () => {
    const r = c.sharing.request({ agency: 'Monterey Police Department', agencyState: 'CA', requester: 'Sgt. Ruiz', purpose: 'general interest' }, 'ivan');
    const bare = await c.app.inject({ method: 'POST', url: `/api/v1/shares/${r.id}/refuse`, headers: as('ada'), payload: {} });
    expect(bare.statusCode).toBe(400);
    const byIvan = await c.app.inject({ method: 'POST', url: `/api/v1/shares/${r.id}/refuse`, headers: as('ivan'), payload: { reason: 'no' + ' thanks' } });
    expect(byIvan.statusCode).toBe(403);
    const res = await c.app.inject({ method: 'POST', url: `/api/v1/shares/${r.id}/refuse`, headers: as('ada'), payload: { reason: 'not a criminal investigation' } });
    expect(res.json()).toMatchObject({ status: 'refused', refusal: 'not a criminal investigation', refusedBy: 'ada' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'share.refuse', result: 'ok' });
    const again = await c.app.inject({ method: 'POST', url: `/api/v1/shares/${r.id}/approve`, headers: as('ada') });
    expect(again.statusCode).toBe(422);
  });

  it('local hot-list entries: an administrator adds one (entered and approved under their name, logged) and lists them; others refused; a bad plate refused and logged', async () => {
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local', headers: as('ada') })).json()).toEqual([]);
    const entry = { plate: 'ab12*', state: 'ca', caseNumber: '24-310', synopsis: 'stolen trailer' };
    for (const who of [USERS.technician, USERS.investigator]) {
      expect((await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local', headers: as(who), payload: entry })).statusCode).toBe(403);
      expect((await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local', headers: as(who) })).statusCode).toBe(403);
    }
    const added = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local', headers: as('ada'), payload: entry });
    expect(added.statusCode).toBe(201);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'hotlist.change', result: 'ok', parameters: expect.objectContaining({ change: 'local-added', approvedBy: 'ada', via: 'api' }) });
    const list = await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local', headers: as('ada') });
    expect(list.headers['cache-control']).toBe('no-store');
    expect(list.json()).toEqual([expect.objectContaining({ plate: 'AB12*', state: 'CA', caseNumber: '24-310', synopsis: 'stolen trailer', enteredBy: 'ada', approvedBy: 'ada', partial: true, expired: false })]);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'hotlist.view', result: 'ok' });
    const bad = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local', headers: as('ada'), payload: { ...entry, plate: '***' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ field: 'plate' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'hotlist.change', result: 'refused' });
  });

  it('local hot-list entries: an administrator removes one by plate and case number (logged, the list version moves on); an unknown one refused and logged; others refused', async () => {
    const entry = { plate: 'zz9q*', caseNumber: '24-777', synopsis: 'fixture entry to remove' };
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local', headers: as('ada'), payload: entry })).statusCode).toBe(201);
    const listed = (await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local', headers: as('ada') })).json() as { plate: string }[];
    expect(listed.map((e) => e.plate)).toContain('ZZ9Q*');
    for (const who of [USERS.technician, USERS.investigator]) {
      expect((await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/remove', headers: as(who), payload: { plate: 'ZZ9Q*', caseNumber: '24-777' } })).statusCode).toBe(403);
      expect(c.accessLog().at(-1)).toMatchObject({ user: who, action: 'api.denied' });
    }
    const wrongCase = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/remove', headers: as('ada'), payload: { plate: 'ZZ9Q*', caseNumber: '24-778' } });
    expect(wrongCase.statusCode).toBe(422);
    expect(wrongCase.json()).toMatchObject({ field: 'plate' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'hotlist.change', result: 'refused', parameters: expect.objectContaining({ change: 'local-remove-refused' }) });
    const removed = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/remove', headers: as('ada'), payload: { plate: 'ZZ9Q*', caseNumber: '24-777' } });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toMatchObject({ removed: 1 });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'hotlist.change', result: 'ok', parameters: expect.objectContaining({ change: 'local-removed', removed: 1, via: 'api' }) });
    const after = (await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local', headers: as('ada') })).json() as { plate: string }[];
    expect(after.map((e) => e.plate)).not.toContain('ZZ9Q*');
    expect(after.length).toBe(listed.length - 1);
  });

  it('verifies the access log against anchors the central side kept (audit verify --anchors): intact, a disagreeing head, a bad file; others refused', async () => {
    const send = (who: string, body: string) => c.app.inject({ method: 'POST', url: '/api/v1/audit/verify-anchors', headers: { ...as(who), 'content-type': 'text/plain' }, payload: body });
    const kept = signAnchor(c.db, c.config.deviceId, c.keys);
    const intact = await send('ada', JSON.stringify(kept) + '\n');
    expect(intact.statusCode).toBe(200);
    expect(intact.json()).toMatchObject({ ok: true, anchors: { ok: true, anchors: 1, lastMatchingSeq: kept.seq } });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'audit.verify', result: 'ok', parameters: expect.objectContaining({ ok: true, anchors: 1, anchorProblems: 0, via: 'api' }) });
    // A head the device signed for an entry that now has another hash: the log was rewritten after it left.
    const unsigned = { schema: ANCHOR_SCHEMA, deviceId: c.config.deviceId, seq: kept.seq, hash: 'f'.repeat(64), at: new Date().toISOString(), keyFingerprint: kept.keyFingerprint };
    const rewritten = { ...unsigned, signature: c.keys.signDetached(Buffer.from(canonicalJson(unsigned))).toString('base64') };
    const bad = await send('ada', [kept, rewritten].map((a) => JSON.stringify(a)).join('\n'));
    expect(bad.statusCode).toBe(200);
    expect(bad.json()).toMatchObject({ ok: false, anchors: { ok: false, firstDisagreement: { seq: kept.seq } } });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'audit.verify', parameters: expect.objectContaining({ ok: false, firstBadSeq: kept.seq }) });
    // A year of heads is more than the API's 1 MiB default body: this route takes up to 32 MiB.
    const year = Array.from({ length: 6000 }, () => JSON.stringify(kept)).join('\n');
    expect(Buffer.byteLength(year)).toBeGreaterThan(1_048_576);
    const big = await send('ada', year);
    expect(big.statusCode).toBe(200);
    expect(big.json()).toMatchObject({ ok: true, anchors: { anchors: 6000 } });
    const notJson = await send('ada', 'this is not an anchors file');
    expect(notJson.statusCode).toBe(422);
    expect(notJson.json()).toMatchObject({ field: 'anchors' });
    expect(notJson.json().error).toContain('line 1');
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'audit.verify', result: 'refused' });
    for (const who of [USERS.technician, USERS.investigator]) {
      expect((await send(who, JSON.stringify(kept))).statusCode).toBe(403);
      expect(c.accessLog().at(-1)).toMatchObject({ user: who, action: 'api.denied' });
    }
  });

  it('exports a hold into a new directory under <stateDir>/exports, answering the manifest hash and key fingerprint; refusals answered and logged; others refused', async () => {
    createHold(c.store, { name: 'export-me', caseNumber: '24-512', reason: 'fixture hold', readIds: [c.reads[0]!.id] }, 'ivan');
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/exports', headers: as(USERS.technician), payload: { hold: 'export-me' } })).statusCode).toBe(403);
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/exports', headers: as('ada'), payload: { hold: 'export-me' } });
    expect(res.statusCode).toBe(201);
    const out = res.json() as { dir: string; manifestSha256: string; publicKeyFingerprint: string; files: number };
    expect(out.dir.startsWith(join(c.config.stateDir, 'exports') + '/')).toBe(true);
    expect(out.publicKeyFingerprint).toBe(keyFingerprint(c.keys.signingPublicKeyPem));
    expect(verifyExport(out.dir, out.publicKeyFingerprint)).toMatchObject({ ok: true });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'export', result: 'ok', parameters: expect.objectContaining({ hold: 'export-me', manifestSha256: out.manifestSha256 }) });
    const unknown = await c.app.inject({ method: 'POST', url: '/api/v1/exports', headers: as('ada'), payload: { hold: 'no-such-hold' } });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ field: 'hold' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'export', result: 'refused' });
    const pending = c.sharing.request({ agency: 'Santa Cruz County Sheriff', agencyState: 'CA', requester: 'Det. Lee', purpose: 'robbery investigation 24-78' }, 'ivan');
    const unapproved = await c.app.inject({ method: 'POST', url: '/api/v1/exports', headers: as('ada'), payload: { hold: 'export-me', shareRequest: pending.id } });
    expect(unapproved.statusCode).toBe(422);
    expect(unapproved.json()).toMatchObject({ field: 'share' });
  });

  it('state-changing administration from the console needs the CSRF token', async () => {
    const s = await c.app.inject({ method: 'POST', url: '/api/v1/session', headers: { host: '127.0.0.1:8080' }, payload: { username: 'ada', password: PASSWORD } });
    const cookie = String(s.headers['set-cookie']).split(';')[0]!;
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/users', headers: { cookie }, payload: { username: 'eve', role: 'administrator', trainingValidUntil: '2099-12-31', password: PASSWORD } });
    expect(res.statusCode).toBe(403);
    expect(c.users.get('eve')).toBeUndefined();
    // The new state-changing routes too: enable, local entry removal, the anchors check.
    await c.app.inject({ method: 'POST', url: '/api/v1/users/tom/disable', headers: as('ada') });
    for (const [url, payload, type] of [['/api/v1/users/tom/enable', undefined, undefined], ['/api/v1/hotlist/local/remove', { plate: 'AB12*', caseNumber: '24-310' }, 'application/json'], ['/api/v1/audit/verify-anchors', '[]', 'text/plain']] as const) {
      const forged = await c.app.inject({ method: 'POST', url, headers: { cookie, ...(type ? { 'content-type': type } : {}) }, ...(payload !== undefined ? { payload } : {}) });
      expect(forged.statusCode, url).toBe(403);
      expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'api.denied', result: 'denied' });
    }
    expect(c.users.get('tom')?.disabled).toBe(true);
  });

  it('lists sharing requests; the chain verifies; an audit sample opens plate text and is signed by the device key (P9)', async () => {
    c.sharing.request({ agency: 'Santa Cruz County Sheriff', agencyState: 'CA', requester: 'Det. Lee', purpose: 'robbery investigation 24-77' }, 'ivan');
    const shares = await c.app.inject({ method: 'GET', url: '/api/v1/shares', headers: as('ada') });
    expect(shares.json()).toContainEqual(expect.objectContaining({ agency: 'Santa Cruz County Sheriff', status: 'pending', requestedBy: 'ivan' }));
    await c.app.inject({ method: 'GET', url: '/api/v1/reads?reason=audit+fixture&plate=TNU8404', headers: as('ivan') });
    const chain = await c.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: as('ada') });
    expect(chain.json()).toMatchObject({ ok: true });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'audit.verify', parameters: { ok: true } });
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/audit/sample', headers: as('ada'), payload: { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), n: 50, seed: 'q4' } });
    expect(res.statusCode).toBe(200);
    const { signature, ...body } = res.json() as { signature: string; entries: { action: string; parametersInClear?: { plate?: string } }[]; chain: { ok: boolean }; publicKeyPem: string; drawnBy: string };
    expect(body.drawnBy).toBe('ada');
    expect(body.chain.ok).toBe(true);
    expect(body.entries.find((e) => e.action === 'search')?.parametersInClear?.plate?.toUpperCase()).toBe('TNU8404');
    expect(verify(null, Buffer.from(JSON.stringify(body)), createPublicKey(body.publicKeyPem), Buffer.from(signature, 'base64'))).toBe(true);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'audit.sample', parameters: { seed: 'q4', n: 50 } });
  });
});
