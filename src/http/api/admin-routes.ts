import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AnchorFileError, parseAnchors } from '../../access/anchors.js';
import { LocalEntryError, LocalEntryStore, validateLocalEntry, type HotListChange } from '../../hotlist/local-entries.js';
import { ShellChangeQueue } from '../../hotlist/shell-changes.js';
import { maySeeReads, UserError, type PublicUser } from '../../access/users.js';
import { ExportError } from '../../store/export-bundle.js';
import { HoldError } from '../../store/evidence-holds.js';
import type { DeniedLog } from './console-routes.js';
import { localProposalRoutes } from './local-proposal-routes.js';
import type { AccessLog, DeviceSecrets, EvidenceHolds, Sharing, Users } from './services.js';
import { AnchorsBody, ErrorBody, ExportBody, ExportOut, LocalEntryBody, LocalEntryOut, LocalEntryRemoveBody, LocalEntryRemoveOut, PasswordBody, RefusalBody, SampleBody, ShareIdParams, ShareOut, TrainingBody, UserBody, UsernameParams, UserOut } from './schemas.js';

// Administration over the API (P6, P9, P14), for the console's Administration page and for scripts
// with a bearer token: users, the sharing requests on file, the access log's verification and an
// audit sample. Administrators with current training only (an audit sample opens plate text, P8);
// every action is in the access log, as from the shell (docs/operations.md).

const PREFIX = '/api/v1';
const ANCHORS_BODY_LIMIT_BYTES = 32 * 1_048_576;

function userOut(u: PublicUser, nowMs = Date.now()) {
  return {
    username: u.username, role: u.role, trainingValidUntil: u.trainingValidUntil, disabled: u.disabled, failedLogins: u.failedLogins,
    lockedUntil: u.lockedUntilMs !== undefined && u.lockedUntilMs > nowMs ? new Date(u.lockedUntilMs).toISOString() : null,
    createdAt: u.createdAt, createdBy: u.createdBy,
  };
}

export interface AdminRoutesOptions {
  holds: EvidenceHolds;
  accessLog: AccessLog;
  secrets: DeviceSecrets;
  users: Users;
  sharing: Sharing;
  denied: DeniedLog;
  /** Local hot-list entries (P11), sealed with the device keys (`secrets`) under `<stateDir>/hotlists`. */
  hotlist?: { stateDir: string; localEntryMaxDays: number };
  /** Exports of held reads go to a new directory under `dir` (`<stateDir>/exports`), never elsewhere. */
  exports?: { dir: string; deviceId: string };
}

