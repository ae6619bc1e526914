import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/http/console.js';
import { ConsoleSessions, SESSION_COOKIE } from '../../src/http/api/console-sessions.js';
import { PASSWORD, startConsoleApp, USERS, type ConsoleApp } from '../support/console-app.js';

// The web console's security model through the real Fastify app (docs/console.md): cookie session,
// CSRF, idle logout, headers. The browser test (test/e2e/console-browser.test.ts) drives the pages.

const HOST = { host: '127.0.0.1:8080' };

async function signIn(c: ConsoleApp, username: string, headers: Record<string, string> = HOST) {
  const res = await c.app.inject({ method: 'POST', url: '/api/v1/session', headers, payload: { username, password: PASSWORD } });
  const setCookie = String(res.headers['set-cookie'] ?? '');
  const id = /alpr_console=([^;]*)/.exec(setCookie)?.[1] ?? '';
  return { res, setCookie, cookie: `${SESSION_COOKIE}=${id}`, id, csrf: (res.json() as { csrfToken?: string }).csrfToken ?? '' };
}

describe('web console sessions', () => {
  let c: ConsoleApp;
  beforeAll(async () => {
    c = await startConsoleApp();
  });
  afterAll(async () => {
    await c.close();
  });

  it('signs in to an httpOnly, SameSite=Strict cookie scoped to the API, Secure on a loopback origin', async () => {
    const s = await signIn(c, USERS.investigator);
    expect(s.res.statusCode).toBe(200);
    expect(s.res.json()).toMatchObject({ username: 'ivan', role: 'investigator', maySeeReads: true, idleMinutes: 15 });
    expect(s.setCookie).toMatch(/HttpOnly/);
    expect(s.setCookie).toMatch(/SameSite=Strict/);
    expect(s.setCookie).toMatch(/Path=\/api\/v1/);
    expect(s.setCookie).toMatch(/; Secure/);
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The CSRF token is in the body only, never a cookie.
    expect(s.setCookie).not.toContain(s.csrf);
    // Over a VPN address the page is plain HTTP: a Secure cookie would be refused by the browser.
    const vpn = await signIn(c, USERS.investigator, { host: '10.20.0.7:8080' });
    expect(vpn.setCookie).not.toMatch(/Secure/);
    expect(vpn.setCookie).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('P6: a wrong password is one 401 like any other, with no cookie', async () => {
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/session', headers: HOST, payload: { username: 'ivan', password: 'wrong password!' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'invalid username or password' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('the cookie works where a bearer token does: search with a reason, logged under the user (P6, P7)', async () => {
    const s = await signIn(c, USERS.investigator);
    const res = await c.app.inject({ method: 'GET', url: '/api/v1/reads?reason=console+test&caseNumber=24-7', headers: { ...HOST, cookie: s.cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.json().reads).toHaveLength(3);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ivan', action: 'search', parameters: { reason: 'console test', caseNumber: '24-7' } });
    const noReason = await c.app.inject({ method: 'GET', url: '/api/v1/reads', headers: { ...HOST, cookie: s.cookie } });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().field).toBe('reason');
  });

  it('refuses a state-changing request without the CSRF token, or from another origin, and logs it', async () => {
    const s = await signIn(c, USERS.investigator);
    const body = { name: 'csrf-test', caseNumber: '24-9', reason: 'evidence', readIds: [c.reads[0]!.id] };
    const none = await c.app.inject({ method: 'POST', url: '/api/v1/holds', headers: { ...HOST, cookie: s.cookie }, payload: body });
    expect(none.statusCode).toBe(403);
    expect(none.json().error).toMatch(/CSRF/);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ivan', action: 'api.denied', result: 'denied', parameters: { why: 'missing or wrong CSRF token' } });
    const wrong = await c.app.inject({ method: 'POST', url: '/api/v1/holds', headers: { ...HOST, cookie: s.cookie, 'x-csrf-token': s.csrf.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')) }, payload: body });
    expect(wrong.statusCode).toBe(403);
    const crossSite = await c.app.inject({ method: 'POST', url: '/api/v1/holds', headers: { ...HOST, cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'http://evil.example' }, payload: body });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json().error).toMatch(/cross-origin/);
    const ok = await c.app.inject({ method: 'POST', url: '/api/v1/holds', headers: { ...HOST, cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'http://127.0.0.1:8080' }, payload: body });
    expect(ok.statusCode).toBe(201);
    // Login CSRF: another site cannot sign this browser in.
    const foreign = await c.app.inject({ method: 'POST', url: '/api/v1/session', headers: { ...HOST, origin: 'http://evil.example' }, payload: { username: 'ivan', password: PASSWORD } });
    expect(foreign.statusCode).toBe(403);
  });

  it('the self-test from a session: a technician runs it with the CSRF token (logged, no-store), an investigator is refused', async () => {
    const t = await signIn(c, USERS.technician);
    const forged = await c.app.inject({ method: 'POST', url: '/api/v1/device/selftest', headers: { ...HOST, cookie: t.cookie } });
    expect(forged.statusCode).toBe(403);
    const run = await c.app.inject({ method: 'POST', url: '/api/v1/device/selftest', headers: { ...HOST, cookie: t.cookie, 'x-csrf-token': t.csrf } });
    expect(run.statusCode).toBe(200);
    expect(run.headers['cache-control']).toBe('no-store');
    expect(run.json()).toMatchObject({ ok: true, checks: expect.arrayContaining([expect.objectContaining({ check: 'clock', next: expect.stringContaining('NTP') })]) });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'tina', action: 'device.selftest', result: 'ok' });
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/device/selftest', headers: { ...HOST, cookie: t.cookie } })).json()).toMatchObject({ available: true, report: { ok: true } });
    const i = await signIn(c, USERS.investigator);
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/device/selftest', headers: { ...HOST, cookie: i.cookie, 'x-csrf-token': i.csrf } })).statusCode).toBe(403);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ivan', action: 'api.denied' });
  });

  it('P8: a technician\'s session gets the live view and health, never a read', async () => {
    const s = await signIn(c, USERS.technician);
    const headers = { ...HOST, cookie: s.cookie };
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/live', headers })).statusCode).toBe(200);
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/device', headers })).statusCode).toBe(200);
    const search = await c.app.inject({ method: 'GET', url: '/api/v1/reads?reason=curious', headers });
    expect(search.statusCode).toBe(403);
    const image = await c.app.inject({ method: 'GET', url: `/api/v1/reads/${c.reads[0]!.id}/images/plate?reason=curious`, headers });
    expect(image.statusCode).toBe(403);
    for (const r of c.reads) expect(search.body + image.body).not.toContain(r.plate);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'tina', action: 'api.denied' });
    // Investigators do not aim cameras.
    const inv = await signIn(c, USERS.investigator);
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/live', headers: { ...HOST, cookie: inv.cookie } })).statusCode).toBe(403);
  });

  it('idle logout: polling does not keep a session alive, a person\'s action does; past the idle time it is gone', async () => {
    const s = await signIn(c, USERS.technician);
    const headers = { ...HOST, cookie: s.cookie };
    const session = () => {
      const f = c.app.consoleContext!.sessions.find(s.id);
      return 'session' in f ? f.session : undefined;
    };
    session()!.lastActiveMs -= 60_000;
    const before = session()!.lastActiveMs;
    await c.app.inject({ method: 'GET', url: '/api/v1/live', headers });
    await c.app.inject({ method: 'GET', url: '/api/v1/device', headers });
    expect(session()!.lastActiveMs).toBe(before);
    await c.app.inject({ method: 'GET', url: '/api/v1/session', headers });
    expect(session()!.lastActiveMs).toBeGreaterThan(before);
    session()!.lastActiveMs -= 16 * 60_000;
    const res = await c.app.inject({ method: 'GET', url: '/api/v1/device', headers });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ ended: 'idle', error: 'signed out after 15 minutes without activity' });
    expect(String(res.headers['set-cookie'])).toMatch(/Max-Age=0/);
  });

  it('sign-out ends the session at once; a disabled user\'s session ends too (P6)', async () => {
    const s = await signIn(c, USERS.administrator);
    const out = await c.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { ...HOST, cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/alpr_console=; .*Max-Age=0/);
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/session', headers: { ...HOST, cookie: s.cookie } })).statusCode).toBe(401);
    await c.users.add({ username: 'temp', role: 'investigator', trainingValidUntil: '2099-12-31', password: PASSWORD }, 'cli:root');
    const t = await signIn(c, 'temp');
    c.users.disable('temp', 'ada');
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/session', headers: { ...HOST, cookie: t.cookie } })).statusCode).toBe(401);
  });

  it('every answer carries the CSP and security headers; API answers are never cached', async () => {
    const s = await signIn(c, USERS.investigator);
    const page = await c.app.inject({ method: 'GET', url: '/console/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('/console/app.js');
    // No inline script or style, nothing from another origin.
    expect(page.body).not.toMatch(/<script>|<style|https?:\/\//);
    for (const res of [page, s.res,
      await c.app.inject({ method: 'GET', url: '/console/app.js' }),
      await c.app.inject({ method: 'GET', url: '/api/v1/reads?reason=header+check', headers: { ...HOST, cookie: s.cookie } }),
      await c.app.inject({ method: 'GET', url: `/api/v1/reads/${c.reads[0]!.id}/images/plate?reason=header+check`, headers: { ...HOST, cookie: s.cookie } }),
      await c.app.inject({ method: 'GET', url: '/healthz' })]) {
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    for (const url of [`/api/v1/reads?reason=cache+check`, `/api/v1/reads/${c.reads[0]!.id}?reason=cache+check`, `/api/v1/reads/${c.reads[0]!.id}/images/overview?reason=cache+check`, '/api/v1/session']) {
      const res = await c.app.inject({ method: 'GET', url, headers: { ...HOST, cookie: s.cookie } });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['cache-control'], url).toBe('no-store');
    }
    expect(s.res.headers['cache-control']).toBe('no-store');
    expect((await c.app.inject({ method: 'GET', url: '/console/search' })).body).toContain('/console/app.js');
    expect((await c.app.inject({ method: 'GET', url: '/console/../package.json' })).statusCode).toBe(404);
  });

  it('the live view is made only while watched, at most liveMaxFps per camera, and carries no plate text', async () => {
    const s = await signIn(c, USERS.technician);
    const headers = { ...HOST, cookie: s.cookie };
    const img = { width: 64, height: 32, data: Buffer.alloc(64 * 32 * 3, 90) };
    const result = { boxes: [{ box: [10, 10, 30, 10] as [number, number, number, number], score: 0.8 }], plates: [{ box: [10, 10, 30, 10] as [number, number, number, number], text: 'SECRET1', confidence: 0.9, charConfidences: [], candidates: [{ text: 'SECRET1', confidence: 0.9 }], detectorScore: 0.8 }] };
    // The first request starts the watch; frames analysed from then on are kept.
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/live', headers })).statusCode).toBe(200);
    c.live.offer('north', img, result);
    const live = await c.app.inject({ method: 'GET', url: '/api/v1/live', headers });
    const cam = live.json().cameras[0];
    expect(cam).toMatchObject({ id: 'north', analysedFps: 14.8, framesDropped: 1240 });
    expect(cam.frame).toMatchObject({ width: 64, height: 32, detections: [{ box: [10, 10, 30, 10], score: 0.8 }], plates: [{ widthPx: 30, readConfidence: 0.9 }], neededPlateWidthPx: 30 });
    expect(live.body).not.toContain('SECRET1');
    const jpeg = await c.app.inject({ method: 'GET', url: cam.frame.imageUrl, headers });
    expect(jpeg.statusCode).toBe(200);
    expect(jpeg.headers['content-type']).toBe('image/jpeg');
    expect(jpeg.headers['cache-control']).toBe('no-store');
    expect(jpeg.rawPayload.subarray(0, 2).toString('hex')).toBe('ffd8');
  });
});

describe('console sessions (unit)', () => {
  it('ends a session after the idle time or the maximum length, and drops the least recently active past the bound', () => {
    const s = new ConsoleSessions({ idleMinutes: 10, maxSessionHours: 1 }, 2);
    const t0 = 1_000_000;
    const a = s.open({ username: 'a', role: 'investigator' }, t0);
    expect('session' in s.find(a.id, t0 + 9 * 60_000)).toBe(true);
    expect(s.find(a.id, t0 + 11 * 60_000)).toEqual({ ended: 'idle' });
    const b = s.open({ username: 'b', role: 'investigator' }, t0);
    for (let m = 5; m <= 60; m += 5) s.touch(b, t0 + m * 60_000);
    expect(s.find(b.id, t0 + 61 * 60_000)).toEqual({ ended: 'expired' });
    const c1 = s.open({ username: 'c', role: 'technician' }, t0);
    const d = s.open({ username: 'd', role: 'technician' }, t0 + 1);
    s.open({ username: 'e', role: 'technician' }, t0 + 2);
    expect(s.find(c1.id, t0 + 3)).toEqual({ ended: 'unknown' });
    expect('session' in s.find(d.id, t0 + 3)).toBe(true);
  });
});
