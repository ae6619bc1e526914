import { createHash } from 'node:crypto';
import type { StateDatabase } from '../state/database.js';
import { ACCESS_LOG, ACCESS_LOG_HEAD, decodeRecord, findRecord, type AccessLogHeadRecord, type AccessLogRecord } from '../state/records.js';
import { isSealedValue, openValue, sealValue, type Sealer, type SealedValue } from '../state/device-keys.js';
import { AlprError, EX_CONFIG } from '../errors.js';

/** What was done; inquiries (search, image view, export) are what audits sample (P9). The list: state/records.ts. */
export type AccessAction = AccessLogRecord['action'];

export const INQUIRY_ACTIONS: readonly AccessAction[] = ['search', 'image.view', 'read.view', 'export'];

/** One link of the hash chain (schema: state/records.ts). */
export type AccessLogEntry = AccessLogRecord;

export type AccessLogInput = Pick<AccessLogEntry, 'user' | 'action' | 'parameters' | 'result'> & { time?: string };

/**
 * A parameter that holds plate text, as it lies in the log: sealed with the device's data key
 * `kid` (AES-256-GCM, base64), bound to its entry and place (P16: plate text is never on disk in the
 * clear, in the log no more than in the store). The chain hashes this form, so `audit verify` needs no key.
 */
export type SealedParameter = SealedValue;

/** Parameters named so hold plate text, at any depth (a search's plate, a hold query's, a hot-list entry's). */
const PLATE_PARAMETERS: ReadonlySet<string> = new Set(['plate']);

/** A parameter that is plate text, sealed or not, at `path`, with no key to seal it. */
export class AccessLogSealError extends AlprError {
  constructor(field: string) {
    super(`access-log parameter ${field} holds plate text and must be sealed with the device key (P16), but no key was given`, field, EX_CONFIG);
  }
}

export const isSealedParameter: (v: unknown) => v is SealedParameter = isSealedValue;

const sealAad = (seq: number, path: string) => `access-log:${seq}:${path}`;

