import { readFileSync } from 'node:fs';
import type { StateDatabase } from '../state/database.js';
import { keyFingerprint, verifyDetached } from '../state/device-keys.js';
import { ACCESS_LOG } from '../state/records.js';
import { accessLogHead, canonicalJson, type AccessAction } from './access-log.js';
import { AlprError, EX_DATAERR } from '../errors.js';

// Anchors of the access-log chain (issue 20 §1, P6). The chain alone proves nothing against someone
// who can write the LMDB file: they can edit an entry and recompute every hash after it, or cut the
// end and rewrite the head. So the device signs its chain head (seq, hash, time) with its Ed25519 key
// and publishes it to the central broker, where `alpr-edge watch` keeps it; `audit verify --anchors`
// then checks the local chain against heads that left the device before any such rewrite.

export const ANCHOR_SCHEMA = 'alpr-edge/anchor/1';

/** A signed chain head. */
export interface ChainAnchor {
  schema: typeof ANCHOR_SCHEMA;
  deviceId: string;
  /** Sequence number and hash of the last entry when it was signed (0 and the genesis hash: empty). */
  seq: number;
  hash: string;
  /** When the device signed it. */
  at: string;
  /** sha256 of the device's Ed25519 public key, as `alpr-edge key show` prints it. */
  keyFingerprint: string;
  /** Ed25519 signature (base64) of the canonical JSON of every other field. */
  signature: string;
}

/** The device's signing key (store/device-keys.ts DeviceKeys). */
export interface AnchorSigner {
  signDetached(data: Buffer): Buffer;
  readonly signingPublicKeyPem: string;
}

/** Entries after which a head is published at once rather than at the next interval. */
export const ANCHOR_TRIGGERS: ReadonlySet<AccessAction> = new Set<AccessAction>([
  'export', 'hold.create', 'hold.release', 'user.add', 'user.disable', 'user.enable', 'user.passwd', 'user.training', 'user.unlock', 'audit.sample', 'audit.verify',
]);

function signedBytes(a: Omit<ChainAnchor, 'signature'>): Buffer {
  const { schema, deviceId, seq, hash, at, keyFingerprint: fp } = a;
  return Buffer.from(canonicalJson({ schema, deviceId, seq, hash, at, keyFingerprint: fp }));
}

export function signAnchor(db: StateDatabase, deviceId: string, signer: AnchorSigner, nowMs = Date.now()): ChainAnchor {
  const head = accessLogHead(db);
  const unsigned = { schema: ANCHOR_SCHEMA, deviceId, seq: head.seq, hash: head.hash, at: new Date(nowMs).toISOString(), keyFingerprint: keyFingerprint(signer.signingPublicKeyPem) } as const;
  return { ...unsigned, signature: signer.signDetached(signedBytes(unsigned)).toString('base64') };
}

export function anchorSignatureValid(a: ChainAnchor, publicKeyPem: string): boolean {
  if (typeof a?.signature !== 'string') return false;
  return verifyDetached(signedBytes(a), Buffer.from(a.signature, 'base64'), publicKeyPem);
}

/**
 * Decides when to publish a head: at start, after an entry of `ANCHOR_TRIGGERS` (checked every
 * `checkMs`), when the head went backwards, and otherwise every `intervalMs` even if nothing changed
 * (a later head that does not extend an earlier one is then evidence too).
 */
