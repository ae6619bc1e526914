import { join } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { DeviceEventBus } from '../device-events.js';
import type { DaemonContext, DaemonExtension } from '../extension.js';
import type { ComponentHealth } from '../health/health.js';
import type { Read, ReadSink } from '../pipeline/read.js';
import { createHash } from 'node:crypto';
import { appendAccessLog, appendAccessLogInTxn, canonicalJson, type AccessLogInput } from '../access/access-log.js';
import { AnchorSchedule, type ChainAnchor } from '../access/anchors.js';
import { openStateDatabase, storePath, type StateDatabase } from '../state/database.js';
import { DeviceKeys, type Sealer } from '../state/device-keys.js';
import { ReadStore } from './read-store.js';
import { sealHoldQueries } from './evidence-holds.js';

/** Reads written per LMDB transaction at most; bigger batches amortise the commit's fsync. */
const WRITE_BATCH = 200;

/** At stop, how long the writer may take over what is queued (the daemon's whole stop has 5 s). */
const FLUSH_AT_STOP_MS = 2000;
/** At stop, how long the batch being written and the purge's batch in hand may take to commit. */
const SETTLE_AT_STOP_MS = 1500;

/** True if `p` settles within `ms`; never rejects. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The store as a daemon extension: its sink queues each read and returns at once, so the camera
 * loop never waits on the disk; a writer drains the queue in batches. Retention and disk-budget
 * purges run at start and on a timer. The query API on its database is registered by the composition
 * root (src/app.ts), as are the access-log services other extensions use.
 */
