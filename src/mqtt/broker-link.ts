import mqtt, { type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Outbox, OutboxKind } from './outbox.js';
import { reconnectDelayMs } from './connection.js';

export interface BrokerLinkOptions {
  url: string;
  /** From connectOptions() (P16 TLS, the last will); reconnects are ours, not the library's. */
  clientOptions: IClientOptions;
  /** Sent in sequence order, at most `inflight` unacknowledged at a time; a message leaves on its PUBACK. */
  outbox: Outbox;
  inflight: number;
  protocolVersion: number;
  reconnectMaxDelayMs: number;
  /** Subscribed (QoS 1) on every connect. */
  commandsTopic: string;
  logger: Logger;
  /** After each connect, before the outbox is sent: the retained state and telemetry. */
  onConnect(): void;
  onMessage(topic: string, payload: Buffer, properties: IPublishPacket['properties']): void;
  /** For metrics: connected or not, a message acknowledged, the outbox's size after an ack, a retry scheduled. */
  onConnectedChange?(connected: boolean): void;
  onPublished?(kind: OutboxKind): void;
  onOutboxSize?(messages: number): void;
  onReconnect?(): void;
}

/**
 * The connection to the broker, apart from what is published on it (the MQTT extension): one client
 * at a time, reconnects with backoff and jitter (a fresh client each time), and the outbox pump that
 * sends every message at least once and in order. A generation number retires a lost client's
 * callbacks, so a late PUBACK or close from it changes nothing.
 */
export class BrokerLink {
  private client: MqttClient | undefined;
  private connectedNow = false;
  private gen = 0;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private cursor = 0;
  private readonly inflight = new Set<number>();
  private pumping = false;
  private stopping = false;
  /** Since when the link has been down (start counts as down). */
  disconnectedSinceMs = Date.now();

  constructor(private readonly o: BrokerLinkOptions) {}

  get connected(): boolean {
    return this.connectedNow;
  }

  start(): void {
    const gen = ++this.gen;
    const client = mqtt.connect(this.o.url, this.o.clientOptions);
    this.client = client;
    client.on('connect', () => {
      if (gen !== this.gen) return;
      this.connectedNow = true;
      this.o.onConnectedChange?.(true);
      this.o.logger.info({ url: this.o.url, attempts: this.attempt, outbox: this.o.outbox.size }, 'connected to MQTT broker');
      this.attempt = 0;
      this.cursor = 0;
      this.inflight.clear();
      client.subscribe(this.o.commandsTopic, { qos: 1 }, (err) => {
        if (err) this.o.logger.error({ err: err.message }, 'cannot subscribe to commands');
      });
      this.o.onConnect();
      this.pump();
    });
    client.on('message', (topic, payload, packet) => {
      if (gen !== this.gen) return;
      this.o.onMessage(topic, payload, packet.properties);
    });
    client.on('error', (err) => {
      if (gen !== this.gen) return;
      // Logged once per outage; the close that follows schedules the retry.
      if (this.attempt === 0) this.o.logger.warn({ url: this.o.url, err: err.message }, 'MQTT connection failed; retrying with backoff');
    });
    client.on('close', () => {
      if (gen === this.gen) this.onDisconnected();
    });
  }

  private onDisconnected(): void {
    if (this.connectedNow) {
      this.disconnectedSinceMs = Date.now();
      this.o.logger.warn({ url: this.o.url, outbox: this.o.outbox.size }, 'MQTT connection lost; messages stay in the outbox');
    }
    this.connectedNow = false;
    this.o.onConnectedChange?.(false);
    this.gen++;
    this.inflight.clear();
    const old = this.client;
    this.client = undefined;
    old?.removeAllListeners('close');
    old?.on('error', () => {});
    old?.end(true);
    if (this.stopping) return;
    const delay = reconnectDelayMs(this.attempt++, this.o.reconnectMaxDelayMs);
    this.o.onReconnect?.();
    this.reconnectTimer = setTimeout(() => this.start(), delay);
  }

  /**
   * Sends outbox messages in sequence order, up to `inflight` unacknowledged at a time. A message
   * leaves the outbox only on its PUBACK; after a reconnect sending starts again from the oldest
   * unacknowledged one, so the broker sees every message at least once and in order (the central
   * side drops repeats by messageId).
   */
  pump(): void {
    const client = this.client;
    const outbox = this.o.outbox;
    if (!client || !this.connectedNow || this.pumping) return;
    this.pumping = true;
    try {
      while (this.inflight.size < this.o.inflight) {
        const unreadableBefore = outbox.unreadable;
        const batch = outbox.peek(this.cursor, this.o.inflight - this.inflight.size);
        if (outbox.unreadable > unreadableBefore) this.o.logger.error({ dropped: outbox.unreadable - unreadableBefore, unreadableTotal: outbox.unreadable }, 'outbox messages do not open with the device keys (data key deleted or file damaged); dropped');
        if (batch.length === 0) break;
        for (const msg of batch) {
          this.cursor = msg.seq + 1;
          this.inflight.add(msg.seq);
          const gen = this.gen;
          const options: IClientPublishOptions = { qos: 1 };
          if (this.o.protocolVersion === 5) options.properties = { contentType: 'application/json', userProperties: { messageId: msg.messageId, kind: msg.kind } };
          client.publish(msg.topic, msg.payload, options, (err) => {
            if (gen !== this.gen || err) return; // the connection went; the reconnect resends it
            this.inflight.delete(msg.seq);
            this.o.onPublished?.(msg.kind);
            void outbox
              .ack(msg.seq)
              .then(() => {
                this.o.onOutboxSize?.(outbox.size);
                this.pump();
              })
              .catch((e: unknown) => this.o.logger.error({ err: e }, 'outbox ack failed'));
          });
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Straight to the broker, not through the outbox (retained state, telemetry, command answers); dropped while down. */
  publishDirect(topic: string, payload: object, retain: boolean, correlationData?: Buffer): void {
    if (!this.client || !this.connectedNow) return;
    const options: IClientPublishOptions = { qos: 1, retain };
    if (this.o.protocolVersion === 5) {
      options.properties = { contentType: 'application/json' };
      if (correlationData) options.properties.correlationData = correlationData;
    }
    this.client.publish(topic, JSON.stringify(payload), options, (err) => {
      if (err) this.o.logger.debug({ topic, err: err.message }, 'direct publish not acknowledged');
    });
  }

  /**
   * Bounded: `lastWords` (the retained offline state of a clean stop; the last will only fires on a
   * lost connection) gets at most 1 s, the orderly disconnect 1 s more, then the socket is dropped.
   */
  async stop(lastWords?: { topic: string; payload: object }): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (client && this.connectedNow && lastWords) {
      await Promise.race([
        client.publishAsync(lastWords.topic, JSON.stringify(lastWords.payload), { qos: 1, retain: true }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
    }
    this.gen++;
    this.connectedNow = false;
    if (client) await Promise.race([client.endAsync(false).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]).then(() => client.end(true));
    this.client = undefined;
  }
}