export class AnchorSchedule {
  private checkedSeq: number;
  private lastAnchorMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: { db: StateDatabase; signer: AnchorSigner; deviceId: string; intervalMs: number; checkMs?: number; publish: (a: ChainAnchor) => void },
  ) {
    this.checkedSeq = accessLogHead(o.db).seq;
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.checkMs ?? 5000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check (the timer's; tests call it with their own clock). Returns the head it published, if any. */
  tick(nowMs = Date.now()): ChainAnchor | undefined {
    const head = accessLogHead(this.o.db);
    let due = this.lastAnchorMs === undefined || nowMs - this.lastAnchorMs >= this.o.intervalMs || head.seq < this.checkedSeq;
    if (!due && head.seq > this.checkedSeq) {
      for (const { value } of this.o.db.accessLog.getRange({ start: this.checkedSeq + 1, end: head.seq + 1 })) {
        // A damaged entry is for `audit verify` to report; it triggers nothing here.
        if (ACCESS_LOG.check(value) && ANCHOR_TRIGGERS.has(value.action)) {
          due = true;
          break;
        }
      }
    }
    this.checkedSeq = head.seq;
    if (!due) return undefined;
    const anchor = signAnchor(this.o.db, this.o.deviceId, this.o.signer, nowMs);
    this.lastAnchorMs = nowMs;
    this.o.publish(anchor);
    return anchor;
  }
}

export interface AnchorCheck {
  ok: boolean;
  /** Anchors of this device with a valid signature by its key, and those left out. */
  anchors: number;
  badSignatures: number;
  otherDevices: number;
  /** The newest anchored seq that the local log matches. */
  lastMatchingSeq: number;
  /** The first anchored entry the local log disagrees with, and where the change must lie. */
  firstDisagreement?: { seq: number; anchoredHash: string; localHash: string; anchoredAt: string; afterSeq: number };
  /** Anchors show entries past the local end: the end was cut (and the head rewritten). */
  missingTail?: { anchoredSeq: number; anchoredAt: string; localHeadSeq: number };
  /** The device signed two histories: two heads for one seq, or a head that went backwards. */
  fork?: { seq: number; hashes: string[]; at: string[] };
  problems: string[];
}

/**
 * Checks the local chain against signed heads received off the device: every anchored entry must
 * still be there with the hash it had, and the anchors must describe one growing history.
 */
export function checkAnchors(db: StateDatabase, anchors: readonly ChainAnchor[], deviceId: string, publicKeyPem: string): AnchorCheck {
  const mine = anchors.filter((a) => a?.deviceId === deviceId);
  const valid = mine.filter((a) => a.schema === ANCHOR_SCHEMA && Number.isInteger(a.seq) && anchorSignatureValid(a, publicKeyPem));
  const out: AnchorCheck = { ok: true, anchors: valid.length, badSignatures: mine.length - valid.length, otherDevices: anchors.length - mine.length, lastMatchingSeq: 0, problems: [] };
  if (out.badSignatures > 0) out.problems.push(`${out.badSignatures} anchor(s) of ${deviceId} are not signed by this device's key; left out`);

  // One history: per seq one hash, and heads in time order never go backwards.
  const bySeq = new Map<number, ChainAnchor[]>();
  for (const a of valid) bySeq.set(a.seq, [...(bySeq.get(a.seq) ?? []), a]);
  for (const [seq, list] of [...bySeq].sort((x, y) => x[0] - y[0])) {
    const hashes = [...new Set(list.map((a) => a.hash))];
    if (hashes.length > 1) {
      out.fork = { seq, hashes, at: list.map((a) => a.at) };
      out.problems.push(`fork: the device signed ${hashes.length} different heads for entry ${seq} (${list.map((a) => a.at).join(', ')}): its log was rewritten after it was anchored`);
      break;
    }
  }
  const byTime = [...valid].sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
  for (let i = 1; i < byTime.length && !out.fork; i++) {
    const [prev, cur] = [byTime[i - 1]!, byTime[i]!];
    if (cur.seq < prev.seq) {
      out.fork = { seq: cur.seq, hashes: [prev.hash, cur.hash], at: [prev.at, cur.at] };
      out.problems.push(`fork: the head went back from entry ${prev.seq} (${prev.at}) to entry ${cur.seq} (${cur.at}): entries were cut and the log grew again`);
    }
  }

  // Every anchored entry must still be in the local log with the hash it had.
  const local = accessLogHead(db);
  for (const a of [...valid].sort((x, y) => x.seq - y.seq || Date.parse(x.at) - Date.parse(y.at))) {
    if (a.seq === 0) continue;
    if (a.seq > local.seq) {
      out.missingTail ??= { anchoredSeq: a.seq, anchoredAt: a.at, localHeadSeq: local.seq };
      continue;
    }
    const stored = db.accessLog.get(a.seq);
    const localHash = stored === undefined ? '(missing)' : ACCESS_LOG.check(stored) ? stored.hash : '(damaged)';
    if (localHash !== a.hash) {
      out.firstDisagreement ??= { seq: a.seq, anchoredHash: a.hash, localHash, anchoredAt: a.at, afterSeq: out.lastMatchingSeq };
    } else if (!out.firstDisagreement) out.lastMatchingSeq = a.seq;
  }
  if (out.firstDisagreement) {
    const d = out.firstDisagreement;
    out.problems.push(`entry ${d.seq} disagrees with the head anchored at ${d.anchoredAt}: the log was changed after entry ${d.afterSeq} (the last anchored entry that matches) and up to entry ${d.seq}`);
  }
  if (out.missingTail) {
    const m = out.missingTail;
    out.problems.push(`missing tail: a head anchored at ${m.anchoredAt} shows entries up to ${m.anchoredSeq}, the local log ends at ${m.localHeadSeq}`);
  }
  out.ok = out.problems.length === 0 && out.anchors > 0;
  if (out.anchors === 0) out.problems.push(`no anchor of ${deviceId} signed by this device's key: nothing to check against`);
  return out;
}

/** An anchors file that cannot be read; names the file and the line. */
export class AnchorFileError extends AlprError {
  constructor(message: string) {
    super(message, 'anchors', EX_DATAERR);
  }
}

/** Anchors from a file `watch` wrote (one JSON per line) or a JSON array. */
export function readAnchorsFile(file: string): ChainAnchor[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AnchorFileError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseAnchors(text, file);
}

/** Anchors from the text of such a file (the console uploads it); `source` names it in errors. */
export function parseAnchors(text: string, source: string): ChainAnchor[] {
  const trimmed = text.trim();
  const parse = (json: string, where: string): unknown => {
    try {
      return JSON.parse(json);
    } catch {
      throw new AnchorFileError(`${source}${where} is not JSON (expected the anchors \`alpr-edge watch\` saves, one per line)`);
    }
  };
  if (trimmed.startsWith('[')) {
    const list = parse(trimmed, '');
    if (!Array.isArray(list)) throw new AnchorFileError(`${source} is not a JSON array of anchors`);
    return list as ChainAnchor[];
  }
  return trimmed.split('\n').map((l, i) => [l, i] as const).filter(([l]) => l.trim()).map(([l, i]) => parse(l, ` line ${i + 1}`) as ChainAnchor);
}
