import { appendAccessLogInTxn, appendAccessLog } from '../access/access-log.js';
import { isSealedValue, openValue, sealValue, type Sealer } from '../state/device-keys.js';
import { decodeRecord, findRecord, HOLDS, type HoldRecord } from '../state/records.js';
import type { PlateMatch, ReadStore } from './read-store.js';
import { AlprError, EX_DATAERR } from '../errors.js';

/** A typed refusal of a hold operation, naming what to fix. */
export class HoldError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_DATAERR);
  }
}

/** The reads a hold was made over, when it was not a list of read ids. */
export interface HoldQuery {
  plate?: string;
  match?: PlateMatch;
  cameraId?: string;
  from?: string;
  to?: string;
}

/** P4: reads that are or may become evidence, kept past retention until released. */
export interface EvidenceHold {
  name: string;
  caseNumber: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  /**
   * The query the hold was made from, when it was not a list of read ids. `plateUnreadable` says why
   * its plate is not shown when the sealed plate does not open (its data key deleted).
   */
  query?: HoldQuery & { plateUnreadable?: string };
  readCount: number;
  releasedAt?: string;
  releasedBy?: string;
}

/** A hold as it lies in the holds table: the query's plate sealed with the device key (P16; schema: state/records.ts). */
type StoredHold = HoldRecord;

export interface HoldRequest {
  name: string;
  caseNumber: string;
  reason: string;
  readIds?: string[];
  query?: HoldQuery;
}

/** Binds a sealed query plate to its hold: one copied to another hold (or a later one of the same name) does not open. */
const plateAad = (hold: Pick<EvidenceHold, 'name' | 'createdAt'>) => `hold:${hold.name}:${hold.createdAt}:query.plate`;

/** P16: the hold as the holds table keeps it, its query's plate sealed as reads are in the store. */
function sealHold(hold: EvidenceHold | StoredHold, keys: Sealer): StoredHold {
  const plate = hold.query?.plate;
  if (plate === undefined || isSealedValue(plate)) return hold;
  return { ...hold, query: { ...hold.query, plate: sealValue(keys, plate, plateAad(hold)) } };
}

/** The hold as people see it (an authorised user, P8): its query's plate opened. Holds placed before sealing are shown as they lie. */
function openHold(stored: StoredHold, keys: Sealer): EvidenceHold {
  const plate = stored.query?.plate;
  if (!isSealedValue(plate)) {
    const { query, ...rest } = stored;
    return query ? { ...rest, query: { ...query, plate } } : rest;
  }
  const { plate: _sealed, ...rest } = stored.query!;
  try {
    return { ...stored, query: { ...rest, plate: openValue(keys, plate, plateAad(stored)) as string } };
  } catch (err) {
    return { ...stored, query: { ...rest, plateUnreadable: (err as Error).message } };
  }
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
    const existing = findRecord(HOLDS, req.name, db.holds.get(req.name));
    if (existing && !existing.releasedAt) throw new HoldError(`a hold named "${req.name}" already exists`, 'name');
    db.holds.put(hold.name, sealHold(hold, store.keys));
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
    const hold = findRecord(HOLDS, name, db.holds.get(name));
    if (!hold || hold.releasedAt) throw new HoldError(`no active hold named "${name}"`, 'name');
    for (const key of db.holdReads.getKeys({ start: [name, ''], end: [name, '\uffff'] })) {
      const id = (key as [string, string])[1];
      db.heldReads.remove([id, name]);
      db.holdReads.remove([name, id]);
    }
    const released = sealHold({ ...hold, releasedAt: new Date(nowMs).toISOString(), releasedBy: user }, store.keys);
    db.holds.put(name, released);
    appendAccessLogInTxn(db, { user, action: 'hold.release', parameters: { hold: name, caseNumber: hold.caseNumber, reason }, result: 'ok' });
    return openHold(released, store.keys);
  }));
}

/** Every hold, active and released, with its query's plate opened: for users who may see reads (P8). */
export function listHolds(store: ReadStore): EvidenceHold[] {
  return [...store.db.holds.getRange()].map((e) => openHold(decodeRecord(HOLDS, e.key, e.value), store.keys));
}

export function getHold(store: ReadStore, name: string): EvidenceHold | undefined {
  const stored = findRecord(HOLDS, name, store.db.holds.get(name));
  return stored && openHold(stored, store.keys);
}

/**
 * P16: seals the query plates of holds placed before they were sealed (at daemon start). Returns how
 * many holds it rewrote. LMDB frees the old pages without erasing them; they are reused (zeroed) as
 * the store writes on.
 */
export function sealHoldQueries(store: ReadStore): number {
  const { db } = store;
  const clear = [...db.holds.getRange()].filter((e) => typeof decodeRecord(HOLDS, e.key, e.value).query?.plate === 'string');
  if (clear.length === 0) return 0;
  db.root.transactionSync(() => {
    for (const { key } of clear) {
      // Read again in the transaction: another process may have changed the hold since.
      const hold = findRecord(HOLDS, key, db.holds.get(key));
      if (typeof hold?.query?.plate === 'string') db.holds.put(key, sealHold(hold, store.keys));
    }
  });
  return clear.length;
}

export function heldReadIds(store: ReadStore, name: string): string[] {
  return [...store.db.holdReads.getKeys({ start: [name, ''], end: [name, '\uffff'] })].map((k) => (k as [string, string])[1]);
}
