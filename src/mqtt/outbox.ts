import type { StateDatabase } from '../state/database.js';
import type { Sealer } from '../state/device-keys.js';
import { decodeRecord, OUTBOX_INDEX, OUTBOX_KINDS, OUTBOX_MESSAGES, type OutboxIndexRecord, type OutboxMessageRecord } from '../state/records.js';

export type OutboxKind = (typeof OUTBOX_KINDS)[number];

/**
 * Where the outbox lies: its two sub-databases of the state environment (state/database.ts), and
 * the environment's root for their transactions. (The bench hands it the old layout of an
 * environment of its own too, outbox-migration.ts, to compare the two.)
 */
export type OutboxDatabase = Pick<StateDatabase, 'root' | 'outboxMessages' | 'outboxIndex'>;

export interface OutboxMessage {
  seq: number;
  kind: OutboxKind;
  topic: string;
  messageId: string;
  payload: Buffer;
}

/** A view of decoded bytes as a Buffer, without a copy. */
const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Binds a sealed payload to its message: one moved to another message does not open. */
const aad = (topic: string, messageId: string) => `outbox:${topic}:${messageId}`;

export interface OutboxLimits {
  maxMessages: number;
  maxBytes: number;
}

/**
 * When full, what goes first: read metadata (the central store can live without some), then
 * events, then audit entries; hits only when nothing else is left (issue 8: hits never before reads).
 */
const DROP_ORDER: OutboxKind[] = ['read', 'event', 'audit', 'hit'];

/**
 * The durable MQTT outbox: every message is written to LMDB (the state environment's
 * `outbox-messages` and `outbox-index`) before it is sent and removed only when the broker
 * acknowledged it (QoS 1), so link loss and restarts lose nothing; delivery is in sequence order.
 * Keys are increasing integers; a small index db (kind, size) lets the bound be enforced without
 * reading payloads. Both records pass `decodeRecord`; one that does not (a damaged file) is dropped
 * and counted as `unreadable`, never a crash. Payloads are sealed with the device key as the store
 * seals reads (P16): LMDB reuses the pages of acknowledged messages but does not erase them, so
 * nothing readable may ever be written to them. The environment is the store's: the outbox never
 * closes it, and its own limits bound it (the store's disk budget does not count it).
 */
export class Outbox {
  private readonly root: OutboxDatabase['root'];
  private readonly messages: OutboxDatabase['outboxMessages'];
  private readonly index: OutboxDatabase['outboxIndex'];
  private readonly byKind: Record<OutboxKind, number[]> = { hit: [], read: [], event: [], audit: [] };
  /** In-memory mirror of the index db, so removal bookkeeping is synchronous and idempotent. */
  private readonly meta = new Map<number, OutboxIndexRecord>();
  private nextSeq = 1;
  private totalBytes = 0;
  private count = 0;
  /** Messages whose write has not committed yet: not counted, but they take room under the bound. */
  private readonly inFlight = { count: 0, bytes: 0, writes: new Set<Promise<unknown>>() };
  readonly dropped: Record<OutboxKind, number> = { hit: 0, read: 0, event: 0, audit: 0 };
  /**
   * Messages dropped because they did not open with the device keys or their records did not
   * decode (counted in `dropped` too when their kind is known).
   */
  unreadable = 0;
  private closed = false;

