import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AccessConfig } from '../../config/schema.js';
import { maySeeReads, type PublicUser, type Role } from '../../access/users.js';
import type { ConsoleContext } from '../console.js';
import type { HealthReport } from '../../health/health.js';
import { clearedSessionCookie, csrfMatches, isLoopbackHost, sessionCookie, sessionCookieValue, type ConsoleSession } from './console-sessions.js';
import { ErrorBody, LoginBody } from './schemas.js';
import type { AccessLog, ReadQueries, Users } from './services.js';

// The web console's routes under /api/v1 (docs/console.md): sign-in to a cookie session, the
// technician's live view and device health. Searches, reads and images go through the query API's
// own routes, which accept the session cookie as they accept a bearer token.

const PREFIX = '/api/v1';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Polled by the console (live view, health): does not count as user action for the idle timeout. */
    consolePassive?: boolean;
  }
}

export type DeniedLog = (req: FastifyRequest, user: string, parameters: Record<string, unknown>) => unknown;

const SIGNED_OUT = { error: 'signed out: sign in again' };

/**
 * A state-changing request must come from this origin: the Origin header, when the browser sends
 * one, names this host, and Fetch Metadata does not say cross-site. SameSite=Strict already keeps
 * the cookie off cross-site requests; this and the CSRF token are the second and third locks.
 */
function sameOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * For the query API's onRequest hook when a request has no Authorization header: the user of the
 * session cookie (set on `req.apiUser`), or an answer already sent (401 without a live session,
 * 403 for a state-changing request without the session's CSRF token or from another origin).
 */
export function sessionAuthenticator(ctx: ConsoleContext, users: Users, denied: DeniedLog) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<ConsoleSession | undefined> => {
    const secure = isLoopbackHost(req.headers.host);
    const id = sessionCookieValue(req.headers.cookie);
    const found = ctx.sessions.find(id);
    if (!('session' in found)) {
      if (id) reply.header('set-cookie', clearedSessionCookie(secure));
      const why = found.ended === 'idle' ? `signed out after ${ctx.config.idleMinutes} minutes without activity` : found.ended === 'expired' ? 'session ended: sign in again' : undefined;
      await reply.code(401).send(why ? { error: why, ended: found.ended } : { error: 'authentication required: sign in to the console, or send Authorization: Bearer <token> from POST /api/v1/login' });
      return undefined;
    }
    const { session } = found;
    const user = users.get(session.username);
    // P6: a disabled account or a changed password ends its console sessions at once, as its tokens.
    if (!user || user.disabled || (user.tokenGeneration ?? 0) !== session.tokenGeneration) {
      ctx.sessions.close(session.id);
      reply.header('set-cookie', clearedSessionCookie(secure));
      await reply.code(401).send(SIGNED_OUT);
      return undefined;
    }
    const { passwordHash: _h, ...pub } = user;
    req.apiUser = pub;
    if (!SAFE_METHODS.has(req.method)) {
      const why = !sameOrigin(req) ? 'cross-origin request' : !csrfMatches(session, req.headers['x-csrf-token']) ? 'missing or wrong CSRF token' : undefined;
      if (why) {
        await denied(req, user.username, { why });
        await reply.code(403).send({ error: `forbidden: ${why}` });
        return undefined;
      }
    }
    if (!req.routeOptions.config.consolePassive) ctx.sessions.touch(session);
    return session;
  };
}

/** What the console learns about the signed-in person; no password hash, no reads. */
function whoami(user: PublicUser, ctx: ConsoleContext, session: ConsoleSession | undefined) {
  return {
    username: user.username,
    role: user.role,
    trainingValidUntil: user.trainingValidUntil,
    maySeeReads: maySeeReads(user),
    idleMinutes: ctx.config.idleMinutes,
    ...(session ? { csrfToken: session.csrfToken, idleExpiresAt: ctx.sessions.idleExpiresAt(session) } : {}),
  };
}

