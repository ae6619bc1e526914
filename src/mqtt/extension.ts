import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { DaemonContext, DaemonExtension } from '../extension.js';
import type { ComponentHealth } from '../health/health.js';
import type { MqttConfig } from '../config/schema.js';
import type { Read, ReadSink } from '../pipeline/read.js';
import { newReadId } from '../pipeline/read-id.js';
import type { Hit } from '../hotlist/hit.js';
import type { DeviceEventBus } from '../device-events.js';
import type { ChainAnchor } from '../access/anchors.js';

import type { HotListChange } from '../hotlist/local-entries.js';
import { Outbox, type OutboxKind } from './outbox.js';
import { legacyOutboxPath, migrateLegacyOutbox } from './outbox-migration.js';
import { openDeviceKeys } from '../state/device-keys.js';
import type { StateDatabase } from '../state/database.js';
import { AlprError, EX_UNAVAILABLE } from '../errors.js';
import { deviceTopics, type DeviceTopics } from './topics.js';
import { checkMqttConfig, connectOptions } from './connection.js';
import type { BrokerLink } from './broker-link.js';
import type { EmbeddedBroker } from './embedded-broker.js';
import { anchorPayload, auditPayload, eventPayload, hitPayload, readPayload, statePayload, type HitPayload, type StatePayload } from './messages.js';
import { CommandHandler, type HotListService } from './commands.js';
import { TelemetryBuilder } from './telemetry.js';
import { diskSpace } from '../host/disk.js';
import { sourceCommit } from '../source-commit.js';
import type { HealthReport } from '../health/health.js';
import type { ClockSync } from '../host/clock.js';

/** At most one outbox-dropped event this often; the first gathers the drops of its first second. */
export const DROP_EVENT_INTERVAL_MS = 60_000;
const DROP_EVENT_FIRST_DELAY_MS = 1000;

export interface MqttExtensionOptions {
  /**
   * The open state environment the outbox lives in (`outbox-messages`, `outbox-index`): the
   * store's, handed over by the composition root; asked for at start, so the store starts first.
   */
  stateDatabase: () => StateDatabase | undefined;
  /** Hot-list summaries and installs (hits, changes and alarms come on the device-event bus). */
  hotlist?: HotListService;
  /** Daemon version for the `state` topic. */
  version?: string;
  /** Demo: called with every hit the embedded broker carries (to print it). */
  onBrokerHit?: (hit: HitPayload) => void;
  /** P5: the central side acknowledged these reads (feeds the store's forward-then-purge). */
  onReadsAcknowledged?: (readIds: string[]) => void;
  /** P6: signed access-log heads to publish on `anchors` (the store's); returns the unsubscribe. */
  anchors?: AnchorSource;
}

/** Where signed access-log heads come from (the store extension implements it). */
export interface AnchorSource {
  onAnchor(listener: (a: ChainAnchor) => void): () => void;
}

/**
 * Publishes hits, reads, events and audit entries to the central broker through a durable outbox
 * (QoS 1, in order, survives link loss and restarts), keeps a retained `state` with a last will, and
 * answers commands on `cmd/#` (docs/mqtt-api.md). What it publishes is decided here; the connection,
 * its reconnects and the outbox pump are the BrokerLink's (broker-link.ts).
 */
export class MqttExtension implements DaemonExtension, ReadSink {
  readonly name = 'mqtt';
  private cfg!: MqttConfig;
  private logger!: Logger;
  private deviceId = '';
  private cameraIds: string[] = [];
  private topics!: DeviceTopics;
  private outbox: Outbox | undefined;
  private broker: EmbeddedBroker | undefined;
  private url = '';
  /** The connection, reconnects and the outbox pump; this extension decides what goes on it. */
  private link: BrokerLink | undefined;
  private stopping = false;
  private chain: Promise<unknown> = Promise.resolve();
  private commands!: CommandHandler;
  private detach: (() => void)[] = [];
  private events!: DeviceEventBus;
  private droppedSinceEvent: Record<OutboxKind, number> = { hit: 0, read: 0, event: 0, audit: 0 };
  private dropEventTimer: NodeJS.Timeout | undefined;
  private lastDropEventMs = 0;
  private readonly camerasDown = new Set<string>();
  private stateDir = '';
  private commit = 'unknown';
  private daemonHealth: (() => HealthReport) | undefined;
  private clock: (() => ClockSync | undefined) | undefined;
  private readonly telemetry = new TelemetryBuilder();
  private telemetryTimer: NodeJS.Timeout | undefined;
  private m!: { published: Counter; dropped: Counter; connectedGauge: Gauge; outboxMessages: Gauge; reconnects: Counter; commands: Counter };