export class StoreExtension implements DaemonExtension {
  readonly name = 'store';
  store: ReadStore | undefined;
  private db: StateDatabase | undefined;
  private logger: Logger | undefined;
  private readonly queue: Read[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private purging: Promise<void> | undefined;
  private budgetAlarm: string | undefined;
  private events: DeviceEventBus | undefined;
  private lastEarlyPurge: { atMs: number; purged: number } | undefined;
  private lastWriteError: string | undefined;
  private counts = { written: 0, dropped: 0, writeErrors: 0 };
  private lastDropAtMs = 0;
  private metrics: { written: Counter; dropped: Counter; purged: Counter<'reason'>; writeErrors: Counter; usedBytes: Gauge; queued: Gauge; corrupt: Counter } | undefined;
  private queueMax = 1000;
  private anchorSchedule: AnchorSchedule | undefined;
  private readonly anchorListeners = new Set<(a: ChainAnchor) => void>();
  private lastAnchor: ChainAnchor | undefined;
  /** Set once stop has flushed what it could: a read arriving later is counted as dropped, not queued. */
  private closing = false;

  constructor(private readonly opts: { flushAtStopMs?: number } = {}) {}

  async start(ctx: DaemonContext): Promise<ReadSink> {
    const { config } = ctx;
    this.logger = ctx.logger;
    this.events = ctx.events;
    this.queueMax = config.store.queueMax;
    const path = storePath(config);
    this.db = openStateDatabase(path, config.store.mapSizeBytes);
    const keys = DeviceKeys.open(join(config.stateDir, 'keys'));
    const store = new ReadStore(this.db, keys, config.store, ctx.logger, path);
    this.store = store;
    // P16: holds placed before their query plates were sealed are sealed now.
    const resealed = sealHoldQueries(store);
    if (resealed > 0) ctx.logger.info({ holds: resealed }, 'evidence-hold query plates sealed with the device key');
    const registers = [ctx.metrics.registry];
    this.metrics = {
      written: new Counter({ name: 'alpr_edge_store_reads_written_total', help: 'Reads committed to the store', registers }),
      dropped: new Counter({ name: 'alpr_edge_store_reads_dropped_total', help: 'Reads dropped because the write queue was full or the write failed', registers }),
      purged: new Counter({ name: 'alpr_edge_store_reads_purged_total', help: 'Reads purged, by reason (retention, disk-budget, forwarded)', labelNames: ['reason'], registers }),
      writeErrors: new Counter({ name: 'alpr_edge_store_write_errors_total', help: 'Failed store write transactions', registers }),
      usedBytes: new Gauge({ name: 'alpr_edge_store_used_bytes', help: 'Bytes of LMDB pages in use by the store', registers, collect: () => this.sampleUsage() }),
      queued: new Gauge({ name: 'alpr_edge_store_queue_reads', help: 'Reads waiting to be written', registers, collect: () => this.metrics?.queued.set(this.queue.length) }),
      // A counter: the store counts since start, and a scrape adds what it counted since the last one.
      corrupt: new Counter({ name: 'alpr_edge_store_corrupt_records_skipped_total', help: 'Stored records or images that failed to decode or authenticate; skipped, never fatal', registers, collect: () => this.syncCorruptCount() }),
    };
    this.recordConfigChange(config);
    // P6: signed heads of the access log leave the device (MQTT `anchors`), so a rewrite of the
    // LMDB file on the device can be found by `audit verify --anchors`.
    this.anchorSchedule = new AnchorSchedule({
      db: this.db,
      signer: keys,
      deviceId: config.deviceId,
      intervalMs: config.access.anchorIntervalMinutes * 60_000,
      publish: (a) => {
        this.lastAnchor = a;
        for (const l of this.anchorListeners) l(a);
      },
    });
    this.anchorSchedule.start();
    // P3: purge at start (in the background: months of backlog must not delay the cameras) and then
    // on a timer that never keeps the process alive.
    this.schedulePurge();
    this.timer = setInterval(() => this.schedulePurge(), config.store.purgeIntervalS * 1000);
    this.timer.unref();
    ctx.logger.info({ path, retentionDays: config.store.retentionDays, keyId: keys.currentKeyId, reads: this.db.reads.getCount() }, 'store open');
    return { name: this.name, accept: async (read) => this.enqueue(read) };
  }

  /**
   * The state database and the device keys while the store is open (between start and stop), for
   * what the composition root hands others: the access log of hot-list changes, users, sharing.
   */
  state(): { db: StateDatabase; keys: Sealer } | undefined {
    return this.store ? { db: this.store.db, keys: this.store.keys } : undefined;
  }

  /**
   * Signed access-log heads as they are made; a new listener gets the latest at once (the one made
   * at start, before MQTT started). Returns the unsubscribe function.
   */
  onAnchor(listener: (a: ChainAnchor) => void): () => void {
    this.anchorListeners.add(listener);
    if (this.lastAnchor) listener(this.lastAnchor);
    return () => this.anchorListeners.delete(listener);
  }

  /** Access-log entries for what other extensions observe (the tamper switch); dropped before start. */
  recordAccess(entry: AccessLogInput): void {
    if (this.db) appendAccessLog(this.db, entry);
  }

  /**
   * P17: configuration is edited by file over SSH, so the daemon logs a change it finds at start
   * (the config's hash differs from the one last seen), in the access log with both hashes.
   */
  private recordConfigChange(config: DaemonContext['config']): void {
    const db = this.db!;
    const sha256 = createHash('sha256').update(canonicalJson(config)).digest('hex');
    db.root.transactionSync(() => {
      const stored = db.meta.get('config.sha256');
      const previous = typeof stored === 'string' ? stored : undefined;
      if (previous === sha256) return;
      db.meta.put('config.sha256', sha256);
      appendAccessLogInTxn(db, { user: 'system', action: 'config.change', parameters: { sha256, previous: previous ?? null, deviceId: config.deviceId }, result: 'ok' });
    });
  }

  private corruptCounted = 0;

  private syncCorruptCount(): void {
    const now = this.store?.corruptSkipped ?? this.corruptCounted;
    if (now > this.corruptCounted) this.metrics?.corrupt.inc(now - this.corruptCounted);
    this.corruptCounted = now;
  }

  private sampleUsage(): void {
    if (!this.store || !this.metrics) return;
    this.metrics.usedBytes.set(this.store.usage().usedBytes);
  }

  /** Never waits on the disk; beyond `queueMax` the oldest waiting read is dropped and counted. */
  enqueue(read: Read): void {
    if (this.closing) {
      this.countDropped(1);
      this.logger?.error({ dropped: this.counts.dropped }, 'read arrived after the store stopped; dropped');
      return;
    }
    if (this.queue.length >= this.queueMax) {
      this.queue.shift();
      this.countDropped(1);
      if (this.counts.dropped === 1 || this.counts.dropped % 100 === 0) this.logger?.error({ dropped: this.counts.dropped, queueMax: this.queueMax }, 'store cannot keep up; oldest waiting read dropped');
    }
    this.queue.push(read);
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.store) {
      const batch = this.queue.splice(0, WRITE_BATCH);
      try {
        await this.store.putMany(batch);
        this.counts.written += batch.length;
        this.metrics?.written.inc(batch.length);
        this.lastWriteError = undefined;
      } catch (err) {
        // Counted and logged; the daemon keeps reading plates (bad input never crashes it).
        this.counts.writeErrors++;
        this.metrics?.writeErrors.inc();
        this.countDropped(batch.length);
        this.lastWriteError = (err as Error).message;
        this.logger?.error({ err, reads: batch.length }, 'store write failed; reads dropped');
      }
    }
  }

