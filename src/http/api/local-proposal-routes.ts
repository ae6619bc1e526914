import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { maySeeReads, type PublicUser } from '../../access/users.js';
import { LocalEntryError, validateLocalEntry, type HotListChange, type LocalEntryStore } from '../../hotlist/local-entries.js';
import { LocalEntryProposals } from '../../hotlist/local-proposals.js';
import type { DeniedLog } from './console-routes.js';
import type { AccessLog, DeviceSecrets, Users } from './services.js';
import { ErrorBody, LocalEntryBody, LocalEntryOut, LocalProposalOut, ProposalIdParams, RefusalBody } from './schemas.js';

// P11 in two steps, as the policy writes it: a member (investigator or administrator) enters a local
// hot-list entry with a case number and a synopsis; an administrator approves it (or refuses it with
// a reason). Only an approved entry reaches the local list and is matched against reads. Every step
// is in the access log, plates sealed (P6, P16).

const PREFIX = '/api/v1';

export interface LocalProposalRoutesOptions {
  accessLog: AccessLog;
  secrets: DeviceSecrets;
  users: Users;
  denied: DeniedLog;
  local: LocalEntryStore;
  stateDir: string;
  localEntryMaxDays: number;
  logChange: (change: HotListChange) => void;
  requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<PublicUser | undefined>;
}

