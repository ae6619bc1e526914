import { appendAccessLogInTxn, appendAccessLog } from '../access/access-log.js';
import type { PlateMatch, ReadStore } from './read-store.js';

/** A typed refusal of a hold operation, naming what to fix. */
export class HoldError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'HoldError';
  }
}

/** P4: reads that are or may become evidence, kept past retention until released. */
export interface EvidenceHold {
  name: string;
  caseNumber: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  /** The query the hold was made from, when it was not a list of read ids. */
  query?: { plate?: string; match?: PlateMatch; cameraId?: string; from?: string; to?: string };
  readCount: number;
  releasedAt?: string;
  releasedBy?: string;
}

export interface HoldRequest {
  name: string;
  caseNumber: string;
  reason: string;
  readIds?: string[];
  query?: EvidenceHold['query'];
}

const HOLD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Creates a hold over the given read ids, or over the reads a query matches now (a query is resolved
 * once, at creation). The hold, its read links and the access-log entry commit in one transaction.
 */
export function createHold(store: ReadStore, req: HoldRequest, user: string, nowMs = Date.now()): EvidenceHold {
  return logRefusal(store, user, 'hold.create', { hold: req.name, caseNumber: req.caseNumber, reason: req.reason }, () => placeHold(store, req, user, nowMs));
}

/** P6: a refused hold change is logged too, with what was asked and why it was refused. */
function logRefusal<T>(store: ReadStore, user: string, action: 'hold.create' | 'hold.release', parameters: Record<string, unknown>, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HoldError) appendAccessLog(store.db, { user, action, parameters: { ...parameters, problem: err.message, field: err.field }, result: 'refused' }, store.keys);
    throw err;
  }
}

function placeHold(store: ReadStore, req: HoldRequest, user: string, nowMs: number): EvidenceHold {
  if (!HOLD_NAME.test(req.name)) throw new HoldError(`hold name "${req.name}" must match ${HOLD_NAME.source}`, 'name');
  if (!req.caseNumber.trim()) throw new HoldError('a hold needs a case number (P4)', 'caseNumber');
  if (!req.reason.trim()) throw new HoldError('a hold needs a reason (P4)', 'reason');
  if (!req.readIds?.length && !req.query) throw new HoldError('a hold needs readIds or a query', 'readIds');
  let ids: string[];
  if (req.readIds?.length) {
    ids = req.readIds.filter((id) => store.get(id, nowMs) !== undefined);
    const missing = req.readIds.length - ids.length;
    if (missing > 0) throw new HoldError(`${missing} of the read ids do not exist or are past retention`, 'readIds');
  } else {
    const q = req.query!;
    ids = [];
    let cursor: string | undefined;
    do {
      const page = store.search({ plate: q.plate, match: q.match, cameraId: q.cameraId, fromMs: q.from ? Date.parse(q.from) : undefined, toMs: q.to ? Date.parse(q.to) : undefined, limit: 1000, cursor }, nowMs);
      ids.push(...page.reads.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
  }
  const hold: EvidenceHold = {
    name: req.name,
    caseNumber: req.caseNumber,
    reason: req.reason,
    createdBy: user,
    createdAt: new Date(nowMs).toISOString(),
    ...(req.query ? { query: req.query } : {}),
    readCount: ids.length,
  };
  const { db } = store;
  db.root.transactionSync(() => {
    const existing = db.holds.get(req.name) as EvidenceHold | undefined;
    if (existing && !existing.releasedAt) throw new HoldError(`a hold named "${req.name}" already exists`, 'name');
    db.holds.put(hold.name, hold);
    for (const id of ids) {
      db.heldReads.put([id, hold.name], 1);
      db.holdReads.put([hold.name, id], 1);
    }
    appendAccessLogInTxn(db, { user, action: 'hold.create', parameters: { hold: hold.name, caseNumber: hold.caseNumber, reason: hold.reason, readCount: ids.length, ...(req.query ? { query: req.query } : {}) }, result: 'ok' }, store.keys);
  });
  return hold;
}

/** Releases a hold: its reads fall back under retention and go at the next purge if past their age. */
export function releaseHold(store: ReadStore, name: string, user: string, reason: string, nowMs = Date.now()): EvidenceHold {
  const { db } = store;
  return logRefusal(store, user, 'hold.release', { hold: name, reason }, () => db.root.transactionSync(() => {
    const hold = db.holds.get(name) as EvidenceHold | undefined;
    if (!hold || hold.releasedAt) throw new HoldError(`no active hold named "${name}"`, 'name');
    for (const key of db.holdReads.getKeys({ start: [name, ''], end: [name, '\uffff'] })) {
      const id = (key as [string, string])[1];
      db.heldReads.remove([id, name]);
      db.holdReads.remove([name, id]);
    }
    const released: EvidenceHold = { ...hold, releasedAt: new Date(nowMs).toISOString(), releasedBy: user };
    db.holds.put(name, released);
    appendAccessLogInTxn(db, { user, action: 'hold.release', parameters: { hold: name, caseNumber: hold.caseNumber, reason }, result: 'ok' });
    return released;
  }));
}

export function listHolds(store: ReadStore): EvidenceHold[] {
  return [...store.db.holds.getRange()].map((e) => e.value as EvidenceHold);
}

export function getHold(store: ReadStore, name: string): EvidenceHold | undefined {
  return store.db.holds.get(name) as EvidenceHold | undefined;
}

export function heldReadIds(store: ReadStore, name: string): string[] {
  return [...store.db.holdReads.getKeys({ start: [name, ''], end: [name, '\uffff'] })].map((k) => (k as [string, string])[1]);
}