  private countDropped(reads: number): void {
    this.counts.dropped += reads;
    this.lastDropAtMs = Date.now();
    this.metrics?.dropped.inc(reads);
  }

  private schedulePurge(): void {
    if (this.purging || !this.store) return;
    this.purging = this.purge().finally(() => (this.purging = undefined));
  }

  private async purge(): Promise<void> {
    const store = this.store!;
    try {
      const retention = await store.purgeExpired();
      this.metrics?.purged.inc({ reason: 'retention' }, retention.purged);
      const forwarded = store.flushAcknowledged();
      if (forwarded) this.metrics?.purged.inc({ reason: 'forwarded' }, forwarded.purged);
      const budget = await store.enforceBudget();
      if (budget) this.metrics?.purged.inc({ reason: 'disk-budget' }, budget.purged);
      const u = store.usage();
      if (budget && budget.purged > 0) this.lastEarlyPurge = { atMs: Date.now(), purged: budget.purged };
      // An early purge keeps the alarm up for ten minutes, so a health check between runs still sees it.
      const early = this.lastEarlyPurge && Date.now() - this.lastEarlyPurge.atMs < 10 * 60_000 ? this.lastEarlyPurge : undefined;
      const short = store.budgetShort(u);
      const before = this.budgetAlarm;
      this.budgetAlarm = short
        ? `disk budget still exceeded after purging: ${u.usedBytes} bytes used, ${u.fsFreeBytes} bytes free (store.maxBytes, store.minFreeBytes; held reads are never purged)`
        : early ? `disk budget reached: ${early.purged} reads purged before their retention age at ${new Date(early.atMs).toISOString()}` : undefined;
      // One `disk` event per change of alarm (raised, escalated, cleared), not one per purge pass.
      const level = (a: string | undefined) => (a === undefined ? 0 : a.startsWith('disk budget still exceeded') ? 2 : 1);
      if (level(this.budgetAlarm) !== level(before)) {
        const detail = { alarm: this.budgetAlarm ?? null, usedBytes: u.usedBytes, fsFreeBytes: u.fsFreeBytes, purgedEarly: budget?.purged ?? 0 };
        this.events?.publish('disk', short ? 'critical' : this.budgetAlarm ? 'warning' : 'info', detail);
      }
    } catch (err) {
      this.logger?.error({ err }, 'purge failed; retrying at the next interval');
    }
  }

  /** For the MQTT extension (P5): the central side has this read. */
  acknowledge(readId: string): void {
    this.store?.acknowledge(readId);
  }

  /** Resolves once everything queued so far is committed (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  health(): ComponentHealth {
    // Degraded, not failed: a store in trouble must not make the supervisor restart a daemon whose
    // cameras still read plates (hot lists and MQTT keep working).
    const recentDrops = Date.now() - this.lastDropAtMs < 10 * 60_000;
    const status = this.lastWriteError || this.budgetAlarm || recentDrops ? 'degraded' : 'ok';
    return {
      status,
      queued: this.queue.length,
      written: this.counts.written,
      dropped: this.counts.dropped,
      writeErrors: this.counts.writeErrors,
      corruptSkipped: this.store?.corruptSkipped ?? 0,
      ...(this.budgetAlarm ? { alarm: this.budgetAlarm } : {}),
      ...(this.lastWriteError ? { lastWriteError: this.lastWriteError } : {}),
    };
  }

  /**
   * Bounded (the daemon's whole stop has 5 s): the purge ends after its batch in hand, the writer
   * gets `flushAtStopMs` for what is queued; reads still waiting then are counted as dropped and
   * logged, never lost unseen. LMDB closes only once no transaction of ours is in flight, or after
   * SETTLE_AT_STOP_MS more, logged.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.anchorSchedule?.stop();
    this.store?.stopPurges();
    await settlesWithin(this.flush(), this.opts.flushAtStopMs ?? FLUSH_AT_STOP_MS);
    this.closing = true;
    const left = this.queue.splice(0);
    if (left.length > 0) {
      this.countDropped(left.length);
      this.logger?.error({ reads: left.length, dropped: this.counts.dropped }, 'store stopping: reads still queued were not written; dropped');
    }
    const settled = await settlesWithin(Promise.all([this.writing, this.purging]), SETTLE_AT_STOP_MS);
    if (!settled) this.logger?.error({ writing: this.writing !== undefined, purging: this.purging !== undefined }, 'store stopping: a write or purge still running; closing the database anyway');
    await this.db?.root.close();
    this.store = undefined;
  }
}