/** Called inside the administration routes' scope: the API's authentication and CSRF apply. */
export function localProposalRoutes(app: FastifyInstance, o: LocalProposalRoutesOptions): void {
  const { accessLog, secrets, users, denied, local, localEntryMaxDays, logChange, requireAdmin } = o;
  const proposals = new LocalEntryProposals(o.stateDir, secrets, localEntryMaxDays);
  const log = (user: string, parameters: Record<string, unknown>, result: 'ok' | 'refused') =>
    accessLog.append({ user, action: 'hotlist.change', parameters: { list: 'local', via: 'api', ...parameters }, result });

  /** P8: investigators and administrators with current training; technicians never. */
  const requireMember = async (req: FastifyRequest, reply: FastifyReply): Promise<PublicUser | undefined> => {
    const user = req.apiUser!;
    if (user.role !== 'technician' && maySeeReads(user)) return user;
    const why = user.role === 'technician' ? 'local hot-list entries are entered by investigators and administrators (P8)' : 'training has expired (P8)';
    await denied(req, user.username, { why });
    await reply.code(403).send({ error: `forbidden: ${why}` });
    return undefined;
  };

  app.post<{ Body: typeof LocalEntryBody.static }>(`${PREFIX}/hotlist/local/proposals`, {
    schema: { summary: 'Enter a local hot-list entry for an administrator\'s approval (P11); it is not matched until approved', body: LocalEntryBody, response: { 201: LocalProposalOut, 422: ErrorBody } },
  }, async (req, reply) => {
    const member = await requireMember(req, reply);
    if (!member) return reply;
    try {
      // Everything P11 asks of the member now; the approval is the administrator's, later.
      const checked = await validateLocalEntry({ ...req.body, enteredBy: member.username }, users, localEntryMaxDays, Date.now(), 'pending');
      const proposal = proposals.add({
        plate: checked.plate, state: checked.state, type: checked.type, caseNumber: checked.local!.caseNumber, synopsis: checked.local!.synopsis,
        ...(req.body.expiresAt ? { expiresAt: checked.expiresAt! } : {}), fuzzy: checked.fuzzy ?? false, enteredBy: member.username,
      });
      log(member.username, { change: 'local-proposed', proposal: proposal.id, plate: proposal.plate, caseNumber: proposal.caseNumber, synopsis: proposal.synopsis }, 'ok');
      return reply.code(201).send(proposal);
    } catch (err) {
      if (!(err instanceof LocalEntryError)) throw err;
      log(member.username, { change: 'local-proposal-invalid', plate: req.body.plate, caseNumber: req.body.caseNumber, problem: err.message, field: err.field }, 'refused');
      return reply.code(422).send({ error: err.message, field: err.field });
    }
  });

  app.get(`${PREFIX}/hotlist/local/proposals`, {
    schema: { summary: 'Proposed local entries, newest first: an administrator sees all, a member their own', response: { 200: Type.Array(LocalProposalOut) } },
  }, async (req, reply) => {
    const member = await requireMember(req, reply);
    if (!member) return reply;
    const all = proposals.list();
    const shown = member.role === 'administrator' ? all : all.filter((p) => p.enteredBy === member.username);
    accessLog.append({ user: member.username, action: 'hotlist.view', parameters: { list: 'local-proposals', entries: shown.length, via: 'api' }, result: 'ok' });
    return shown;
  });

  app.post<{ Params: typeof ProposalIdParams.static }>(`${PREFIX}/hotlist/local/proposals/:id/approve`, {
    schema: { summary: 'Approve a proposed local entry (P11): it joins the local list, entered by the member, approved by this administrator', params: ProposalIdParams, response: { 200: LocalEntryOut, 422: ErrorBody } },
  }, async (req, reply) => {
    const admin = await requireAdmin(req, reply);
    if (!admin) return reply;
    const p = proposals.get(req.params.id);
    if (!p || p.status !== 'pending') return reply.code(422).send({ error: `no pending proposal ${req.params.id}`, field: 'id' });
    try {
      // Checked again now: the member may have been disabled or their training lapsed since (P8).
      const entry = await validateLocalEntry({ plate: p.plate, state: p.state, type: p.type, caseNumber: p.caseNumber, synopsis: p.synopsis, ...(p.expiresAt ? { expiresAt: p.expiresAt } : {}), fuzzy: p.fuzzy, enteredBy: p.enteredBy, approvedBy: admin.username }, users, localEntryMaxDays);
      const list = local.add(entry);
      proposals.decide(p.id, { status: 'approved', by: admin.username });
      logChange({ at: new Date().toISOString(), action: 'local-added', actor: admin.username, list: 'local', version: list.version, detail: { plate: entry.plate, state: entry.state, type: entry.type, caseNumber: entry.local!.caseNumber, enteredBy: entry.local!.enteredBy, approvedBy: entry.local!.approvedBy, proposal: p.id, partial: entry.partial, expiresAt: entry.expiresAt, via: 'api' } });
      return {
        plate: entry.plate, state: entry.state, type: entry.type, caseNumber: entry.local!.caseNumber, synopsis: entry.local!.synopsis,
        enteredBy: entry.local!.enteredBy, approvedBy: entry.local!.approvedBy, enteredAt: entry.enteredAt, expiresAt: entry.expiresAt, partial: entry.partial, fuzzy: entry.fuzzy, expired: false,
      };
    } catch (err) {
      if (!(err instanceof LocalEntryError)) throw err;
      log(admin.username, { change: 'local-proposal-not-approved', proposal: p.id, plate: p.plate, caseNumber: p.caseNumber, problem: err.message, field: err.field }, 'refused');
      return reply.code(422).send({ error: err.message, field: err.field });
    }
  });

  app.post<{ Params: typeof ProposalIdParams.static; Body: typeof RefusalBody.static }>(`${PREFIX}/hotlist/local/proposals/:id/refuse`, {
    schema: { summary: 'Refuse a proposed local entry with a reason; the member sees it', params: ProposalIdParams, body: RefusalBody, response: { 200: LocalProposalOut, 422: ErrorBody } },
  }, async (req, reply) => {
    const admin = await requireAdmin(req, reply);
    if (!admin) return reply;
    const decided = proposals.decide(req.params.id, { status: 'refused', by: admin.username, refusal: req.body.reason });
    if (!decided) return reply.code(422).send({ error: `no pending proposal ${req.params.id}`, field: 'id' });
    log(admin.username, { change: 'local-proposal-refused', proposal: decided.id, plate: decided.plate, caseNumber: decided.caseNumber, enteredBy: decided.enteredBy, refusal: req.body.reason }, 'ok');
    return decided;
  });
}
