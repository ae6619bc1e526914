import { createHash } from 'node:crypto';
import type { StateDatabase } from '../store/database.js';

/** What was done; inquiries (search, image view, export) are what audits sample (P9). */
export type AccessAction =
  | 'login' | 'search' | 'image.view' | 'read.view' | 'export' | 'hold.create' | 'hold.release'
  | 'user.add' | 'user.disable' | 'user.passwd' | 'share.request' | 'share.approve' | 'share.refuse'
  | 'config.change' | 'key.rotate' | 'purge' | 'api.denied' | 'openapi.view' | 'audit.sample' | 'hotlist.change' | 'cli.denied'
  | 'device.provision' | 'device.key' | 'device.cert' | 'tamper';

export const INQUIRY_ACTIONS: readonly AccessAction[] = ['search', 'image.view', 'read.view', 'export'];

export interface AccessLogEntry {
  seq: number;
  time: string;
  /** The person (username), `cli:<os user>` for shell actions, `system` for the daemon's own. */
  user: string;
  action: AccessAction;
  /** P7: reason and caseNumber of an inquiry are recorded here with its other parameters. */
  parameters: Record<string, unknown>;
  result: 'ok' | 'denied' | 'failed' | 'refused';
  prevHash: string;
  hash: string;
}

export type AccessLogInput = Pick<AccessLogEntry, 'user' | 'action' | 'parameters' | 'result'> & { time?: string };

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

interface Head {
  seq: number;
  hash: string;
}

/**
 * Appends one entry to the hash chain. Must run inside a write transaction of `db.root`, the same
 * one as the action it records (P6), so the two commit together or not at all; LMDB's single writer
 * serialises appends across processes (daemon and CLI).
 */
export function appendAccessLogInTxn(db: StateDatabase, input: AccessLogInput): AccessLogEntry {
  const head = (db.meta.get(HEAD) as Head | undefined) ?? { seq: 0, hash: GENESIS };
  const partial = {
    seq: head.seq + 1,
    time: input.time ?? new Date().toISOString(),
    user: input.user,
    action: input.action,
    parameters: input.parameters,
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
export function appendAccessLog(db: StateDatabase, input: AccessLogInput): AccessLogEntry {
  return db.root.transactionSync(() => appendAccessLogInTxn(db, input));
}

export interface ChainVerification {
  ok: boolean;
  entries: number;
  head: Head;
  /** First sequence number where the chain breaks, and why. */
  firstBadSeq?: number;
  problem?: string;
}

/** Walks the whole chain: an edited, deleted, inserted or reordered entry, or a cut-off tail, breaks it. */
export function verifyAccessLog(db: StateDatabase): ChainVerification {
  const head = (db.meta.get(HEAD) as Head | undefined) ?? { seq: 0, hash: GENESIS };
  let prev = GENESIS;
  let expectSeq = 1;
  let entries = 0;
  for (const { key, value } of db.accessLog.getRange({ snapshot: true })) {
    const e = value as AccessLogEntry;
    const bad = (problem: string): ChainVerification => ({ ok: false, entries, head, firstBadSeq: expectSeq, problem });
    if (key !== expectSeq || e?.seq !== expectSeq) return bad(`entry ${expectSeq} is missing or out of order (found key ${String(key)})`);
    if (e.prevHash !== prev) return bad(`entry ${expectSeq} does not link to entry ${expectSeq - 1}`);
    if (entryHash(e) !== e.hash) return bad(`entry ${expectSeq} was altered (hash mismatch)`);
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
  entries: AccessLogEntry[];
  chain: ChainVerification;
}

/**
 * P9: draws `n` inquiries (search, view, export) logged in [from, to) at random, reproducibly for a
 * given seed, with the chain's verification at the time of drawing.
 */
export function sampleInquiries(db: StateDatabase, opts: { from: Date; to: Date; n: number; seed: string }): AuditSample {
  const population: AccessLogEntry[] = [];
  for (const { value } of db.accessLog.getRange({ snapshot: true })) {
    const e = value as AccessLogEntry;
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
  const entries = pool.slice(0, k).sort((a, b) => a.seq - b.seq);
  return { from: opts.from.toISOString(), to: opts.to.toISOString(), seed: opts.seed, n: opts.n, population: population.length, entries, chain: verifyAccessLog(db) };
}
