import { describe, expect, it, onTestFinished } from 'vitest';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { AccessLogEntry } from '../../src/access/access-log.js';
import { SharingRegistry } from '../../src/access/sharing.js';
import { UserDirectory } from '../../src/access/users.js';
import { buildHttpApp, HTTP_BODY_LIMIT_BYTES } from '../../src/http/app.js';
import { queryServices } from '../../src/app.js';
import { queryApi } from '../../src/http/api/query-api.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openTestStore, testConfig } from '../support/store-fixtures.js';

// Issue 20 §5: what a careless (or hostile) client sends the query API. The app as the daemon builds
// it, on a real LMDB state directory, driven with inject() and over a real socket; the device log is
// captured as the journal would get it.
const PW = 'correct horse battery';

async function startApi() {
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } }));
  const config = testConfig({}, { access: { loginRateLimitPerMinute: 1000 } });
  const { db, store } = openTestStore(config);
  const users = new UserDirectory(db, config.access);
  const app = buildHttpApp({ logger, metrics: createMetrics(), health: () => ({ status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }) });
  await app.register(queryApi, { ...queryServices(store), users, sharing: new SharingRegistry(db, config.sharing), access: config.access });
  await app.listen({ host: '127.0.0.1', port: 0 });
  onTestFinished(async () => {
    await app.close();
    await db.root.close();
  });
  await users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
  const token = (await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: PW } })).json().token as string;
  const port = (app.server.address() as { port: number }).port;
  const accessLog = () => [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry);
  return { app, token, port, logLines, accessLog };
}

/** One POST over a real connection; resolves with the status, or with how the connection failed. */
function post(port: number, path: string, headers: Record<string, string>, body: string): Promise<{ status?: number; body?: string; failed?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += String(c)));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', (err) => resolve({ failed: err.message }));
    req.end(body);
  });
}

describe('query API: bad input over HTTP', () => {
  it('P6: malformed JSON, a 5 MB body and __proto__/constructor keys get 400/413 naming the limit, no stack trace, and an access-log entry', async () => {
    const api = await startApi();
    const auth = { authorization: `Bearer ${api.token}` };
    const hold = { name: 'case-1', caseNumber: '24-1', reason: 'evidence' };
    const cases: { what: string; body: string; status: number; says: RegExp }[] = [
      { what: 'malformed JSON', body: '{"name": "case-1", "caseNumber":', status: 400, says: /not valid JSON/ },
      { what: 'a 5 MB body', body: JSON.stringify({ ...hold, reason: 'x'.repeat(5_000_000) }), status: 413, says: new RegExp(`limit of ${HTTP_BODY_LIMIT_BYTES} bytes`) },
      { what: '__proto__', body: '{"name":"case-1","caseNumber":"24-1","reason":"evidence","__proto__":{"isAdmin":true}}', status: 400, says: /__proto__/ },
      { what: 'constructor.prototype', body: '{"name":"case-1","caseNumber":"24-1","reason":"evidence","constructor":{"prototype":{"isAdmin":true}}}', status: 400, says: /constructor/ },
      { what: 'a plain constructor key', body: '{"name":"case-1","caseNumber":"24-1","reason":"evidence","constructor":"x"}', status: 400, says: /constructor is not a parameter of this request; valid: |username is required/ },
    ];
    for (const c of cases) {
      for (const url of ['/api/v1/holds', '/api/v1/login']) {
        const res = await api.app.inject({ method: 'POST', url, headers: { ...(url.endsWith('holds') ? auth : {}), 'content-type': 'application/json' }, payload: c.body });
        expect(res.statusCode, `${c.what} → ${url}`).toBe(c.status);
        expect(res.json().error, `${c.what} → ${url}`).toMatch(c.says);
      }
    }
    // Refused before any handler: nothing was held, every refusal of the known user is in the access log (P6).
    const denied = api.accessLog().filter((e) => e.action === 'api.denied' && e.user === 'ivan');
    expect(denied).toHaveLength(cases.length);
    expect(denied.every((e) => e.result === 'denied' && e.parameters['route'] === '/api/v1/holds')).toBe(true);
    const log = api.logLines.join('');
    expect(log).not.toContain('"stack"');
    expect(log).not.toContain('internal error');
    expect(api.logLines.map((l) => JSON.parse(l) as { level: number }).filter((l) => l.level >= 50)).toEqual([]);
  });

  it('P6: every authenticated request of that kind gets an answer over a real connection, also many at once', async () => {
    const api = await startApi();
    const auth = { authorization: `Bearer ${api.token}` };
    const bodies = ['{"name":', JSON.stringify({ name: 'x', caseNumber: '1', reason: 'x'.repeat(5_000_000) }), '{"__proto__":{"a":1}}', '{"constructor":{"prototype":{"a":1}}}'];
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => post(api.port, '/api/v1/holds', auth, bodies[i % bodies.length]!)));
    expect(answers.map((a) => a.failed)).toEqual(answers.map(() => undefined));
    expect(answers.map((a) => a.status)).toEqual(answers.map((_, i) => (i % bodies.length === 1 ? 413 : 400)));
  });

  it('P7: properties the schema does not allow are refused with 400 naming them, as the OpenAPI document promises', async () => {
    const api = await startApi();
    const auth = { authorization: `Bearer ${api.token}` };
    const doc = (await api.app.inject({ method: 'GET', url: '/api/v1/openapi.json', headers: auth })).json();
    expect(doc.paths['/api/v1/holds'].post.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    const extraBody = await api.app.inject({ method: 'POST', url: '/api/v1/holds', headers: auth, payload: { name: 'case-2', caseNumber: '24-2', reason: 'evidence', query: { plate: '7ABC123' }, createdBy: 'ada' } });
    expect(extraBody.statusCode).toBe(400);
    expect(extraBody.json()).toMatchObject({ field: 'createdBy' });
    const extraNested = await api.app.inject({ method: 'POST', url: '/api/v1/holds', headers: auth, payload: { name: 'case-2', caseNumber: '24-2', reason: 'evidence', query: { plate: '7ABC123', everything: true } } });
    expect(extraNested.statusCode).toBe(400);
    expect(extraNested.json()).toMatchObject({ field: 'everything' });
    const extraQuery = await api.app.inject({ method: 'GET', url: '/api/v1/reads?reason=patrol+review&showSealed=1', headers: auth });
    expect(extraQuery.statusCode).toBe(400);
    expect(extraQuery.json()).toMatchObject({ field: 'showSealed' });
    const extraLogin = await api.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: PW, role: 'administrator' } });
    expect(extraLogin.statusCode).toBe(400);
    expect(extraLogin.json()).toMatchObject({ field: 'role' });
  });
});
