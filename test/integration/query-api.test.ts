import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openParameters, sampleInquiries, verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { SharingRegistry } from '../../src/access/sharing.js';
import { TokenIssuer } from '../../src/access/tokens.js';
import { UserDirectory } from '../../src/access/users.js';
import { buildHttpApp } from '../../src/http/app.js';
import { queryServices } from '../../src/app.js';
import { queryApi } from '../../src/http/api/query-api.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { DAY_MS, makeRead, openTestStore, silent, testConfig } from '../support/store-fixtures.js';

const PW = 'correct horse battery';
const now = Date.now();

async function buildApi(access: Record<string, unknown> = { loginRateLimitPerMinute: 1000 }) {
  const config = testConfig({ retentionDays: 30 }, { access });
  const { db, store } = openTestStore(config);
  const users = new UserDirectory(db, config.access);
  const app = buildHttpApp({ logger: silent, metrics: createMetrics(), health: () => ({ status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }) });
  await app.register(queryApi, { ...queryServices(store), users, sharing: new SharingRegistry(db, config.sharing), access: config.access });
  await app.ready();
  return { app, db, store, users };
}

type Api = Awaited<ReturnType<typeof buildApi>>;

async function login(app: FastifyInstance, username: string, password = PW): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username, password } });
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const logOf = (api: Api) => [...api.db.accessLog.getRange()].map((e) => e.value as AccessLogEntry);

