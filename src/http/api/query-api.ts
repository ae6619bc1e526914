import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { Type } from '@sinclair/typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AccessConfig } from '../../config/schema.js';
import type { AccessAction } from '../../access/access-log.js';
import { ShareError } from '../../access/sharing.js';
import { TokenIssuer } from '../../access/tokens.js';
import { HTTP_BODY_LIMIT_BYTES } from '../app.js';
import { consoleRoutes, sessionAuthenticator } from './console-routes.js';
import { adminRoutes } from './admin-routes.js';
import type { ConsoleSession } from './console-sessions.js';
import { maySeeReads, type PublicUser } from '../../access/users.js';
import { HoldError } from '../../store/evidence-holds.js';
import type { ReadView } from '../../store/read-record.js';
import {
  ErrorBody, HoldBody, HoldNameParams, HoldOut, ImageParams, InquiryQuery, LoginBody, LoginReply, ReadIdParams, ReadOut,
  ReleaseQuery, SearchQuery, SearchReply, ShareBody, ShareIdParams, ShareOut, StoreStatusReply,
} from './schemas.js';
import type { QueryServices, Sharing, Users } from './services.js';
import { describeValidation, type SchemaProblem } from './validation-errors.js';

/** The narrow services (built in src/app.ts) and the settings the query API runs with. */
export interface QueryApiOptions extends QueryServices {
  users: Users;
  sharing: Sharing;
  access: AccessConfig;
  /** Where the local hot-list entries are, for the administration routes (absent: no such routes). */
  hotlist?: { stateDir: string; localEntryMaxDays: number };
  /** Where the administration routes write exports (absent: no export route). */
  exports?: { dir: string; deviceId: string };
}

declare module 'fastify' {
  interface FastifyRequest {
    apiUser?: PublicUser;
  }
}

const PREFIX = '/api/v1';

type ValidationProblem = SchemaProblem & { params?: { missingProperty?: string; additionalProperty?: string } };

/** What the caller sent in the part of the request a schema check failed on, and that part's schema. */
function failedPart(req: FastifyRequest, context: string | undefined): { schema: unknown; input: unknown } {
  const part = context === 'querystring' ? 'querystring' : context === 'params' ? 'params' : context === 'headers' ? 'headers' : 'body';
  const input = part === 'querystring' ? req.query : part === 'params' ? req.params : part === 'headers' ? req.headers : req.body;
  return { schema: (req.routeOptions.schema as Record<string, unknown> | undefined)?.[part], input };
}

/** The field a schema check failed on: a missing or unknown property, or the first step of the path. */
function fieldOf(v: ValidationProblem | undefined): string | undefined {
  return v?.params?.missingProperty ?? v?.params?.additionalProperty ?? (v?.instancePath?.split('/')[1] || undefined);
}
/**
 * Bad input Fastify refuses before a handler runs (malformed JSON, a `__proto__` or
 * `constructor.prototype` key, a body over the limit, an unknown content type): the status to answer
 * and what to tell the caller; undefined for anything else (a fault of ours: 500).
 */
export function badRequest(err: { statusCode?: number; code?: string; message: string }, bodyLimitBytes: number): { status: number; error: string } | undefined {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, error: `request body is larger than the limit of ${bodyLimitBytes} bytes` };
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return { status: 400, error: 'body is not valid JSON, or holds a __proto__ or constructor.prototype key' };
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return { status: err.statusCode, error: err.message };
  return undefined;
}

/** The reason, case number and plate a request carried (query or body), whatever else was wrong with it. */
function callerGave(req: FastifyRequest): { reason?: string; caseNumber?: string; plate?: string } {
  const out: { reason?: string; caseNumber?: string; plate?: string } = {};
  for (const source of [req.body, req.query]) {
    if (typeof source !== 'object' || source === null) continue;
    for (const key of ['reason', 'caseNumber', 'plate'] as const) {
      const v: unknown = Object.hasOwn(source, key) ? (source as Record<string, unknown>)[key] : undefined;
      if (typeof v === 'string' && out[key] === undefined) out[key] = v.slice(0, 500);
    }
  }
  return out;
}

/** Hits name the kind `look-alike`; searches and holds take that spelling as well as `lookalike`. */
function sameMatch<M extends string | undefined>(match: M): Exclude<M, 'look-alike'> | 'lookalike' {
  return (match === 'look-alike' ? 'lookalike' : match) as Exclude<M, 'look-alike'> | 'lookalike';
}