  constructor(private readonly opts: MqttExtensionOptions) {}

  async start(ctx: DaemonContext): Promise<ReadSink | undefined> {
    this.cfg = { ...ctx.config.mqtt };
    this.logger = ctx.logger;
    this.deviceId = ctx.config.deviceId;
    this.cameraIds = ctx.config.cameras.map((c) => c.id);
    this.stateDir = ctx.config.stateDir;
    this.daemonHealth = ctx.health;
    this.clock = ctx.clock;
    this.url = this.cfg.url;
    // Asked before anything starts (the embedded broker), so a start that cannot have its outbox leaves nothing running.
    const db = this.opts.stateDatabase();
    if (!db && (this.url || this.cfg.embeddedBroker.enabled)) throw new AlprError('the state database is not open, and the MQTT outbox lives in it: the store must start before MQTT', 'store', EX_UNAVAILABLE);
    if (!this.url && this.cfg.embeddedBroker.enabled) {
      const eb = this.cfg.embeddedBroker;
      checkMqttConfig(this.cfg);
      // aedes is loaded for the demo's embedded broker only (start-up, issue 23).
      const { EmbeddedBroker } = await import('./embedded-broker.js');
      this.broker = await EmbeddedBroker.start(eb.host, eb.port);
      this.url = this.broker.url;
      this.cfg.protocolVersion = 4; // aedes speaks MQTT 3.1.1
      this.cfg.allowPlainText = true;
      ctx.logger.info({ url: this.url }, 'embedded MQTT broker listening (demo)');
      if (this.opts.onBrokerHit) this.broker.subscribe('alpr/v1/+/hits', (_t, p) => this.opts.onBrokerHit!(JSON.parse(p.toString('utf8')) as HitPayload));
    }
    if (!this.url || !db) return undefined;
    // The MQTT client library (~80-110 ms to load) only when there is a broker to talk to (issue 23).
    const { BrokerLink } = await import('./broker-link.js');
    this.topics = deviceTopics(this.deviceId);
    const clientOptions = connectOptions(this.cfg, this.url, this.deviceId, { topic: this.topics.state, payload: JSON.stringify(this.offlineState('connection lost')) });
    this.registerMetrics(ctx);
    // Messages queued in the outbox's old environment of its own move into the state one first.
    const legacy = legacyOutboxPath(ctx.config.stateDir);
    const migrated = await migrateLegacyOutbox(legacy, db);
    if (migrated) ctx.logger.info({ from: legacy, ...migrated }, 'outbox moved into the state database; old directory deleted');
    // P16: messages wait on disk sealed with the device keys, as reads do in the store.
    this.outbox = new Outbox(db, { maxMessages: this.cfg.outboxMaxMessages, maxBytes: this.cfg.outboxMaxBytes }, openDeviceKeys(ctx.config.stateDir));
    this.m.outboxMessages.set(this.outbox.size);
    if (this.outbox.unreadable > 0) ctx.logger.error({ dropped: this.outbox.unreadable }, 'outbox records that do not decode (file damaged); dropped');
    if (this.outbox.size > 0) ctx.logger.info({ messages: this.outbox.size }, 'outbox holds messages from before the restart; sending them first');
    this.commands = new CommandHandler({
      deviceId: this.deviceId,
      topics: this.topics,
      maxCommandBytes: this.cfg.maxCommandBytes,
      hotlist: this.opts.hotlist,
      logger: this.logger,
      publishState: () => this.publishState(),
      onReadsAcknowledged: this.opts.onReadsAcknowledged,
      respond: (topic, payload, correlationData) => this.publishDirect(topic, payload, false, correlationData),
    });
    // Hits and hot-list changes come on the device-event bus (the hot lists send them there).
    this.detach.push(
      ctx.events.listen('hit', (hit: Hit) => void this.enqueue('hit', this.topics.hits, (id) => hitPayload(hit, id))),
      ctx.events.listen('hotlist-change', (c: HotListChange) => void this.enqueue('audit', this.topics.audit, (id) => auditPayload(this.deviceId, c, id))),
      ctx.events.listen('hotlists-changed', () => this.publishState()),
    );
    // P6: signed access-log heads leave through the outbox too; dropped (as audit) only before hits.
    if (this.opts.anchors) this.detach.push(this.opts.anchors.onAnchor((a) => void this.enqueue('audit', this.topics.anchors, (id) => anchorPayload(a, id))));
    // Every component's events (hot lists, cameras, disk, tamper, our own drops) leave through the outbox.
    this.events = ctx.events;
    this.detach.push(
      ctx.events.subscribe((ev) => {
        void this.enqueue('event', this.topics.events, (id) => eventPayload(this.deviceId, ev, id));
        // The retained state says which cameras are down, for a consumer that joins later.
        const camera = typeof ev.detail['camera'] === 'string' ? ev.detail['camera'] : undefined;
        if (camera && (ev.type === 'camera-down' || ev.type === 'camera-up')) {
          if (ev.type === 'camera-down') this.camerasDown.add(camera);
          else this.camerasDown.delete(camera);
          this.publishState();
        }
      }),
    );
    this.commit = sourceCommit();
    const outbox = this.outbox;
    this.link = new BrokerLink({
      url: this.url,
      clientOptions,
      outbox,
      inflight: this.cfg.inflight,
      protocolVersion: this.cfg.protocolVersion,
      reconnectMaxDelayMs: this.cfg.reconnectMaxDelayMs,
      commandsTopic: this.topics.commands,
      logger: this.logger,
      onConnect: () => {
        this.publishState();
        this.publishTelemetry();
      },
      onMessage: (topic, payload, properties) => {
        this.m.commands.inc();
        this.commands.handle(topic, payload, properties);
      },
      onConnectedChange: (connected) => this.m.connectedGauge.set(connected ? 1 : 0),
      onPublished: (kind) => this.m.published.inc({ kind }),
      onOutboxSize: (messages) => this.m.outboxMessages.set(messages),
      onReconnect: () => this.m.reconnects.inc(),
    });
    this.link.start();
    // Retained health telemetry: on each connect (above) and every interval while connected.
    this.telemetryTimer = setInterval(() => this.publishTelemetry(), this.cfg.telemetryIntervalS * 1000);
    this.telemetryTimer.unref();
    return this;
  }