describe('query API through Fastify inject', () => {
  let api: Api;
  let ivan: string;
  let ada: string;
  let tom: string;
  const fresh = makeRead('7ABC123', now - 60_000, { cameraId: 'north' });
  const other = makeRead('8XYZ999', now - 30_000, { cameraId: 'south' });
  const expired = makeRead('7ABC123', now - 31 * DAY_MS, { cameraId: 'north' });

  beforeAll(async () => {
    api = await buildApi();
    await api.store.putMany([expired, fresh, other]);
    await api.users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    await api.users.add({ username: 'ada', role: 'administrator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    await api.users.add({ username: 'tom', role: 'technician', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    await api.users.add({ username: 'old', role: 'investigator', trainingValidUntil: '2020-01-01', password: PW }, 'cli:root');
    [ivan, ada, tom] = [await login(api.app, 'ivan'), await login(api.app, 'ada'), await login(api.app, 'tom')];
  });
  afterAll(async () => {
    await api.app.close();
    await api.db.root.close();
  });

  it('P1: without a token, no route returns a plate, image or location', async () => {
    for (const url of ['/api/v1/reads?reason=test&plate=7ABC123', `/api/v1/reads/${fresh.id}?reason=test`, `/api/v1/reads/${fresh.id}/images/plate?reason=test`, '/api/v1/holds', '/api/v1/openapi.json', '/api/v1/store/status']) {
      const res = await api.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
      expect(res.body).not.toContain('7ABC123');
      expect(res.body).not.toContain('Main St');
    }
    const forged = await api.app.inject({ method: 'GET', url: '/api/v1/reads?reason=test', headers: auth(ivan.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))) });
    expect(forged.statusCode).toBe(401);
    const health = await api.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.body).not.toContain('7ABC123');
  });

  it('P6: unknown user and wrong password get the same 401, in comparable time, and both are logged', async () => {
    const time = async (username: string) => {
      const t0 = process.hrtime.bigint();
      const res = await api.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username, password: 'wrong password!!' } });
      return { res, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
    };
    const unknown = [];
    const wrong = [];
    for (let i = 0; i < 3; i++) {
      unknown.push(await time('nobody'));
      wrong.push(await time('ada'));
    }
    expect(unknown[0]!.res.statusCode).toBe(401);
    expect(unknown[0]!.res.body).toBe(wrong[0]!.res.body);
    // Both paths run one Argon2id verification: an unknown name is not answered faster (no stopwatch
    // target, only "the expensive step ran").
    const median = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[1]!;
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.4);
    const failed = logOf(api).filter((e) => e.action === 'login' && e.result === 'failed');
    expect(failed.map((e) => e.user)).toEqual(expect.arrayContaining(['nobody', 'ada']));
    await api.users.setPassword('ada', PW, 'test'); // reset the failure counter for later tests
    ada = await login(api.app, 'ada'); // a password change ends the tokens issued before
  });

  it('P7: a search without a reason is refused with 400 naming the field, and the refusal is logged', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/reads?plate=7ABC123', headers: auth(ivan) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field: 'reason' });
    expect(res.body).not.toContain('Main St');
    const last = logOf(api).at(-1)!;
    expect(last).toMatchObject({ user: 'ivan', action: 'api.denied', result: 'denied' });
    const img = await api.app.inject({ method: 'GET', url: `/api/v1/reads/${fresh.id}/images/plate`, headers: auth(ivan) });
    expect(img.statusCode).toBe(400);
  });

  it('malformed query parameters answer 400 naming the field', async () => {
    for (const [q, field] of [['limit=abc', 'limit'], ['from=yesterday', 'from'], ['match=fuzzy', 'match'], ['cursor=nope', 'cursor']] as const) {
      const res = await api.app.inject({ method: 'GET', url: `/api/v1/reads?reason=test+case&${q}`, headers: auth(ivan) });
      expect(res.statusCode, q).toBe(400);
      expect(res.json().field ?? res.json().error, q).toContain(field);
    }
  });

  it('malformed bodies answer 400 naming the field (hold read ids, hold case number, login password)', async () => {
    const hold = (payload: Record<string, unknown>) => api.app.inject({ method: 'POST', url: '/api/v1/holds', headers: auth(ivan), payload });
    const badId = await hold({ name: 'case-x', caseNumber: '1', reason: 'evidence', readIds: ['not-an-id'] });
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({ field: 'readIds' });
    const noCase = await hold({ name: 'case-x', reason: 'evidence', readIds: [fresh.id] });
    expect(noCase.statusCode).toBe(400);
    expect(noCase.json()).toMatchObject({ field: 'caseNumber' });
    const login = await api.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan' } });
    expect(login.statusCode).toBe(400);
    expect(login.json()).toMatchObject({ field: 'password' });
    expect(api.db.holds.get('case-x')).toBeUndefined();
  });

  it('P6/P7: a reasoned search returns reads and is logged with user, reason and case number', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/reads?plate=7abc123&reason=robbery+suspect&caseNumber=24-0042', headers: auth(ivan) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.reads.map((r: { id: string }) => r.id)).toEqual([fresh.id]);
    expect(body.reads[0]).toMatchObject({ plate: '7ABC123', cameraId: 'north', location: { description: 'Main St & 1st' }, images: { plate: `/api/v1/reads/${fresh.id}/images/plate` } });
    expect(body.reads[0].box).toEqual(fresh.box);
    expect(body.reads[0].candidates).toEqual(fresh.candidates);
    const entry = logOf(api).at(-1)!;
    expect(entry).toMatchObject({ user: 'ivan', action: 'search', result: 'ok', parameters: { reason: 'robbery suspect', caseNumber: '24-0042', plate: { $sealed: expect.any(String) }, results: 1 } });
    // P16: the plate searched for is sealed; the device keys open it for an audit.
    expect(openParameters(entry, api.store.keys)).toMatchObject({ plate: '7abc123' });
  });

  it('paginates with a cursor, newest first', async () => {
    const p1 = (await api.app.inject({ method: 'GET', url: '/api/v1/reads?reason=patrol+review&limit=1', headers: auth(ivan) })).json();
    expect(p1.reads.map((r: { id: string }) => r.id)).toEqual([other.id]);
    const p2 = (await api.app.inject({ method: 'GET', url: `/api/v1/reads?reason=patrol+review&limit=1&cursor=${p1.nextCursor}`, headers: auth(ivan) })).json();
    expect(p2.reads.map((r: { id: string }) => r.id)).toEqual([fresh.id]);
    expect(p2.nextCursor).toBeUndefined();
  });

  it('P3: a read past retention is not returned by search, by id or as an image', async () => {
    const s = (await api.app.inject({ method: 'GET', url: '/api/v1/reads?plate=7ABC123&from=2000-01-01T00:00:00Z&reason=old+case', headers: auth(ivan) })).json();
    expect(s.reads.map((r: { id: string }) => r.id)).not.toContain(expired.id);
    expect((await api.app.inject({ method: 'GET', url: `/api/v1/reads/${expired.id}?reason=old+case`, headers: auth(ivan) })).statusCode).toBe(404);
    expect((await api.app.inject({ method: 'GET', url: `/api/v1/reads/${expired.id}/images/plate?reason=old+case`, headers: auth(ivan) })).statusCode).toBe(404);
  });

  it('serves a read\'s image as JPEG bytes and logs the view', async () => {
    const res = await api.app.inject({ method: 'GET', url: `/api/v1/reads/${fresh.id}/images/overview?reason=verify+hit`, headers: auth(ada) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.rawPayload.equals(fresh.overviewJpeg)).toBe(true);
    expect(logOf(api).at(-1)).toMatchObject({ user: 'ada', action: 'image.view', parameters: { readId: fresh.id, kind: 'overview', reason: 'verify hit' } });
  });

  it('P8: technicians get 403 on everything that returns reads, and the refusal is logged', async () => {
    for (const [method, url] of [['GET', '/api/v1/reads?reason=curious'], ['GET', `/api/v1/reads/${fresh.id}?reason=curious`], ['GET', `/api/v1/reads/${fresh.id}/images/plate?reason=curious`], ['GET', '/api/v1/holds']] as const) {
      const res = await api.app.inject({ method, url, headers: auth(tom) });
      expect(res.statusCode, url).toBe(403);
      expect(res.body).not.toContain('7ABC123');
    }
    expect(logOf(api).at(-1)).toMatchObject({ user: 'tom', action: 'api.denied', result: 'denied' });
    const status = await api.app.inject({ method: 'GET', url: '/api/v1/store/status', headers: auth(tom) });
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({ reads: 3 });
  });

  it('P8: expired training means no access to reads', async () => {
    const token = await login(api.app, 'old');
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/reads?reason=test+case', headers: auth(token) })).statusCode).toBe(403);
  });

  it('P6: a disabled user\'s token stops working at once', async () => {
    await api.users.add({ username: 'leaver', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    const token = await login(api.app, 'leaver');
    api.users.disable('leaver', 'ada');
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/reads?reason=test+case', headers: auth(token) })).statusCode).toBe(401);
  });

  it('P6: a token outlives a daemon restart until it expires, and a password change ends it at once', async () => {
    await api.users.add({ username: 'rita', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    const token = await login(api.app, 'rita');
    // A restart: a new server and token issuer over the same state directory.
    const restarted = buildHttpApp({ logger: silent, metrics: createMetrics(), health: () => ({ status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }) });
    onTestFinished(() => restarted.close());
    await restarted.register(queryApi, { ...queryServices(api.store), users: api.users, sharing: new SharingRegistry(api.db, testConfig().sharing), access: testConfig().access });
    await restarted.ready();
    const search = (app: FastifyInstance, t: string) => app.inject({ method: 'GET', url: '/api/v1/reads?reason=test+case', headers: auth(t) });
    expect((await search(restarted, token)).statusCode).toBe(200);
    // P16: the token secret is a 0600 file beside the data keys.
    const { statSync } = await import('node:fs');
    expect(statSync(`${api.store.keys.dir}/api-token.key`).mode & 0o777).toBe(0o600);
    // Expired: issued by the same secret, longer ago than its lifetime.
    const stale = new TokenIssuer(900, api.store.keys.apiTokenSecret()).issue('rita', 'investigator', 0, Date.now() - 901_000).token;
    expect((await search(restarted, stale)).statusCode).toBe(401);
    await api.users.setPassword('rita', 'a brand new password', 'rita');
    expect((await search(restarted, token)).statusCode).toBe(401);
    expect((await search(api.app, token)).statusCode).toBe(401);
    expect((await restarted.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'rita', password: PW } })).statusCode).toBe(401);
    const again = await restarted.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'rita', password: 'a brand new password' } });
    expect((await search(restarted, again.json().token as string)).statusCode).toBe(200);
  });

  it('P4: a hold made through the API keeps its reads past retention; only its creator or an administrator releases it', async () => {
    const created = await api.app.inject({ method: 'POST', url: '/api/v1/holds', headers: auth(ivan), payload: { name: 'case-7', caseNumber: '24-0007', reason: 'robbery evidence', query: { plate: '8XYZ999' } } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'case-7', readCount: 1, createdBy: 'ivan' });
    expect(await api.store.purgeExpired(now + 40 * DAY_MS)).toMatchObject({ keptHeld: 1 });
    expect(api.db.reads.get(other.id)).toBeDefined();
    await api.users.add({ username: 'iris', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    const iris = await login(api.app, 'iris');
    expect((await api.app.inject({ method: 'DELETE', url: '/api/v1/holds/case-7?reason=not+mine', headers: auth(iris) })).statusCode).toBe(403);
    const released = await api.app.inject({ method: 'DELETE', url: '/api/v1/holds/case-7?reason=case+closed', headers: auth(ada) });
    expect(released.statusCode).toBe(200);
    expect(released.json()).toMatchObject({ releasedBy: 'ada' });
    const dup = await api.app.inject({ method: 'POST', url: '/api/v1/holds', headers: auth(ivan), payload: { name: 'bad', caseNumber: '1', reason: 'evidence', readIds: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'] } });
    expect(dup.statusCode).toBe(422);
    expect(dup.json()).toMatchObject({ field: 'readIds' });
  });

  it('P14: immigration-enforcement requests are refused (422) and logged; only administrators approve', async () => {
    const refused = await api.app.inject({ method: 'POST', url: '/api/v1/shares', headers: auth(ivan), payload: { agency: 'DHS HSI', agencyState: 'CA', requester: 'SA Smith', purpose: 'immigration enforcement operation' } });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ status: 'refused' });
    expect(logOf(api).at(-1)).toMatchObject({ action: 'share.refuse', result: 'refused', user: 'ivan' });
    const pending = await api.app.inject({ method: 'POST', url: '/api/v1/shares', headers: auth(ivan), payload: { agency: 'San Jose PD', agencyState: 'CA', requester: 'Det. Lee', purpose: 'carjacking 24-555' } });
    expect(pending.statusCode).toBe(201);
    const id = pending.json().id as string;
    expect((await api.app.inject({ method: 'POST', url: `/api/v1/shares/${id}/approve`, headers: auth(ivan) })).statusCode).toBe(403);
    const approved = await api.app.inject({ method: 'POST', url: `/api/v1/shares/${id}/approve`, headers: auth(ada) });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', approvedBy: 'ada' });
  });

  it('serves the OpenAPI document to authenticated users only, describing the routes', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/openapi.json', headers: auth(tom) });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/login', '/api/v1/reads', '/api/v1/reads/{id}/images/{kind}', '/api/v1/holds']));
    expect(JSON.stringify(doc.paths['/api/v1/reads'])).toContain('reason');
  });

  it('P9: the inquiries made through the API can be sampled for audit, and the chain verifies', () => {
    const sample = sampleInquiries(api.db, { from: new Date(now - DAY_MS), to: new Date(now + DAY_MS), n: 3, seed: 'q1' });
    expect(sample.population).toBeGreaterThanOrEqual(5);
    expect(sample.entries).toHaveLength(3);
    expect(sample.entries.every((e) => ['search', 'read.view', 'image.view', 'export'].includes(e.action))).toBe(true);
    expect(verifyAccessLog(api.db).ok).toBe(true);
  });
});

describe('login rate limit', () => {
  it('P6: answers 429 after too many login attempts from one address', async () => {
    const api = await buildApi({ loginRateLimitPerMinute: 3 });
    onTestFinished(async () => {
      await api.app.close();
      await api.db.root.close();
    });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await api.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'x', password: 'y' } })).statusCode);
    expect(codes).toEqual([401, 401, 401, 429, 429]);
  });
});
