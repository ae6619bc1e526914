import { randomBytes } from 'node:crypto';
import type { SharingConfig } from '../config/schema.js';
import type { StateDatabase } from '../state/database.js';
import { decodeRecord, findRecord, SHARES, type ShareRecord } from '../state/records.js';
import { appendAccessLogInTxn } from './access-log.js';
import { matchImmigration } from './immigration-agencies.js';
import { foldedReadings } from './text-fold.js';
import { AlprError, EX_DATAERR } from '../errors.js';

/** P14: a request from another agency, kept on file whether approved or refused (schema: state/records.ts). */
export type ShareRequest = ShareRecord;

export class ShareError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_DATAERR);
  }
}

/** An agency name as compared with the MOU list: folded (look-alikes, accents, case), words only. */
export function agencyKey(name: string): string {
  return foldedReadings(name)[0]!.words.join(' ');
}

/** The MOU entry a request's agency and state match, if `sharing.allowedAgencies` lists it. */
function allowedAgency(agency: string, state: string, config: SharingConfig): SharingConfig['allowedAgencies'][number] | undefined {
  const key = agencyKey(agency);
  return config.allowedAgencies.find((a) => a.state === state && [a.name, ...a.aliases].some((n) => agencyKey(n) === key));
}

/**
 * Why a request must be refused under P14, or undefined when it may go to an administrator. First
 * the California Values Act (Gov. Code §7284.6): no data for immigration enforcement, whatever name
 * the agency uses or however the words are spelt (src/access/immigration-agencies.ts, on the agency,
 * the requester and the purpose); then the department's own rules: in-state only, and, when it
 * keeps one, its MOU list of agencies. A refusal is kept and logged so an auditor sees every attempt.
 */
export function refusalFor(req: Pick<ShareRequest, 'agencyState' | 'purpose' | 'agency' | 'requester'>, config: SharingConfig): string | undefined {
  for (const [field, kind] of [['agency', 'agency'], ['requester', 'agency'], ['purpose', 'purpose']] as const) {
    const m = matchImmigration(req[field], kind);
    if (m) return `immigration enforcement is not a permitted purpose (California Values Act): the ${field} names ${m.agency ? `${m.agency} ("${m.matched}")` : `"${m.matched}"`}`;
  }
  const state = req.agencyState.toUpperCase();
  if (config.inStateOnly && state !== config.homeState) return `agency state ${req.agencyState} is outside ${config.homeState} (sharing.inStateOnly)`;
  if (config.allowedAgencies.length > 0 && !allowedAgency(req.agency, state, config)) return `agency "${req.agency}" (${state}) is not one this department shares with (sharing.allowedAgencies, its MOU list)`;
  return undefined;
}

export class SharingRegistry {
  constructor(
    private readonly db: StateDatabase,
    private readonly config: SharingConfig,
  ) {}

  get(id: string): ShareRequest | undefined {
    return findRecord(SHARES, id, this.db.shares.get(id));
  }

  list(): ShareRequest[] {
    return [...this.db.shares.getRange()].map((e) => decodeRecord(SHARES, e.key, e.value));
  }

  /** Records a request; refused ones are stored and logged too (status `refused`, with the reason). */
  request(input: { agency: string; agencyState: string; requester: string; purpose: string }, by: string, nowMs = Date.now()): ShareRequest {
    for (const f of ['agency', 'agencyState', 'requester', 'purpose'] as const) {
      if (typeof input[f] !== 'string' || !input[f].trim()) throw new ShareError(`a sharing request needs ${f} (P14)`, f);
    }
    if (!/^[A-Za-z]{2}$/.test(input.agencyState)) throw new ShareError('agencyState must be a two-letter state code', 'agencyState');
    const refusal = refusalFor(input, this.config);
    const req: ShareRequest = {
      id: `SR-${new Date(nowMs).toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`,
      ...input,
      agencyState: input.agencyState.toUpperCase(),
      requestedBy: by,
      createdAt: new Date(nowMs).toISOString(),
      status: refusal ? 'refused' : 'pending',
      ...(refusal ? { refusal } : {}),
    };
    this.db.root.transactionSync(() => {
      this.db.shares.put(req.id, req);
      appendAccessLogInTxn(this.db, { user: by, action: refusal ? 'share.refuse' : 'share.request', parameters: { id: req.id, agency: req.agency, agencyState: req.agencyState, requester: req.requester, purpose: req.purpose, ...(refusal ? { refusal } : {}) }, result: refusal ? 'refused' : 'ok' });
    });
    return req;
  }

  /** An administrator approves a pending request; only then can an export be tied to it. */
  approve(id: string, approver: { username: string; role: string }, nowMs = Date.now()): ShareRequest {
    if (approver.role !== 'administrator') throw new ShareError('only an administrator can approve a sharing request (P14)', 'approver');
    return this.db.root.transactionSync(() => {
      const req = this.get(id);
      if (!req) throw new ShareError(`no sharing request ${id}`, 'id');
      if (req.status !== 'pending') throw new ShareError(`sharing request ${id} is ${req.status}, not pending`, 'id');
      const approved: ShareRequest = { ...req, status: 'approved', approvedBy: approver.username, approvedAt: new Date(nowMs).toISOString() };
      this.db.shares.put(id, approved);
      appendAccessLogInTxn(this.db, { user: approver.username, action: 'share.approve', parameters: { id, agency: req.agency }, result: 'ok' });
      return approved;
    });
  }
  /** An administrator refuses a pending request with a reason; it stays on file, refused (P14). */
  refuse(id: string, refuser: { username: string; role: string }, reason: string, nowMs = Date.now()): ShareRequest {
    if (refuser.role !== 'administrator') throw new ShareError('only an administrator can refuse a sharing request (P14)', 'refuser');
    if (reason.trim().length < 3) throw new ShareError('a refusal needs a reason (P14)', 'reason');
    return this.db.root.transactionSync(() => {
      const req = this.get(id);
      if (!req) throw new ShareError(`no sharing request ${id}`, 'id');
      if (req.status !== 'pending') throw new ShareError(`sharing request ${id} is ${req.status}, not pending`, 'id');
      const refused: ShareRequest = { ...req, status: 'refused', refusal: reason.trim(), refusedBy: refuser.username, refusedAt: new Date(nowMs).toISOString() };
      this.db.shares.put(id, refused);
      appendAccessLogInTxn(this.db, { user: refuser.username, action: 'share.refuse', parameters: { id, agency: req.agency, refusal: refused.refusal }, result: 'ok' });
      return refused;
    });
  }
}