  /**
   * Drops become an `outbox-dropped` event: the first a second after the first drop (so a burst is
   * one event), then at most one a minute, each with the counts since the last. The bound matters: the event itself enters a full outbox and may push
   * out another read.
   */
  private noteDropped(kinds: OutboxKind[]): void {
    for (const k of kinds) this.droppedSinceEvent[k]++;
    if (this.dropEventTimer || this.stopping) return;
    const waitMs = Math.max(DROP_EVENT_FIRST_DELAY_MS, this.lastDropEventMs + DROP_EVENT_INTERVAL_MS - Date.now());
    this.dropEventTimer = setTimeout(() => {
      this.dropEventTimer = undefined;
      this.lastDropEventMs = Date.now();
      const dropped = { ...this.droppedSinceEvent };
      this.droppedSinceEvent = { hit: 0, read: 0, event: 0, audit: 0 };
      const outbox = this.outbox;
      this.events.publish('outbox-dropped', dropped.hit > 0 ? 'critical' : 'warning', {
        dropped,
        outboxMessages: outbox?.size ?? 0,
        outboxBytes: outbox?.bytes ?? 0,
        outboxMaxMessages: this.cfg.outboxMaxMessages,
        outboxMaxBytes: this.cfg.outboxMaxBytes,
        disconnectedForS: this.disconnectedForS(),
      });
    }, waitMs);
    this.dropEventTimer.unref();
  }

  async accept(read: Read): Promise<void> {
    if (this.cfg.publishReads) await this.enqueue('read', this.topics.reads, (id) => readPayload(read, id));
  }

  /** Serialised so messages keep the order they were produced in, even while the outbox makes room. */
  private enqueue(kind: OutboxKind, topic: string, build: (messageId: string) => object): Promise<unknown> {
    const messageId = newReadId();
    const payload = Buffer.from(JSON.stringify(build(messageId)));
    this.chain = this.chain
      .then(async () => {
        const outbox = this.outbox;
        if (!outbox) return;
        const { dropped } = await outbox.enqueue(kind, topic, messageId, payload);
        for (const d of dropped) this.m.dropped.inc({ kind: d });
        if (dropped.length > 0) this.noteDropped(dropped);
        if (dropped.length > 0) this.logger.warn({ dropped, outbox: outbox.size }, 'outbox full; oldest messages dropped');
        this.m.outboxMessages.set(outbox.size);
        this.link?.pump();
      })
      .catch((err: unknown) => this.logger.error({ err, kind }, 'outbox write failed'));
    return this.chain;
  }

