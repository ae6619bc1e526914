import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/http/console.js';
import { SESSION_COOKIE } from '../../src/http/api/console-sessions.js';
import { PASSWORD, startConsoleApp, USERS, type ConsoleApp } from '../support/console-app.js';

// Swagger UI beside the OpenAPI document (/api/v1/docs/), through the real HTTP app as the daemon
// builds it: only a signed-in user gets the page, its files or its copy of the document, and every
// answer keeps the strict CSP (all of Swagger UI's files are same-origin).

const HOST = { host: '127.0.0.1:8080' };
const DOCS = '/api/v1/docs';
const PAGES = [`${DOCS}`, `${DOCS}/`, `${DOCS}/json`, `${DOCS}/yaml`, `${DOCS}/static/index.html`, `${DOCS}/static/swagger-ui-bundle.js`, `${DOCS}/static/swagger-initializer.js`, `${DOCS}/static/swagger-ui.css`];

describe('Swagger UI for signed-in users', () => {
  let c: ConsoleApp;
  let bearer: Record<string, string>;
  let session: Record<string, string>;
  beforeAll(async () => {
    c = await startConsoleApp();
    const login = await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: USERS.technician, password: PASSWORD } });
    bearer = { ...HOST, authorization: `Bearer ${login.json().token as string}` };
    const signIn = await c.app.inject({ method: 'POST', url: '/api/v1/session', headers: HOST, payload: { username: USERS.investigator, password: PASSWORD } });
    const id = /alpr_console=([^;]*)/.exec(String(signIn.headers['set-cookie'] ?? ''))?.[1] ?? '';
    expect(id).not.toBe('');
    session = { ...HOST, cookie: `${SESSION_COOKIE}=${id}` };
  });
  afterAll(async () => c?.close());

  it('refuses the page, its files and its document without a token or session (401, nothing served)', async () => {
    for (const url of PAGES) {
      const res = await c.app.inject({ method: 'GET', url, headers: HOST });
      expect(res.statusCode, url).toBe(401);
      expect(res.body, url).not.toContain('SwaggerUI');
      expect(res.body, url).not.toContain('openapi');
      const forged = await c.app.inject({ method: 'GET', url, headers: { ...HOST, authorization: 'Bearer not-a-token' } });
      expect(forged.statusCode, url).toBe(401);
    }
  });

  it('serves the page and its files to a bearer token, under the strict CSP, with no logo or validator from elsewhere', async () => {
    const page = await c.app.inject({ method: 'GET', url: `${DOCS}/`, headers: bearer });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('swagger-ui-bundle.js');
    // Every script and stylesheet the page loads is a file of ours on this origin (no inline script).
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(2);
    for (const ref of refs) expect(ref, ref).not.toMatch(/^(https?:|\/\/|data:)/);
    expect(page.body).not.toMatch(/<script>(?!\s*<\/script>)/);

    const bundle = await c.app.inject({ method: 'GET', url: `${DOCS}/static/swagger-ui-bundle.js`, headers: bearer });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);

    const init = await c.app.inject({ method: 'GET', url: `${DOCS}/static/swagger-initializer.js`, headers: bearer });
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('validatorUrl: null');
    expect(init.body).not.toContain('data:image');
  });

  it('shows the same document as /api/v1/openapi.json', async () => {
    const ui = await c.app.inject({ method: 'GET', url: `${DOCS}/json`, headers: bearer });
    const doc = await c.app.inject({ method: 'GET', url: '/api/v1/openapi.json', headers: bearer });
    expect(ui.statusCode).toBe(200);
    expect(ui.json()).toEqual(doc.json());
    expect((ui.json() as { paths: Record<string, unknown> }).paths).toHaveProperty(['/api/v1/reads']);
  });

  it('opens in a browser signed in to the console (session cookie), and not after sign-out', async () => {
    const page = await c.app.inject({ method: 'GET', url: `${DOCS}/`, headers: session });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-initializer.js');
    const spec = await c.app.inject({ method: 'GET', url: `${DOCS}/json`, headers: session });
    expect(spec.statusCode).toBe(200);
    const csrf = (await c.app.inject({ method: 'GET', url: '/api/v1/session', headers: session })).json().csrfToken as string;
    const out = await c.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { ...session, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBeLessThan(300);
    const after = await c.app.inject({ method: 'GET', url: `${DOCS}/`, headers: session });
    expect(after.statusCode).toBe(401);
  });
});
