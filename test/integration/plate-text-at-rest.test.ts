import { describe, expect, it, onTestFinished } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SharingRegistry } from '../../src/access/sharing.js';
import { UserDirectory } from '../../src/access/users.js';
import { buildHttpApp } from '../../src/http/app.js';
import { queryApi } from '../../src/http/api/query-api.js';
import { createMetrics } from '../../src/http/metrics.js';
import { storePath } from '../../src/store/database.js';
import { createHold, getHold, listHolds, releaseHold, sealHoldQueries } from '../../src/store/evidence-holds.js';
import { makeRead, openTestStore, silent, testConfig } from '../support/store-fixtures.js';

// Issue 20 §2 (P16): nothing readable on disk. Plate text people hold evidence over is sealed with
// the device key as reads are in the store; the raw bytes of the files are searched for synthetic
// plates that only those records hold.
const PW = 'correct horse battery';

describe('evidence-hold queries at rest', () => {
  it('P16: a hold\'s query plate is sealed in the holds table (not in the LMDB file); listing holds shows it to an authorised user', async () => {
    const config = testConfig({}, { access: { loginRateLimitPerMinute: 1000 } });
    const { db, store, keys } = openTestStore(config);
    const users = new UserDirectory(db, config.access);
    const app = buildHttpApp({ logger: silent, metrics: createMetrics(), health: () => ({ status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }) });
    await app.register(queryApi, { store, users, sharing: new SharingRegistry(db, config.sharing), access: config.access });
    await app.ready();
    onTestFinished(async () => {
      await app.close();
      await db.root.close();
    });
    await users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    await users.add({ username: 'tom', role: 'technician', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    const token = async (username: string) => (await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username, password: PW } })).json().token as string;
    const ivan = await token('ivan');
    await store.put(makeRead('6QHLD01', Date.now() - 60_000));

    // Held by a query over the API and from the shell's code path; the second plate matches no read,
    // so if it is in the file, the hold put it there.
    const byApi = await app.inject({ method: 'POST', url: '/api/v1/holds', headers: { authorization: `Bearer ${ivan}` }, payload: { name: 'case-q1', caseNumber: '25-0401', reason: 'hit and run vehicle', query: { plate: '6QHLD01' } } });
    expect(byApi.statusCode, byApi.body).toBe(201);
    expect(byApi.json()).toMatchObject({ query: { plate: '6QHLD01' }, readCount: 1 });
    createHold(store, { name: 'case-q2', caseNumber: '25-0402', reason: 'witness vehicle', query: { plate: '6QHLD9*', match: 'partial' } }, 'ivan');

    const raw = readFileSync(join(storePath(config), 'data.mdb'));
    // The holds are in the file (their reasons are), their query plates are not.
    expect(raw.includes('hit and run vehicle')).toBe(true);
    expect(raw.includes('witness vehicle')).toBe(true);
    for (const needle of ['6QHLD01', '6QHLD9']) expect(raw.includes(needle), needle).toBe(false);
    expect(db.holds.get('case-q2')).toMatchObject({ query: { plate: { $sealed: expect.any(String), kid: keys.currentKeyId }, match: 'partial' } });

    // An investigator listing holds reads the plates; a technician gets no list at all (P8).
    const listed = await app.inject({ method: 'GET', url: '/api/v1/holds', headers: { authorization: `Bearer ${ivan}` } });
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as Array<{ name: string; query?: { plate?: string } }>).map((h) => [h.name, h.query?.plate])).toEqual([['case-q1', '6QHLD01'], ['case-q2', '6QHLD9*']]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/holds', headers: { authorization: `Bearer ${await token('tom')}` } })).statusCode).toBe(403);
    expect(getHold(store, 'case-q2')?.query).toEqual({ plate: '6QHLD9*', match: 'partial' });
    expect(releaseHold(store, 'case-q2', 'ivan', 'case closed')).toMatchObject({ releasedBy: 'ivan', query: { plate: '6QHLD9*' } });
    expect(db.holds.get('case-q2')).toMatchObject({ releasedBy: 'ivan', query: { plate: { $sealed: expect.any(String) } } });

    // A sealed plate copied onto another hold does not open there: shown as unreadable, not wrong.
    const q1 = db.holds.get('case-q1') as { query: { plate: unknown } };
    await db.holds.put('case-q3', { ...(db.holds.get('case-q2') as object), name: 'case-q3', query: { plate: q1.query.plate } });
    expect(getHold(store, 'case-q3')?.query).toEqual({ plateUnreadable: expect.stringContaining('fails authentication') });

    // A hold placed before sealing is still listed, and sealed at the next daemon start.
    await db.holds.put('case-old', { name: 'case-old', caseNumber: '24-0001', reason: 'from before', createdBy: 'ivan', createdAt: new Date().toISOString(), query: { plate: '6QHLDOLD' }, readCount: 0 });
    expect(getHold(store, 'case-old')?.query).toEqual({ plate: '6QHLDOLD' });
    expect(sealHoldQueries(store)).toBe(1);
    expect(sealHoldQueries(store)).toBe(0);
    expect(db.holds.get('case-old')).toMatchObject({ query: { plate: { $sealed: expect.any(String) } } });
    expect(listHolds(store).find((h) => h.name === 'case-old')?.query).toEqual({ plate: '6QHLDOLD' });
  });
});
