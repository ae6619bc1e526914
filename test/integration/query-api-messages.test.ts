import { describe, expect, it, onTestFinished } from 'vitest';
import pino from 'pino';
import { SharingRegistry } from '../../src/access/sharing.js';
import { UserDirectory } from '../../src/access/users.js';
import { buildHttpApp } from '../../src/http/app.js';
import { queryServices } from '../../src/app.js';
import { queryApi } from '../../src/http/api/query-api.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { makeRead, openTestStore, testConfig } from '../support/store-fixtures.js';

// Issue 22: what an investigator reads when the query API refuses a request, and the spellings it
// takes. The app as the daemon builds it, on a real LMDB state directory, driven with inject().
const PW = 'correct horse battery';

async function startApi() {
  const config = testConfig({}, { access: { loginRateLimitPerMinute: 1000 } });
  const { db, store } = openTestStore(config);
  const users = new UserDirectory(db, config.access);
  const app = buildHttpApp({ logger: pino({ level: 'silent' }), metrics: createMetrics(), health: () => ({ status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }) });
  await app.register(queryApi, { ...queryServices(store), users, sharing: new SharingRegistry(db, config.sharing), access: config.access });
  await app.ready();
  onTestFinished(async () => {
    await app.close();
    await db.root.close();
  });
  await users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
  const token = (await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: PW } })).json().token as string;
  const get = (query: string) => app.inject({ method: 'GET', url: `/api/v1/reads?${query}`, headers: { authorization: `Bearer ${token}` } });
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: payload as Record<string, unknown> });
  return { app, store, get, post, token };
}

describe('query API: refusals a person can act on, and the spellings it takes', () => {
  it('a bad value names the field and the valid values, in words rather than schema jargon', async () => {
    const api = await startApi();
    const cases: [string, string, string][] = [
      ['reason=patrol+review&match=fuzzy', 'match', 'match must be one of exact, lookalike, look-alike, partial, not "fuzzy"'],
      ['reason=ab', 'reason', 'reason must have at least 3 characters (Why this inquiry is made (P7), 3 to 500 characters; stored in the access log.)'],
      ['plate=7ABC123', 'reason', 'reason is required: Why this inquiry is made (P7), 3 to 500 characters; stored in the access log.'],
      ['reason=patrol+review&limit=500', 'limit', 'limit must be at most 200, not 500'],
      ['reason=patrol+review&showSealed=1', 'showSealed', 'showSealed is not a parameter of this request; valid: reason, caseNumber, plate, match, camera, from, to, limit, cursor'],
    ];
    for (const [query, field, error] of cases) {
      const res = await api.get(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json(), query).toEqual({ field, error });
    }
    const hold = await api.post('/api/v1/holds', { name: 'case-m', caseNumber: '24-1', reason: 'evidence', query: { plate: '7ABC123', match: 'similar' } });
    expect(hold.statusCode).toBe(400);
    expect(hold.json().error).toBe('query.match must be one of exact, lookalike, look-alike, partial, not "similar"');
  });

  it('a date where a date-time is needed is refused saying so, with the form to send', async () => {
    const api = await startApi();
    const res = await api.get('reason=patrol+review&from=2026-12-05');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      field: 'from',
      error: 'from must be a date-time with a time zone, e.g. 2026-12-05T00:00:00Z or 2026-12-05T00:00:00-08:00, not "2026-12-05": a date alone starts at a different instant in each time zone; for the start of that day in UTC send 2026-12-05T00:00:00Z',
    });
    expect((await api.get('reason=patrol+review&from=2026-12-05T00:00:00Z')).statusCode).toBe(200);
  });

  it('look-alike, as hits name the match, searches and holds like lookalike', async () => {
    const api = await startApi();
    const read = makeRead('8BC0123', Date.now() - 60_000);
    await api.store.put(read);
    const ids = async (match: string) => {
      const res = await api.get(`reason=hit+follow-up&plate=8BCO123&match=${match}`);
      expect(res.statusCode, match).toBe(200);
      return (res.json().reads as { id: string }[]).map((r) => r.id);
    };
    expect(await ids('look-alike')).toEqual([read.id]);
    expect(await ids('lookalike')).toEqual([read.id]);
    expect(await ids('exact')).toEqual([]);
    const hold = await api.post('/api/v1/holds', { name: 'case-la', caseNumber: '24-2', reason: 'hit follow-up', query: { plate: '8BCO123', match: 'look-alike' } });
    expect(hold.statusCode, hold.body).toBe(201);
    expect(hold.json()).toMatchObject({ readCount: 1, query: { match: 'lookalike' } });
  });

  it('the OpenAPI document states the reason\'s length and both look-alike spellings', async () => {
    const api = await startApi();
    const doc = (await api.app.inject({ method: 'GET', url: '/api/v1/openapi.json', headers: { authorization: `Bearer ${api.token}` } })).json();
    const params = doc.paths['/api/v1/reads'].get.parameters as { name: string; schema: { minLength?: number; maxLength?: number; anyOf?: { const?: string; enum?: string[] }[] }; description?: string }[];
    const reason = params.find((p) => p.name === 'reason')!;
    expect(reason.schema).toMatchObject({ minLength: 3, maxLength: 500 });
    expect(reason.description).toContain('3 to 500 characters');
    expect(JSON.stringify(params.find((p) => p.name === 'match'))).toContain('look-alike');
  });
});