/** Copies `value`, changing each plate parameter at any depth with `fn(value, path)`. */
function mapPlateParameters(value: unknown, fn: (v: unknown, path: string) => unknown, path = ''): unknown {
  if (Array.isArray(value)) return value.map((v, i) => mapPlateParameters(v, fn, `${path}${path ? '.' : ''}${i}`));
  if (value === null || typeof value !== 'object' || isSealedParameter(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}${path ? '.' : ''}${k}`;
    out[k] = PLATE_PARAMETERS.has(k) && v !== undefined && v !== null && !isSealedParameter(v) ? fn(v, p) : mapPlateParameters(v, fn, p);
  }
  return out;
}

function sealParameters(parameters: Record<string, unknown>, seq: number, sealer: Sealer | undefined): Record<string, unknown> {
  return mapPlateParameters(parameters, (v, path) => {
    if (!sealer) throw new AccessLogSealError(path);
    return sealValue(sealer, v, sealAad(seq, path));
  }) as Record<string, unknown>;
}

/** Each sealed parameter of an entry and where it lies (`query.plate`). */
function sealedParametersOf(value: unknown, path = ''): Array<{ path: string; sealed: SealedParameter }> {
  if (isSealedParameter(value)) return [{ path, sealed: value }];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => sealedParametersOf(v, `${path}${path ? '.' : ''}${k}`));
}

function openSealed(sealer: Sealer, seq: number, path: string, s: SealedParameter): unknown {
  return openValue(sealer, s, sealAad(seq, path));
}

/**
 * An entry's parameters with the sealed ones opened, for an administrator's audit (P9); a value that
 * does not open is shown as `{ unreadable: why }`. Undefined when the entry seals nothing.
 */
export function openParameters(entry: AccessLogEntry, sealer: Sealer): Record<string, unknown> | undefined {
  const sealed = sealedParametersOf(entry.parameters);
  if (sealed.length === 0) return undefined;
  const opened = structuredClone(entry.parameters);
  for (const { path, sealed: s } of sealed) {
    const keys = path.split('.');
    let at = opened as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
    try {
      at[keys.at(-1)!] = openSealed(sealer, entry.seq, path, s);
    } catch (err) {
      at[keys.at(-1)!] = { unreadable: (err as Error).message };
    }
  }
  return opened;
}

const HEAD = 'access-log.head';
const GENESIS = '0'.repeat(64);

/** JSON with keys sorted at every level, so a hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).filter((k) => obj[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function entryHash(e: Omit<AccessLogEntry, 'hash'>): string {
  const { seq, time, user, action, parameters, result, prevHash } = e;
  return createHash('sha256').update(canonicalJson({ seq, time, user, action, parameters, result, prevHash })).digest('hex');
}

/** The last entry of the chain: its sequence number and hash (seq 0 and the genesis hash when empty). */
export type Head = AccessLogHeadRecord;

export function accessLogHead(db: StateDatabase): Head {
  return findRecord(ACCESS_LOG_HEAD, HEAD, db.meta.get(HEAD)) ?? { seq: 0, hash: GENESIS };
}

/**
 * Appends one entry to the hash chain. Must run inside a write transaction of `db.root`, the same
 * one as the action it records (P6), so the two commit together or not at all; LMDB's single writer
 * serialises appends across processes (daemon and CLI).
 */
export function appendAccessLogInTxn(db: StateDatabase, input: AccessLogInput, sealer?: Sealer): AccessLogEntry {
  const head = accessLogHead(db);
  const seq = head.seq + 1;
  const partial = {
    seq,
    time: input.time ?? new Date().toISOString(),
    user: input.user,
    action: input.action,
    // P16: plate text is sealed with the device key (`sealer`); without one, an entry holding plate
    // text is refused (AccessLogSealError) rather than written in the clear.
    parameters: sealParameters(input.parameters, seq, sealer),
    result: input.result,
    prevHash: head.hash,
  };
  const entry: AccessLogEntry = { ...partial, hash: entryHash(partial) };
  db.accessLog.put(entry.seq, entry);
  db.meta.put(HEAD, { seq: entry.seq, hash: entry.hash } satisfies Head);
  return entry;
}

/**
 * Appends an entry in a transaction of its own (for actions that write nothing else, like a
 * search). Synchronous and flushed before it returns, so an answer never leaves before its entry.
 * (lmdb-js's asynchronous transaction callbacks never resolved on our test machines; the chain's
 * read-modify-write needs a real transaction, so it uses transactionSync.)
 */
export function appendAccessLog(db: StateDatabase, input: AccessLogInput, sealer?: Sealer): AccessLogEntry {
  return db.root.transactionSync(() => appendAccessLogInTxn(db, input, sealer));
}

export interface ChainVerification {
  ok: boolean;
  entries: number;
  head: Head;
  /** First sequence number where the chain breaks, and why. */
  firstBadSeq?: number;
  problem?: string;
}

/**
 * Walks the whole chain: an edited, deleted, inserted or reordered entry, or a cut-off tail, breaks it.
 * Given the device keys, it also checks that every sealed parameter opens (authenticates) where it lies.
 */
export function verifyAccessLog(db: StateDatabase, sealer?: Sealer): ChainVerification {
  const head = accessLogHead(db);
  let prev = GENESIS;
  let expectSeq = 1;
  let entries = 0;
  for (const { key, value } of db.accessLog.getRange({ snapshot: true })) {
    const bad = (problem: string): ChainVerification => ({ ok: false, entries, head, firstBadSeq: expectSeq, problem });
    if (key !== expectSeq) return bad(`entry ${expectSeq} is missing or out of order (found key ${String(key)})`);
    if (!ACCESS_LOG.check(value)) return bad(`entry ${expectSeq} is not an access-log entry (${ACCESS_LOG.problem()})`);
    const e = value;
    if (e.seq !== expectSeq) return bad(`entry ${expectSeq} is missing or out of order (found key ${String(key)})`);
    if (e.prevHash !== prev) return bad(`entry ${expectSeq} does not link to entry ${expectSeq - 1}`);
    if (entryHash(e) !== e.hash) return bad(`entry ${expectSeq} was altered (hash mismatch)`);
    if (sealer) {
      for (const { path, sealed } of sealedParametersOf(e.parameters)) {
        try {
          openSealed(sealer, e.seq, path, sealed);
        } catch (err) {
          return bad(`entry ${expectSeq}: sealed parameter ${path} does not open (${(err as Error).message})`);
        }
      }
    }
    prev = e.hash;
    expectSeq++;
    entries++;
  }
  if (head.seq !== entries || head.hash !== prev) {
    return { ok: false, entries, head, firstBadSeq: entries + 1, problem: `the log ends at entry ${entries} but its head says ${head.seq}: entries were removed from the end` };
  }
  return { ok: true, entries, head };
}

/** Deterministic PRNG (mulberry32) from a seed string, so an auditor can redraw the same sample. */
export function seededRandom(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface AuditSample {
  from: string;
  to: string;
  seed: string;
  n: number;
  /** Inquiries in the period the sample was drawn from. */
  population: number;
  /**
   * The entries as they lie in the log (so their hashes can be checked), each with `parametersInClear`
   * where it seals plate text and the device keys were given: the auditor reads what was searched.
   */
  entries: Array<AccessLogEntry & { parametersInClear?: Record<string, unknown> }>;
  chain: ChainVerification;
}

/**
 * P9: draws `n` inquiries (search, view, export) logged in [from, to) at random, reproducibly for a
 * given seed, with the chain's verification at the time of drawing.
 */
export function sampleInquiries(db: StateDatabase, opts: { from: Date; to: Date; n: number; seed: string }, sealer?: Sealer): AuditSample {
  const population: AccessLogEntry[] = [];
  for (const { key, value } of db.accessLog.getRange({ snapshot: true })) {
    const e = decodeRecord(ACCESS_LOG, key, value);
    const t = Date.parse(e.time);
    if (t >= opts.from.getTime() && t < opts.to.getTime() && INQUIRY_ACTIONS.includes(e.action)) population.push(e);
  }
  const rand = seededRandom(opts.seed);
  const pool = [...population];
  const k = Math.min(opts.n, pool.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const entries = pool.slice(0, k).sort((a, b) => a.seq - b.seq).map((e) => {
    const parametersInClear = sealer ? openParameters(e, sealer) : undefined;
    return parametersInClear ? { ...e, parametersInClear } : e;
  });
  return { from: opts.from.toISOString(), to: opts.to.toISOString(), seed: opts.seed, n: opts.n, population: population.length, entries, chain: verifyAccessLog(db, sealer) };
}