  constructor(
    db: OutboxDatabase,
    private readonly limits: OutboxLimits,
    private readonly keys: Sealer,
  ) {
    this.root = db.root;
    this.messages = db.outboxMessages;
    this.index = db.outboxIndex;
    const damaged: number[] = [];
    // Key by key, so one record that does not decode is dropped alone rather than ending the walk.
    for (const key of this.index.getKeys()) {
      let rec: OutboxIndexRecord;
      try {
        rec = decodeRecord(OUTBOX_INDEX, key, this.index.get(key));
      } catch {
        damaged.push(key);
        this.nextSeq = Math.max(this.nextSeq, key + 1);
        continue;
      }
      this.byKind[rec.kind].push(key);
      this.meta.set(key, rec);
      this.totalBytes += rec.bytes;
      this.count++;
      this.nextSeq = Math.max(this.nextSeq, key + 1);
    }
    if (damaged.length > 0) {
      this.unreadable += damaged.length;
      this.root.transaction(() => {
        for (const key of damaged) {
          void this.messages.remove(key);
          void this.index.remove(key);
        }
      }).catch(() => undefined);
    }
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  countOf(kind: OutboxKind): number {
    return this.byKind[kind].length;
  }

  /**
   * Persists a message (after making room per DROP_ORDER); resolves once it is on disk. The counts
   * (`size`, `bytes`, `countOf`) take the message only once its transaction has committed: a write
   * that fails (disk full, the store closed under it) rejects and leaves no ghost message that
   * would keep `drained()` and health from settling. Writes in flight count against the bound.
   */
  async enqueue(kind: OutboxKind, topic: string, messageId: string, payload: Buffer): Promise<{ seq: number; dropped: OutboxKind[] }> {
    const dropped: OutboxKind[] = [];
    while (this.count + this.inFlight.count + 1 > this.limits.maxMessages || this.totalBytes + this.inFlight.bytes + payload.length > this.limits.maxBytes) {
      if (this.count === 0) {
        // Only writes in flight fill the bound: once they commit, they can be weighed and dropped.
        if (this.inFlight.writes.size === 0) break;
        await Promise.allSettled([...this.inFlight.writes]);
        continue;
      }
      const victim = DROP_ORDER.find((k) => this.byKind[k].length > 0)!;
      // Never drop a hit to make room for a read: a read that does not fit is itself dropped.
      if (DROP_ORDER.indexOf(victim) > DROP_ORDER.indexOf(kind)) {
        this.dropped[kind]++;
        return { seq: 0, dropped: [kind] };
      }
      const seq = this.byKind[victim][0]!;
      await this.remove(seq);
      this.dropped[victim]++;
      dropped.push(victim);
    }
    if (this.closed) throw new Error('the MQTT outbox is closed');
    const kid = this.keys.currentKeyId;
    const sealed = this.keys.seal(payload, aad(topic, messageId), kid);
    const seq = this.nextSeq++;
    const write = this.root.transaction(() => {
      void this.messages.put(seq, { kind, topic, messageId, kid, sealed });
      void this.index.put(seq, { kind, bytes: payload.length });
    });
    this.inFlight.writes.add(write);
    this.inFlight.count++;
    this.inFlight.bytes += payload.length;
    try {
      await write;
    } finally {
      this.inFlight.writes.delete(write);
      this.inFlight.count--;
      this.inFlight.bytes -= payload.length;
    }
    // Sequence numbers are taken in call order but commits may finish out of it: keep each list sorted.
    const list = this.byKind[kind];
    if (list.length === 0 || list[list.length - 1]! < seq) list.push(seq);
    else list.splice(list.findIndex((s) => s > seq), 0, seq);
    this.meta.set(seq, { kind, bytes: payload.length });
    this.totalBytes += payload.length;
    this.count++;
    return { seq, dropped };
  }

  /**
   * Up to `limit` messages with seq ≥ `fromSeq`, oldest first, payloads opened. A message that does
   * not open (its data key deleted, the file damaged) cannot be sent: it is dropped and counted.
   */
  peek(fromSeq: number, limit: number): OutboxMessage[] {
    const out: OutboxMessage[] = [];
    for (const key of this.messages.getKeys({ start: fromSeq })) {
      if (out.length >= limit) break;
      // Not in the index: acknowledged or dropped, its removal not yet committed.
      const rec = this.meta.get(key);
      if (!rec) continue;
      try {
        const value: OutboxMessageRecord = decodeRecord(OUTBOX_MESSAGES, key, this.messages.get(key));
        const { kind, topic, messageId } = value;
        const payload = value.sealed && value.kid ? this.keys.open(asBuffer(value.sealed), aad(topic, messageId), value.kid) : Buffer.from(value.payload ?? new Uint8Array(0));
        out.push({ seq: key, kind, topic, messageId, payload });
      } catch {
        this.dropped[rec.kind]++;
        this.unreadable++;
        this.remove(key).catch(() => undefined);
      }
    }
    return out;
  }

  /** The broker acknowledged it: gone for good. */
  async ack(seq: number): Promise<void> {
    await this.remove(seq);
  }

  private async remove(seq: number): Promise<void> {
    if (this.closed) return;
    const rec = this.meta.get(seq);
    if (!rec) return;
    this.meta.delete(seq);
    const list = this.byKind[rec.kind];
    // Acks and drops almost always hit the oldest message of a kind.
    const i = list[0] === seq ? 0 : list.indexOf(seq);
    if (i >= 0) list.splice(i, 1);
    this.totalBytes -= rec.bytes;
    this.count--;
    await this.root.transaction(() => {
      void this.messages.remove(seq);
      void this.index.remove(seq);
    });
  }

  /**
   * Waits for the writes in flight; the environment stays open (the store closes it). After this,
   * enqueue rejects and acks are ignored: the messages stay for the next start.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight.writes]);
  }
}