/** Registered by the query API inside its scope: its authentication hook, CSRF check and error handler apply. */
export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { holds, accessLog, secrets, users, sharing, denied, hotlist, exports } = opts;

  const requireAdmin = async (req: FastifyRequest, reply: FastifyReply): Promise<PublicUser | undefined> => {
    const user = req.apiUser!;
    if (user.role === 'administrator' && maySeeReads(user)) return user;
    const why = user.role === 'administrator' ? 'training has expired (P8)' : 'administration is for administrators';
    await denied(req, user.username, { why });
    await reply.code(403).send({ error: `forbidden: ${why}` });
    return undefined;
  };
  /** A refused change (bad name, short password, unknown user) is 422 naming the field. */
  const userChange = async <T>(reply: FastifyReply, change: () => Promise<T> | T): Promise<T | FastifyReply> => {
    try {
      return await change();
    } catch (err) {
      if (err instanceof UserError) return reply.code(422).send({ error: err.message, field: err.field });
      throw err;
    }
  };

  app.get(`${PREFIX}/users`, {
    schema: { summary: 'Users (no password hashes), who is locked out', response: { 200: Type.Array(UserOut) } },
  }, async (req, reply) => {
    if (!(await requireAdmin(req, reply))) return reply;
    return users.list().map((u) => userOut(u));
  });

  app.post<{ Body: typeof UserBody.static }>(`${PREFIX}/users`, {
    schema: { summary: 'Add a user (P6: one credential per person)', body: UserBody, response: { 201: UserOut, 422: ErrorBody } },
  }, async (req, reply) => {
    const admin = await requireAdmin(req, reply);
    if (!admin) return reply;
    const added = await userChange(reply, () => users.add(req.body, admin.username));
    return 'username' in added ? reply.code(201).send(userOut(added)) : added;
  });

  // The user actions that take no body: an administrator changes one user, answered with that user.
  const userAction = (action: string, summary: string, change: (username: string, by: string) => void) =>
    app.post<{ Params: typeof UsernameParams.static }>(`${PREFIX}/users/:username/${action}`, {
      schema: { summary, params: UsernameParams, response: { 200: UserOut, 422: ErrorBody } },
    }, async (req, reply) => {
      const admin = await requireAdmin(req, reply);
      if (!admin) return reply;
      const r = await userChange(reply, () => change(req.params.username, admin.username));
      return r === undefined ? userOut(users.list().find((u) => u.username === req.params.username)!) : r;
    });
  userAction('disable', 'Disable a user: their tokens and console sessions end at once', (name, by) => users.disable(name, by));
  userAction('enable', 'Enable a disabled user: they sign in again with their password; tokens and sessions ended by the disable stay ended', (name, by) => users.enable(name, by));
  userAction('unlock', 'Lift the lockout of an enabled user (too many failed sign-ins): they sign in again with their own password; tokens and sessions are untouched', (name, by) => users.unlock(name, by));

  app.post<{ Params: typeof UsernameParams.static; Body: typeof PasswordBody.static }>(`${PREFIX}/users/:username/password`, {
    schema: { summary: 'Set a user\'s password (and lift a lockout)', params: UsernameParams, body: PasswordBody, response: { 200: UserOut, 422: ErrorBody } },
  }, async (req, reply) => {
    const admin = await requireAdmin(req, reply);
    if (!admin) return reply;
    const r = await userChange(reply, () => users.setPassword(req.params.username, req.body.password, admin.username));
    return r === undefined ? userOut(users.list().find((u) => u.username === req.params.username)!) : r;
  });

  app.post<{ Params: typeof UsernameParams.static; Body: typeof TrainingBody.static }>(`${PREFIX}/users/:username/training`, {
    schema: { summary: 'Set a user\'s training date (P8: reads are shown only until it passes)', params: UsernameParams, body: TrainingBody, response: { 200: UserOut, 422: ErrorBody } },
  }, async (req, reply) => {
    const admin = await requireAdmin(req, reply);
    if (!admin) return reply;
    const r = await userChange(reply, () => users.setTraining(req.params.username, req.body.trainingValidUntil, admin.username));
    return r === undefined ? userOut(users.list().find((u) => u.username === req.params.username)!) : r;
  });

  app.get(`${PREFIX}/shares`, {
    schema: { summary: 'Sharing requests on file (P14), newest first', response: { 200: Type.Array(ShareOut) } },
  }, async (req, reply) => {
    if (!(await requireAdmin(req, reply))) return reply;
    return sharing.list().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  });

  app.post<{ Params: typeof ShareIdParams.static; Body: typeof RefusalBody.static }>(`${PREFIX}/shares/:id/refuse`, {
    schema: { summary: 'Refuse a pending sharing request with a reason; it stays on file (P14)', params: ShareIdParams, body: RefusalBody, response: { 200: ShareOut, 422: ErrorBody } },
  }, async (req, reply) => {
    const admin = await requireAdmin(req, reply);
    if (!admin) return reply;
    return sharing.refuse(req.params.id, admin, req.body.reason);
  });

  if (hotlist) {
    const local = new LocalEntryStore(hotlist.stateDir, secrets);
    // The access log is the record (P6); the queue lets the hot-list extension publish the change
    // on MQTT at its next check, as it does the shell's (docs/hotlists.md).
    const changeLogs = [accessLog.hotListChanges, new ShellChangeQueue(hotlist.stateDir, secrets)];
    const logChange = (change: HotListChange) => changeLogs.forEach((l) => l.append(change));
    localProposalRoutes(app, { accessLog, secrets, users, denied, local, stateDir: hotlist.stateDir, localEntryMaxDays: hotlist.localEntryMaxDays, logChange, requireAdmin });

    app.get(`${PREFIX}/hotlist/local`, {
      schema: { summary: 'Local hot-list entries with who entered and approved each (P11); opened with the device keys', response: { 200: Type.Array(LocalEntryOut) } },
    }, async (req, reply) => {
      const admin = await requireAdmin(req, reply);
      if (!admin) return reply;
      const list = local.load();
      accessLog.append({ user: admin.username, action: 'hotlist.view', parameters: { list: 'local', version: list.version, entries: list.entries.length, via: 'api' }, result: 'ok' });
      return [...list.entries].map((e) => ({
        plate: e.plate, state: e.state, type: e.type, caseNumber: e.local?.caseNumber ?? e.recordNumber, synopsis: e.local?.synopsis ?? e.reason,
        enteredBy: e.local?.enteredBy ?? null, approvedBy: e.local?.approvedBy ?? null, enteredAt: e.enteredAt, expiresAt: e.expiresAt,
        partial: e.partial, fuzzy: e.fuzzy, expired: e.expiresAt !== undefined && e.expiresAt !== null && Date.parse(e.expiresAt) <= Date.now(),
      }));
    });

    app.post<{ Body: typeof LocalEntryBody.static }>(`${PREFIX}/hotlist/local`, {
      schema: { summary: 'Add a local entry: the signed-in administrator enters and approves it (P11), as `hotlist add` by an administrator', body: LocalEntryBody, response: { 201: LocalEntryOut, 422: ErrorBody } },
    }, async (req, reply) => {
      const admin = await requireAdmin(req, reply);
      if (!admin) return reply;
      const input = { ...req.body, enteredBy: admin.username, approvedBy: admin.username };
      try {
        const entry = await validateLocalEntry(input, users, hotlist.localEntryMaxDays);
        const list = local.add(entry);
        logChange({ at: new Date().toISOString(), action: 'local-added', actor: admin.username, list: 'local', version: list.version, detail: { plate: entry.plate, state: entry.state, type: entry.type, caseNumber: entry.local!.caseNumber, approvedBy: entry.local!.approvedBy, partial: entry.partial, expiresAt: entry.expiresAt, via: 'api' } });
        return reply.code(201).send({
          plate: entry.plate, state: entry.state, type: entry.type, caseNumber: entry.local!.caseNumber, synopsis: entry.local!.synopsis,
          enteredBy: entry.local!.enteredBy, approvedBy: entry.local!.approvedBy, enteredAt: entry.enteredAt, expiresAt: entry.expiresAt, partial: entry.partial, fuzzy: entry.fuzzy, expired: false,
        });
      } catch (err) {
        if (!(err instanceof LocalEntryError)) throw err;
        // P6: a refused local entry is on the record like an added one (the plate sealed, P16).
        accessLog.append({ user: admin.username, action: 'hotlist.change', parameters: { change: 'local-refused', list: 'local', plate: input.plate, caseNumber: input.caseNumber, synopsis: input.synopsis, problem: err.message, field: err.field, via: 'api' }, result: 'refused' });
        return reply.code(422).send({ error: err.message, field: err.field });
      }
    });

    app.post<{ Body: typeof LocalEntryRemoveBody.static }>(`${PREFIX}/hotlist/local/remove`, {
      schema: { summary: 'Remove the local entries for a plate and case number (P11: an administrator, as `hotlist remove`)', body: LocalEntryRemoveBody, response: { 200: LocalEntryRemoveOut, 422: ErrorBody } },
    }, async (req, reply) => {
      const admin = await requireAdmin(req, reply);
      if (!admin) return reply;
      const { plate, caseNumber } = req.body;
      const removed = local.remove(plate, caseNumber);
      const version = local.load().version;
      if (removed === 0) {
        // P6: a removal that found nothing is on the record too (the plate sealed, P16).
        accessLog.append({ user: admin.username, action: 'hotlist.change', parameters: { change: 'local-remove-refused', list: 'local', plate, caseNumber, problem: 'no such local entry', via: 'api' }, result: 'refused' });
        return reply.code(422).send({ error: `no local entry for plate ${plate} with case number ${caseNumber}`, field: 'plate' });
      }
      logChange({ at: new Date().toISOString(), action: 'local-removed', actor: admin.username, list: 'local', version, detail: { plate, caseNumber, removed, via: 'api' } });
      return { removed, version };
    });
  }

  if (exports) {
    app.post<{ Body: typeof ExportBody.static }>(`${PREFIX}/exports`, {
      schema: { summary: 'Export a hold\'s reads as a signed bundle into a new directory under <stateDir>/exports (P4; P14: for another agency, an approved sharing request)', body: ExportBody, response: { 201: ExportOut, 422: ErrorBody } },
    }, async (req, reply) => {
      const admin = await requireAdmin(req, reply);
      if (!admin) return reply;
      const share = req.body.shareRequest ? sharing.get(req.body.shareRequest) : undefined;
      if (req.body.shareRequest && !share) return reply.code(422).send({ error: `no sharing request ${req.body.shareRequest}`, field: 'shareRequest' });
      // The page names no path: the bundle goes to a fresh directory the server picks (P16: 0700).
      const outDir = join(exports.dir, `${req.body.hold}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      try {
        // exportHold logs the export (with the manifest's hash) or its refusal in the access log.
        const { manifest, manifestSha256 } = holds.export({ hold: req.body.hold, outDir, by: admin.username, deviceId: exports.deviceId, ...(share ? { share } : {}) });
        return reply.code(201).send({ dir: outDir, hold: manifest.hold, caseNumber: manifest.caseNumber, files: Object.keys(manifest.files).length, manifestSha256, publicKeyFingerprint: manifest.publicKeyFingerprint, createdAt: manifest.createdAt, ...(share ? { shareRequest: share.id } : {}) });
      } catch (err) {
        if (err instanceof HoldError || err instanceof ExportError) return reply.code(422).send({ error: err.message, field: err.field });
        throw err;
      }
    });
  }

  app.get(`${PREFIX}/audit/verify`, {
    schema: { summary: 'Verify the access log\'s hash chain and that its sealed parameters open (P6)', response: { 200: Type.Object({}, { additionalProperties: true }) } },
  }, async (req, reply) => {
    const admin = await requireAdmin(req, reply);
    if (!admin) return reply;
    const r = accessLog.verify();
    accessLog.append({ user: admin.username, action: 'audit.verify', parameters: { ok: r.ok, entries: r.entries, ...(r.firstBadSeq !== undefined ? { firstBadSeq: r.firstBadSeq } : {}), via: 'api' }, result: 'ok' });
    return r;
  });

  // The device identity that signed anchors carry; the daemon passes it with the exports' options.
  const deviceId = exports?.deviceId;
  if (deviceId) {
    app.post<{ Body: typeof AnchorsBody.static }>(`${PREFIX}/audit/verify-anchors`, {
      // A year of heads at the shortest interval is a few MiB; the default body limit is 1 MiB.
      bodyLimit: ANCHORS_BODY_LIMIT_BYTES,
      schema: { summary: 'Verify the access log against the signed heads the central side kept (`audit verify --anchors`): the anchors file `alpr-edge watch` saved, as text/plain', body: AnchorsBody, response: { 200: Type.Object({}, { additionalProperties: true }), 422: ErrorBody } },
    }, async (req, reply) => {
      const admin = await requireAdmin(req, reply);
      if (!admin) return reply;
      let anchors;
      try {
        anchors = accessLog.checkAnchors(parseAnchors(req.body, 'the anchors file'), deviceId);
      } catch (err) {
        if (!(err instanceof AnchorFileError)) throw err;
        accessLog.append({ user: admin.username, action: 'audit.verify', parameters: { anchorsFile: 'unreadable', problem: err.message, via: 'api' }, result: 'refused' });
        return reply.code(422).send({ error: err.message, field: err.field });
      }
      // P6: the local chain proves only that the file is consistent; heads that left the device show
      // whether it is the history that was anchored (docs/operations.md), as the shell's command.
      const chain = accessLog.verify();
      const r = { ...chain, ok: chain.ok && anchors.ok, anchors };
      const badSeq = r.firstBadSeq ?? anchors.firstDisagreement?.seq;
      accessLog.append({ user: admin.username, action: 'audit.verify', parameters: { ok: r.ok, entries: r.entries, ...(badSeq !== undefined ? { firstBadSeq: badSeq } : {}), anchors: anchors.anchors, anchorProblems: anchors.problems.length, via: 'api' }, result: 'ok' });
      return r;
    });
  }

  app.post<{ Body: typeof SampleBody.static }>(`${PREFIX}/audit/sample`, {
    schema: { summary: 'Draw a reproducible random sample of inquiries from a period, signed by the device key (P9)', body: SampleBody, response: { 200: Type.Object({}, { additionalProperties: true }), 422: ErrorBody } },
  }, async (req, reply) => {
    const admin = await requireAdmin(req, reply);
    if (!admin) return reply;
    const from = new Date(req.body.from);
    const to = new Date(req.body.to);
    if (to <= from) return reply.code(422).send({ error: '`to` must be after `from`', field: 'to' });
    // The administrator sees what was searched: sealed plate text is opened in the sample (P9, P16),
    // exactly as `alpr-edge audit sample` does; the body is signed like the shell's sample file.
    const sample = accessLog.sample({ from, to, n: req.body.n, seed: req.body.seed });
    const body = { ...sample, drawnBy: admin.username, publicKeyPem: secrets.signingPublicKeyPem };
    const signature = secrets.signDetached(Buffer.from(JSON.stringify(body))).toString('base64');
    accessLog.append({ user: admin.username, action: 'audit.sample', parameters: { from: sample.from, to: sample.to, n: req.body.n, seed: req.body.seed, drawn: sample.entries.length, via: 'api' }, result: 'ok' });
    return { ...body, signature };
  });
}