  private publishDirect(topic: string, payload: object, retain: boolean, correlationData?: Buffer): void {
    this.link?.publishDirect(topic, payload, retain, correlationData);
  }

  private get connected(): boolean {
    return this.link?.connected ?? false;
  }

  private disconnectedForS(): number {
    return this.connected ? 0 : Math.round((Date.now() - (this.link?.disconnectedSinceMs ?? Date.now())) / 1000);
  }

  /** Retained; hot-list versions and ages (P10) so central sees a stale list without asking. */
  publishState(): void {
    if (!this.topics) return;
    this.publishDirect(this.topics.state, statePayload(this.deviceId, this.opts.version ?? 'unknown', this.cameraIds, this.opts.hotlist?.summaries() ?? [], this.camerasDown), true);
  }

  /**
   * Retained, straight to the broker rather than through the outbox: only the newest matters, and a
   * consumer that joins later gets it at once. Counts, names and ages only (P1).
   */
  publishTelemetry(): void {
    if (!this.topics || !this.outbox) return;
    const outbox = this.outbox;
    let health: HealthReport | undefined;
    try {
      health = this.daemonHealth?.();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'health report failed; telemetry sent without it');
    }
    const payload = this.telemetry.build({
      deviceId: this.deviceId,
      intervalS: this.cfg.telemetryIntervalS,
      version: this.opts.version ?? 'unknown',
      commit: this.commit,
      health,
      hotlists: this.opts.hotlist?.summaries() ?? [],
      outbox: { messages: outbox.size, hits: outbox.countOf('hit'), bytes: outbox.bytes, dropped: outbox.dropped },
      disk: diskSpace(this.stateDir),
      clock: this.clock?.(),
    });
    this.publishDirect(this.topics.telemetry, payload, true);
  }

  private offlineState(reason: string): StatePayload {
    return { schema: 'alpr-edge/state/1', deviceId: this.deviceId, status: 'offline', reason };
  }

  health(): ComponentHealth {
    if (!this.url) return { status: 'ok', enabled: false };
    const outbox = this.outbox;
    const dropped = outbox ? Object.values(outbox.dropped).reduce((a, b) => a + b, 0) : 0;
    return {
      status: this.connected ? 'ok' : 'degraded',
      connected: this.connected,
      disconnectedForS: this.disconnectedForS(),
      outboxMessages: outbox?.size ?? 0,
      outboxHits: outbox?.countOf('hit') ?? 0,
      droppedMessages: dropped,
    };
  }

  /** Waits until the outbox is empty (tests, graceful drains); false on timeout. */
  async drained(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      await this.chain;
      if ((this.outbox?.size ?? 0) === 0) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const d of this.detach) d();
    clearTimeout(this.dropEventTimer);
    clearInterval(this.telemetryTimer);
    this.commands?.stop();
    await this.chain;
    // A clean stop says so (the last will only fires on a lost connection).
    await this.link?.stop({ topic: this.topics.state, payload: this.offlineState('stopped') });
    this.link = undefined;
    await this.outbox?.close();
    this.outbox = undefined;
    await this.broker?.close();
  }

  private registerMetrics(ctx: DaemonContext): void {
    const registers = [ctx.metrics.registry];
    this.m = {
      published: new Counter({ name: 'alpr_edge_mqtt_published_total', help: 'Messages acknowledged by the broker', labelNames: ['kind'], registers }),
      dropped: new Counter({ name: 'alpr_edge_mqtt_outbox_dropped_total', help: 'Messages dropped because the outbox was full (reads first)', labelNames: ['kind'], registers }),
      connectedGauge: new Gauge({ name: 'alpr_edge_mqtt_connected', help: '1 while connected to the broker', registers }),
      outboxMessages: new Gauge({ name: 'alpr_edge_mqtt_outbox_messages', help: 'Messages waiting in the durable outbox', registers }),
      reconnects: new Counter({ name: 'alpr_edge_mqtt_reconnects_total', help: 'Reconnect attempts', registers }),
      commands: new Counter({ name: 'alpr_edge_mqtt_commands_total', help: 'Command messages received', registers }),
    };
  }
}
