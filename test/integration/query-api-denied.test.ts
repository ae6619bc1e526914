import { describe, expect, it, onTestFinished } from 'vitest';
import { openParameters, type AccessLogEntry } from '../../src/access/access-log.js';
import { SharingRegistry } from '../../src/access/sharing.js';
import { UserDirectory } from '../../src/access/users.js';
import { buildHttpApp } from '../../src/http/app.js';
import { queryServices } from '../../src/app.js';
import { queryApi } from '../../src/http/api/query-api.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { makeRead, openTestStore, silent, testConfig } from '../support/store-fixtures.js';

// Issue 20 §1: a denied API call is on the record like an allowed one, with what the caller gave
// as their reason and case number (P6, P7). The app on a real LMDB state directory, through inject().
const PW = 'correct horse battery';

async function startApi() {
  const config = testConfig({}, { access: { loginRateLimitPerMinute: 1000 } });
  const { db, store } = openTestStore(config);
  const users = new UserDirectory(db, config.access);
  const app = buildHttpApp({ logger: silent, metrics: createMetrics(), health: () => ({ status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }) });
  await app.register(queryApi, { ...queryServices(store), users, sharing: new SharingRegistry(db, config.sharing), access: config.access });
  await app.ready();
  onTestFinished(async () => {
    await app.close();
    await db.root.close();
  });
  for (const [username, role] of [['tom', 'technician'], ['ivan', 'investigator'], ['iris', 'investigator']] as const) {
    await users.add({ username, role, trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
  }
  const token = async (username: string) => (await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username, password: PW } })).json().token as string;
  const denials = () => [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action === 'api.denied');
  return { app, store, token, denials };
}

describe('denied API calls in the access log', () => {
  it('P6/P7: api.denied records the reason and case number the caller gave, and why it was denied', async () => {
    const { app, store, token, denials } = await startApi();
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const [tom, ivan, iris] = [await token('tom'), await token('ivan'), await token('iris')];
    const read = makeRead('5DNY001', Date.now() - 60_000);
    await store.put(read);

    // A technician (P8) searching with a reason and case number.
    expect((await app.inject({ method: 'GET', url: '/api/v1/reads?plate=5DNY001&reason=curious+about+a+neighbour&caseNumber=25-0101', headers: auth(tom) })).statusCode).toBe(403);
    // A search refused for want of a reason (P7) still records the case number given.
    expect((await app.inject({ method: 'GET', url: '/api/v1/reads?plate=5DNY001&caseNumber=25-0102', headers: auth(ivan) })).statusCode).toBe(400);
    // A hold placed through the API and released by someone who may not.
    const hold = await app.inject({ method: 'POST', url: '/api/v1/holds', headers: auth(ivan), payload: { name: 'case-d1', caseNumber: '25-0103', reason: 'robbery evidence', readIds: [read.id] } });
    expect(hold.statusCode).toBe(201);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/holds/case-d1?reason=not+my+case', headers: auth(iris) })).statusCode).toBe(403);
    // A technician placing a hold with a body that names its case and reason.
    expect((await app.inject({ method: 'POST', url: '/api/v1/holds', headers: auth(tom), payload: { name: 'case-d2', caseNumber: '25-0104', reason: 'keep these', readIds: [read.id] } })).statusCode).toBe(403);

    const d = denials();
    expect(d.map((e) => [e.user, e.result, e.parameters['route'], e.parameters['reason'] ?? null, e.parameters['caseNumber'] ?? null])).toEqual([
      ['tom', 'denied', '/api/v1/reads', 'curious about a neighbour', '25-0101'],
      ['ivan', 'denied', '/api/v1/reads', null, '25-0102'],
      ['iris', 'denied', '/api/v1/holds/:name', 'not my case', null],
      ['tom', 'denied', '/api/v1/holds', 'keep these', '25-0104'],
    ]);
    // Why each was denied is there too.
    expect(d[0]!.parameters['why']).toContain('technicians never see reads');
    expect(d[1]!.parameters['problem']).toContain('reason');
    expect(d[2]!.parameters['why']).toBe('not the creator or an administrator');
    // The plate the technician asked for is on the record, sealed with the device key (P16).
    expect(d[0]!.parameters['plate']).toMatchObject({ $sealed: expect.any(String) });
    expect(openParameters(d[0]!, store.keys)).toMatchObject({ plate: '5DNY001' });
  });
});