const UNAUTHORIZED = { error: 'authentication required: log in at POST /api/v1/login and send Authorization: Bearer <token>' };

/**
 * The query API (P1, P6–P8, P14) as a Fastify plugin under /api/v1. Every route but login needs a
 * bearer token; routes that return reads need an investigator or administrator with current
 * training and a `reason`; every inquiry, allowed or denied, is in the access log before the answer
 * leaves. No unauthenticated route returns a plate, image or location (P1).
 */
export async function queryApi(app: FastifyInstance, opts: QueryApiOptions): Promise<void> {
  const { reads, holds, accessLog, secrets, users, sharing } = opts;
  const tokens = new TokenIssuer(opts.access.tokenTtlS, secrets.apiTokenSecret());
  // The stand-in hash an unknown name is checked against is made now, not on the first failed login,
  // so even that one takes no longer than a wrong password (P6).
  await users.prepareLogin();
  // P16: parameters holding plate text are sealed with the device key.
  const log = (user: string, action: AccessAction, parameters: Record<string, unknown>, result: 'ok' | 'denied' | 'failed' | 'refused') =>
    accessLog.append({ user, action, parameters, result });
  // P6/P7: a denied call is logged with the reason, case number (and plate) the caller gave, as an
  // allowed one is, so an audit sees what was asked for and why it was turned down.
  const denied = (req: FastifyRequest, user: string, parameters: Record<string, unknown>) =>
    log(user, 'api.denied', { route: req.routeOptions.url, ...callerGave(req), ...parameters }, 'denied');

  await app.register(swagger, {
    openapi: {
      info: { title: 'alpr-edge query API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(rateLimit, { global: false });
  app.addSchema(ErrorBody);

  // A failed schema check names the field (400); it is logged like any refused inquiry (P7).
  app.setErrorHandler(async (err: Error & { validation?: ValidationProblem[]; statusCode?: number; code?: string; validationContext?: string }, req, reply) => {
    if (err.validation) {
      const name = fieldOf(err.validation[0]);
      const { schema, input } = failedPart(req, err.validationContext);
      const error = describeValidation(err.validation, schema, input);
      if (req.apiUser) await denied(req, req.apiUser.username, { problem: error });
      return reply.code(400).send({ error, ...(name ? { field: name } : {}) });
    }
    if (err instanceof HoldError || err instanceof ShareError) return reply.code(422).send({ error: err.message, field: err.field });
    if (err.statusCode === 429) return reply.code(429).send({ error: err.message });
    const bad = badRequest(err, app.initialConfig.bodyLimit ?? HTTP_BODY_LIMIT_BYTES);
    if (bad) {
      // The caller's mistake, refused before any handler ran: one line without a stack, and (for a
      // known user) an access-log entry like any refused request (P6).
      req.log.info({ route: req.routeOptions.url, code: err.code, status: bad.status }, 'bad request refused');
      if (req.apiUser) await denied(req, req.apiUser.username, { problem: bad.error });
      return reply.code(bad.status).send({ error: bad.error });
    }
    req.log.error({ err, route: req.routeOptions.url }, 'query API error');
    return reply.code(500).send({ error: 'internal error; see the device log' });
  });

  // The web console (docs/console.md), when the HTTP app serves it: its session cookie is accepted
  // wherever a bearer token is, with a CSRF token on every state-changing request.
  const consoleCtx = app.consoleContext;
  const sessions = new WeakMap<FastifyRequest, ConsoleSession>();
  const bySession = consoleCtx ? sessionAuthenticator(consoleCtx, users, denied) : undefined;

  // Authentication runs before validation, so nothing about a route's data leaks to strangers (P1).
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.url === `${PREFIX}/login`) return;
    if (consoleCtx && req.routeOptions.url === `${PREFIX}/session` && req.method === 'POST') return;
    const header = req.headers.authorization;
    if (header === undefined && bySession) {
      const session = await bySession(req, reply);
      if (session) sessions.set(req, session);
      return;
    }
    const claims = header?.startsWith('Bearer ') ? tokens.verify(header.slice(7)) : undefined;
    const user = claims ? users.get(claims.sub) : undefined;
    // P6: a disabled account or a changed password ends the tokens issued before, at once.
    if (!claims || !user || user.disabled || claims.gen !== (user.tokenGeneration ?? 0)) return reply.code(401).send(UNAUTHORIZED);
    const { passwordHash: _h, ...pub } = user;
    req.apiUser = pub;
  });

  /** P8: only trained investigators and administrators see reads; a refusal is logged. */
  const requireReadAccess = async (req: FastifyRequest, reply: FastifyReply): Promise<PublicUser | undefined> => {
    const user = req.apiUser!;
    if (maySeeReads(user)) return user;
    const why = user.role === 'technician' ? 'technicians never see reads (P8)' : 'training has expired (P8)';
    await denied(req, user.username, { why });
    await reply.code(403).send({ error: `forbidden: ${why}` });
    return undefined;
  };

  const view = (r: ReadView) => ({ ...r, images: { plate: `${PREFIX}/reads/${r.id}/images/plate`, overview: `${PREFIX}/reads/${r.id}/images/overview` } });

  app.post<{ Body: typeof LoginBody.static }>(`${PREFIX}/login`, {
    schema: { summary: 'Exchange a password for a short-lived token', security: [], body: LoginBody, response: { 200: LoginReply, 401: ErrorBody } },
    config: { rateLimit: { max: opts.access.loginRateLimitPerMinute, timeWindow: 60_000 } },
  }, async (req, reply) => {
    const result = await users.login(req.body.username, req.body.password, req.ip);
    // P6: unknown user, wrong password, disabled or locked: one answer, so none can be told apart.
    if (!result.ok) return reply.code(401).send({ error: 'invalid username or password' });
    const t = tokens.issue(result.user.username, result.user.role, result.user.tokenGeneration ?? 0);
    return { ...t, role: result.user.role };
  });

  app.get<{ Querystring: SearchQuery }>(`${PREFIX}/reads`, {
    schema: { summary: 'Search reads (P7: reason required)', querystring: SearchQuery, response: { 200: SearchReply, 400: ErrorBody, 403: ErrorBody } },
  }, async (req, reply) => {
    const user = await requireReadAccess(req, reply);
    if (!user) return reply;
    const q = { ...req.query, match: sameMatch(req.query.match) };
    const page = reads.search({ plate: q.plate, match: q.match, cameraId: q.camera, fromMs: q.from ? Date.parse(q.from) : undefined, toMs: q.to ? Date.parse(q.to) : undefined, limit: q.limit, cursor: q.cursor });
    // The entry commits before the answer leaves: no read is seen without a record of who saw it (P6).
    await log(user.username, 'search', { reason: q.reason, caseNumber: q.caseNumber, plate: q.plate, match: q.match, camera: q.camera, from: q.from, to: q.to, cursor: q.cursor, results: page.reads.length }, 'ok');
    return { reads: page.reads.map(view), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}), skippedCorrupt: page.skippedCorrupt };
  });

  app.get<{ Params: typeof ReadIdParams.static; Querystring: InquiryQuery }>(`${PREFIX}/reads/:id`, {
    schema: { summary: 'One read (P7: reason required)', params: ReadIdParams, querystring: InquiryQuery, response: { 200: ReadOut, 404: ErrorBody } },
  }, async (req, reply) => {
    const user = await requireReadAccess(req, reply);
    if (!user) return reply;
    const read = reads.get(req.params.id);
    await log(user.username, 'read.view', { reason: req.query.reason, caseNumber: req.query.caseNumber, readId: req.params.id }, read ? 'ok' : 'failed');
    if (!read) return reply.code(404).send({ error: 'no such read (or past retention, P3)' });
    return view(read);
  });

  app.get<{ Params: typeof ImageParams.static; Querystring: InquiryQuery }>(`${PREFIX}/reads/:id/images/:kind`, {
    schema: { summary: 'A read\'s plate crop or overview JPEG (P7: reason required)', params: ImageParams, querystring: InquiryQuery, response: { 404: ErrorBody } },
  }, async (req, reply) => {
    const user = await requireReadAccess(req, reply);
    if (!user) return reply;
    const jpeg = reads.image(req.params.id, req.params.kind);
    await log(user.username, 'image.view', { reason: req.query.reason, caseNumber: req.query.caseNumber, readId: req.params.id, kind: req.params.kind }, jpeg ? 'ok' : 'failed');
    if (!jpeg) return reply.code(404).send({ error: 'no such image (or past retention, P3)' });
    return reply.type('image/jpeg').header('cache-control', 'no-store').send(jpeg);
  });

  app.post<{ Body: HoldBody }>(`${PREFIX}/holds`, {
    schema: { summary: 'Place an evidence hold (P4)', body: HoldBody, response: { 201: HoldOut, 422: ErrorBody } },
  }, async (req, reply) => {
    const user = await requireReadAccess(req, reply);
    if (!user) return reply;
    const { query, ...rest } = req.body;
    const hold = holds.create({ ...rest, ...(query ? { query: { ...query, match: sameMatch(query.match) } } : {}) }, user.username);
    return reply.code(201).send(hold);
  });

  app.get(`${PREFIX}/holds`, { schema: { summary: 'List evidence holds', response: { 200: Type.Array(HoldOut) } } }, async (req, reply) => {
    const user = await requireReadAccess(req, reply);
    if (!user) return reply;
    return holds.list();
  });

  app.delete<{ Params: typeof HoldNameParams.static; Querystring: typeof ReleaseQuery.static }>(`${PREFIX}/holds/:name`, {
    schema: { summary: 'Release an evidence hold (its creator or an administrator)', params: HoldNameParams, querystring: ReleaseQuery, response: { 200: HoldOut, 403: ErrorBody, 422: ErrorBody } },
  }, async (req, reply) => {
    const user = await requireReadAccess(req, reply);
    if (!user) return reply;
    const hold = holds.get(req.params.name);
    if (hold && user.role !== 'administrator' && hold.createdBy !== user.username) {
      await denied(req, user.username, { hold: hold.name, why: 'not the creator or an administrator' });
      return reply.code(403).send({ error: 'forbidden: only the hold\'s creator or an administrator may release it' });
    }
    return holds.release(req.params.name, user.username, req.query.reason);
  });

  app.post<{ Body: ShareBody }>(`${PREFIX}/shares`, {
    schema: { summary: 'Record a sharing request from another agency (P14)', body: ShareBody, response: { 201: ShareOut, 422: ShareOut } },
  }, async (req, reply) => {
    const user = await requireReadAccess(req, reply);
    if (!user) return reply;
    const r = sharing.request(req.body, user.username);
    // P14: refused requests are kept on file and logged, and answered 422 with the reason.
    return reply.code(r.status === 'refused' ? 422 : 201).send(r);
  });

  app.post<{ Params: typeof ShareIdParams.static }>(`${PREFIX}/shares/:id/approve`, {
    schema: { summary: 'Approve a pending sharing request (administrator)', params: ShareIdParams, response: { 200: ShareOut, 403: ErrorBody, 422: ErrorBody } },
  }, async (req, reply) => {
    const user = req.apiUser!;
    if (user.role !== 'administrator' || !maySeeReads(user)) {
      await denied(req, user.username, { id: req.params.id, why: 'approver is not an administrator' });
      return reply.code(403).send({ error: 'forbidden: only an administrator can approve sharing requests (P14)' });
    }
    return sharing.approve(req.params.id, user);
  });

  app.get(`${PREFIX}/store/status`, {
    schema: { summary: 'Store counts for technicians (no plates, images or locations)', response: { 200: StoreStatusReply } },
  }, async () => {
    const u = reads.usage();
    return { reads: u.reads, usedBytes: u.usedBytes, holds: holds.list().filter((h) => !h.releasedAt).length, corruptSkipped: reads.corruptSkipped };
  });

  await app.register(adminRoutes, { holds, accessLog, secrets, users, sharing, denied, ...(opts.hotlist ? { hotlist: opts.hotlist } : {}), ...(opts.exports ? { exports: opts.exports } : {}) });
  if (consoleCtx) {
    await app.register(consoleRoutes, { ctx: consoleCtx, users, reads, accessLog, access: opts.access, health: consoleCtx.health, denied, sessionOf: (req) => sessions.get(req) });
  }

  app.get(`${PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
  // Swagger UI beside the document, registered after the authentication hook so its page, files and
  // copy of the document answer only a signed-in user (a console session in a browser, or a bearer
  // token). Its files are all same-origin, so the strict CSP of every answer holds; no logo (a data:
  // URL the CSP would refuse) and no online validator (no request leaves the device).
  // (`logo: null` turns the logo off at run time; the plugin's types know only a logo object.)
  await app.register(swaggerUi, { routePrefix: `${PREFIX}/docs`, logo: null as unknown as undefined, validatorUrl: false });
}