const Whoami = Type.Object({
  username: Type.String(), role: Type.String(), trainingValidUntil: Type.Union([Type.String(), Type.Null()]), maySeeReads: Type.Boolean(), idleMinutes: Type.Integer(),
  csrfToken: Type.Optional(Type.String()), idleExpiresAt: Type.Optional(Type.String()),
});
const CameraParams = Type.Object({ camera: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }) });
const FrameQuery = Type.Object({ seq: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false });

export interface ConsoleRoutesOptions {
  ctx: ConsoleContext;
  users: Users;
  reads: ReadQueries;
  accessLog: AccessLog;
  access: AccessConfig;
  health: () => HealthReport;
  denied: DeniedLog;
  /** The session of the request being answered (set by the query API's hook), if it came with the cookie. */
  sessionOf: (req: FastifyRequest) => ConsoleSession | undefined;
}

/** Registered by the query API inside its scope, so its authentication hook and error handler apply. */
export async function consoleRoutes(app: FastifyInstance, opts: ConsoleRoutesOptions): Promise<void> {
  const { ctx, users, reads, accessLog, denied } = opts;
  // The clock is asked of other programs (timedatectl, chronyc): at most every 30 s, not per poll.
  let clockCache: { atMs: number; value: Promise<unknown> } | undefined;
  const clock = () => {
    if (!ctx.clock) return Promise.resolve(undefined);
    if (!clockCache || Date.now() - clockCache.atMs > 30_000) clockCache = { atMs: Date.now(), value: ctx.clock().catch(() => undefined) };
    return clockCache.value;
  };

  const requireRole = async (req: FastifyRequest, reply: FastifyReply, roles: Role[], what: string): Promise<PublicUser | undefined> => {
    const user = req.apiUser!;
    if (roles.includes(user.role) && !user.disabled) return user;
    await denied(req, user.username, { why: `${what} is for ${roles.join(' and ')}s` });
    await reply.code(403).send({ error: `forbidden: ${what} is for ${roles.join(' and ')}s` });
    return undefined;
  };

  app.post<{ Body: typeof LoginBody.static }>(`${PREFIX}/session`, {
    schema: { summary: 'Sign in to the web console: a session cookie (httpOnly, SameSite=Strict) and a CSRF token', security: [], body: LoginBody, response: { 200: Whoami, 401: ErrorBody, 403: ErrorBody } },
    config: { rateLimit: { max: opts.access.loginRateLimitPerMinute, timeWindow: 60_000 } },
  }, async (req, reply) => {
    // Login CSRF: a page elsewhere must not sign this browser in to someone else's account.
    if (!sameOrigin(req)) return reply.code(403).send({ error: 'forbidden: cross-origin request' });
    const result = await users.login(req.body.username, req.body.password, req.ip);
    // P6: the same answer for an unknown user, a wrong password, a disabled or a locked account.
    if (!result.ok) return reply.code(401).send({ error: 'invalid username or password' });
    const session = ctx.sessions.open(result.user);
    reply.header('set-cookie', sessionCookie(session.id, isLoopbackHost(req.headers.host)));
    return whoami(result.user, ctx, session);
  });

  app.get(`${PREFIX}/session`, {
    schema: { summary: 'Who is signed in (and the CSRF token of a console session); counts as activity', response: { 200: Whoami } },
  }, async (req) => whoami(req.apiUser!, ctx, opts.sessionOf(req)));

  app.delete(`${PREFIX}/session`, {
    schema: { summary: 'Sign out of the web console', response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const session = opts.sessionOf(req);
    if (session) ctx.sessions.close(session.id);
    return reply.header('set-cookie', clearedSessionCookie(isLoopbackHost(req.headers.host))).code(204).send();
  });

  // Device health for every signed-in role: counts and ages only (P1), no read (P8).
  app.get(`${PREFIX}/device`, {
    schema: { summary: 'Device health for the console: cameras, models, hot lists, broker and outbox, store and disk, clock', response: { 200: Type.Object({}, { additionalProperties: true }) } },
    config: { consolePassive: true },
  }, async () => {
    const u = reads.usage();
    return {
      now: new Date().toISOString(),
      health: opts.health(),
      store: { reads: u.reads, usedBytes: u.usedBytes, mapSizeBytes: u.mapSizeBytes, fsFreeBytes: Number.isFinite(u.fsFreeBytes) ? u.fsFreeBytes : null, corruptSkipped: reads.corruptSkipped },
      clock: (await clock()) ?? null,
    };
  });

  const liveRoles: Role[] = ['technician', 'administrator'];

  // The self-test from the page (technician, administrator): run in a child process at a lower
  // priority, one at a time (a second request joins the run), so the daemon's loop never waits on
  // it. Its report holds checks and advice, counts at most: no read (P8).
  app.post(`${PREFIX}/device/selftest`, {
    schema: { summary: 'Run the self-test beside the daemon (models, broker, clock, disk, store; not the cameras or pins it holds) and answer its checks with what to do', response: { 200: Type.Object({}, { additionalProperties: true }), 404: ErrorBody } },
  }, async (req, reply) => {
    const user = await requireRole(req, reply, liveRoles, 'the self-test');
    if (!user) return reply;
    if (!ctx.selftest) return reply.code(404).send({ error: 'the self-test is not available here: run alpr-edge selftest over SSH' });
    const report = await ctx.selftest.run();
    accessLog.append({ user: user.username, action: 'device.selftest', parameters: { ok: report.ok, failed: report.checks.filter((c) => c.status === 'fail').map((c) => c.check), via: 'console' }, result: 'ok' });
    return report;
  });

  app.get(`${PREFIX}/device/selftest`, {
    schema: { summary: 'The newest self-test report of this daemon, if one was run', response: { 200: Type.Object({}, { additionalProperties: true }) } },
    config: { consolePassive: true },
  }, async (req, reply) => {
    if (!(await requireRole(req, reply, liveRoles, 'the self-test'))) return reply;
    return { available: ctx.selftest !== undefined, report: ctx.selftest?.lastReport() ?? null };
  });

  // The live view (technician, administrator): the newest analysed frame of each camera with the
  // detector's boxes and each plate's width and sharpness; never plate text, never a stored read (P8).
  app.get(`${PREFIX}/live`, {
    schema: { summary: 'Live view: each camera\'s newest analysed frame (boxes, plate widths, sharpness; no plate text) with fps and drops', response: { 200: Type.Object({}, { additionalProperties: true }) } },
    config: { consolePassive: true },
  }, async (req, reply) => {
    if (!(await requireRole(req, reply, liveRoles, 'the live view'))) return reply;
    ctx.live?.watch();
    const report = opts.health();
    const cameras = await Promise.all(report.cameras.map(async (c) => {
      const f = await ctx.live?.frame(c.id);
      const { jpeg: _jpeg, ...frame } = f ?? { jpeg: undefined };
      return {
        id: c.id, state: c.state, reason: c.reason ?? null, analysedFps: c.analysedFps, framesIn: c.framesIn, framesDropped: c.framesDropped,
        framesAnalysed: c.framesAnalysed, lastFrameAgeMs: c.lastFrameAgeMs,
        frame: f ? { ...frame, imageUrl: `${PREFIX}/live/${encodeURIComponent(c.id)}/frame.jpg?seq=${f.seq}` } : null,
      };
    }));
    return { refreshMs: Math.round(1000 / ctx.config.liveMaxFps), cameras };
  });

  app.get<{ Params: typeof CameraParams.static; Querystring: typeof FrameQuery.static }>(`${PREFIX}/live/:camera/frame.jpg`, {
    schema: { summary: 'Live view JPEG of one camera (the frame named by seq while it is kept, else the newest)', params: CameraParams, querystring: FrameQuery, response: { 404: ErrorBody } },
    config: { consolePassive: true },
  }, async (req, reply) => {
    if (!(await requireRole(req, reply, liveRoles, 'the live view'))) return reply;
    ctx.live?.watch();
    const f = await ctx.live?.frame(req.params.camera, req.query.seq);
    if (!f) return reply.code(404).send({ error: `no live frame of camera ${req.params.camera} yet` });
    return reply.type('image/jpeg').header('cache-control', 'no-store').header('x-frame-seq', String(f.seq)).send(f.jpeg);
  });
}
