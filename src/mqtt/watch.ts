import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { AnchorMessage, HitMessage, type AnchorPayload, type HitPayload } from './messages.js';
import { FLEET_ANCHORS, FLEET_HITS, sharedSubscription } from './topics.js';
import { isLoopbackHost } from './connection.js';
import { AlprError, EX_UNAVAILABLE, EX_USAGE } from '../errors.js';
import { compileSchema } from '../schema-validation.js';

export { formatHitLine } from './hit-line.js';

// The reference central-side consumer (`alpr-edge watch`, docs/mqtt-api.md "Central side"): one
// member of an MQTT 5 shared-subscription group over a fleet's hits. Each hit is checked against the
// published schema, dropped if its messageId was seen already (QoS 1 is at-least-once), handed on,
// and saved with its images before the broker gets the PUBACK — so a consumer that dies mid-hit
// gets it again instead of losing it. A broker that speaks only MQTT 3.1.1 (the demo's embedded
// one) gets a plain subscription instead: everything works but the split between consumers.
// The fleet's signed access-log heads (`anchors`, P6) are kept too: appended to
// <out>/<deviceId>/anchors.jsonl, the file `alpr-edge audit verify --anchors` checks a device against.

export interface WatchOptions {
  brokerUrl: string;
  /** Shared-subscription group: consumers in one group split the hits between them. */
  group: string;
  /** Where hits are saved: <out>/<deviceId>/<messageId>.json, -plate.jpg, -overview.jpg. */
  outDir?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** P16: plain mqtt:// to anything but loopback must be asked for. */
  allowPlainText?: boolean;
  clientId?: string;
  /** Topic filter inside the group; default every device's hits. */
  filter?: string;
  /** How many messageIds are remembered for de-duplication (oldest forgotten first). */
  dedupeWindow?: number;
  logger: Logger;
  /** Called once per new, valid hit, after it is saved. */
  onHit?: (hit: HitPayload, receivedAtMs: number) => void;
  /** Called once per new, valid signed access-log head, after it is saved. */
  onAnchor?: (anchor: AnchorPayload) => void;
}

export interface WatchStats {
  received: number;
  hits: number;
  anchors: number;
  duplicates: number;
  invalid: number;
}

/** A watch option a person must fix: names it. */
export class WatchOptionError extends AlprError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`, option, EX_USAGE);
  }
}

/** The broker cannot be used: nothing answers, or it refused the connection or the subscription. */
export class WatchUnavailableError extends AlprError {
  constructor(
    readonly brokerUrl: string,
    message: string,
  ) {
    super(`${brokerUrl}: ${message}`, '--broker', EX_UNAVAILABLE);
  }
}

/** CONNACK codes of a broker that does not speak MQTT 5: 3.1.1's "unacceptable protocol version" (1) and 5's 0x84. */
const UNSUPPORTED_PROTOCOL = new Set([1, 0x84]);

function unavailable(brokerUrl: string, err: unknown): WatchUnavailableError {
  const code = (err as { code?: unknown }).code;
  // Socket errors carry a string code (ECONNREFUSED), TLS errors too (CERT_HAS_EXPIRED); a broker's
  // refusal, its numeric CONNACK code.
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new WatchUnavailableError(brokerUrl, `no broker answers (${code}): is it running, and is the URL right?`);
  if (typeof code === 'string') return new WatchUnavailableError(brokerUrl, `TLS with the broker failed (${code}: ${(err as Error).message}): check --ca, --cert and --key`);
  return new WatchUnavailableError(brokerUrl, `the broker refused the connection (${(err as Error).message})`);
}

/** The hit schema as published (docs/schemas/hit.json is rendered from the same object). */
export function hitValidator() {
  return compileSchema<HitPayload>(HitMessage);
}

export function anchorValidator() {
  return compileSchema<AnchorPayload>(AnchorMessage);
}

/** Remembers the last `size` ids in arrival order. */
class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly size: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.size) this.ids.delete(this.ids.values().next().value!);
  }
}

export function watchConnectOptions(o: WatchOptions): IClientOptions {
  let u: URL;
  try {
    u = new URL(o.brokerUrl);
  } catch {
    throw new WatchOptionError('--broker', `"${o.brokerUrl}" is not a URL (mqtt://host:1883 or mqtts://host:8883)`);
  }
  const opts: IClientOptions = {
    protocolVersion: 5,
    clientId: o.clientId ?? `alpr-edge-watch-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  };
  if (u.protocol === 'mqtts:') {
    if (!o.caFile) throw new WatchOptionError('--ca', 'mqtts:// needs the broker CA (P16: only that CA is trusted)');
    opts.ca = readFileSync(o.caFile);
    if (o.certFile || o.keyFile) {
      if (!o.certFile || !o.keyFile) throw new WatchOptionError(o.certFile ? '--key' : '--cert', 'a client certificate needs both --cert and --key');
      opts.cert = readFileSync(o.certFile);
      opts.key = readFileSync(o.keyFile);
    }
    opts.rejectUnauthorized = true;
    (opts as IClientOptions & { minVersion: string }).minVersion = 'TLSv1.2';
  } else if (u.protocol === 'mqtt:') {
    if (!isLoopbackHost(u.hostname) && !o.allowPlainText) throw new WatchOptionError('--broker', 'plain mqtt:// to a host other than loopback needs --allow-plain-text (P16: use mqtts://)');
  } else throw new WatchOptionError('--broker', `scheme ${u.protocol} is not mqtt: or mqtts:`);
  if (o.username) opts.username = o.username;
  if (o.password) opts.password = o.password;
  return opts;
}

/** One member of a consumer group over the fleet's hits. */
export class HitWatcher {
  readonly stats: WatchStats = { received: 0, hits: 0, anchors: 0, duplicates: 0, invalid: 0 };
  private client: MqttClient | undefined;
  private readonly validate = hitValidator();
  private readonly validateAnchor = anchorValidator();
  private readonly seen: RecentIds;
  /** False once the broker turned out to speak MQTT 3.1.1 only, which has no shared subscriptions. */
  private shared = true;

  constructor(private readonly o: WatchOptions) {
    this.seen = new RecentIds(o.dedupeWindow ?? 100_000);
  }

  get subscription(): string {
    const filter = this.o.filter ?? FLEET_HITS;
    return this.shared ? sharedSubscription(this.o.group, filter) : filter;
  }

  /** The fleet's signed access-log heads, split across the group like hits. */
  get anchorSubscription(): string {
    return this.shared ? sharedSubscription(this.o.group, FLEET_ANCHORS) : FLEET_ANCHORS;
  }

  async start(): Promise<void> {
    const opts = watchConnectOptions(this.o);
    if (this.o.outDir) mkdirSync(this.o.outDir, { recursive: true, mode: 0o700 });
    let client: MqttClient;
    try {
      client = await mqtt.connectAsync(this.o.brokerUrl, opts);
    } catch (err) {
      if (!UNSUPPORTED_PROTOCOL.has((err as { code?: unknown }).code as number)) throw unavailable(this.o.brokerUrl, err);
      client = await mqtt.connectAsync(this.o.brokerUrl, { ...opts, protocolVersion: 4 }).catch((e: unknown) => {
        throw unavailable(this.o.brokerUrl, e);
      });
      this.shared = false;
      this.o.logger.warn({ broker: this.o.brokerUrl }, 'the broker speaks MQTT 3.1.1 only: no shared subscription, so this watcher gets every hit whatever its --group');
    }
    this.client = client;
    // mqtt.js sends the PUBACK when this callback is called: after the hit is handled and saved.
    client.handleMessage = (packet, done) => {
      try {
        if (packet.cmd === 'publish') {
          if (packet.topic.endsWith('/anchors')) this.onAnchor(packet);
          else this.onMessage(packet);
        }
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'handling a hit failed');
      }
      done();
    };
    client.on('error', (err) => this.o.logger.warn({ err: err.message }, 'broker connection error'));
    client.on('reconnect', () => this.o.logger.info('reconnecting'));
    const granted = await client.subscribeAsync([this.subscription, this.anchorSubscription], { qos: 1 });
    const refused = granted.find((g) => g.qos > 2);
    if (refused) {
      await this.stop();
      throw new WatchUnavailableError(this.o.brokerUrl, `the broker refused the subscription ${this.subscription} (reason code ${refused.qos}); does it support MQTT 5 shared subscriptions?`);
    }
    this.o.logger.info({ subscription: this.subscription }, 'watching hits');
  }

  private onMessage(packet: IPublishPacket): void {
    const receivedAtMs = Date.now();
    this.stats.received++;
    let hit: unknown;
    try {
      hit = JSON.parse(Buffer.from(packet.payload).toString('utf8'));
    } catch {
      hit = undefined;
    }
    if (!this.validate(hit)) {
      this.stats.invalid++;
      const e = this.validate.errors?.[0];
      this.o.logger.warn({ topic: packet.topic, err: e ? `${e.instancePath || '(message)'} ${e.message ?? ''}` : 'not JSON' }, 'message on hits does not match hit.json; skipped');
      return;
    }
    const duplicate = this.seen.has(hit.messageId) || (this.o.outDir !== undefined && !this.save(hit));
    this.seen.add(hit.messageId);
    if (duplicate) {
      this.stats.duplicates++;
      return;
    }
    this.stats.hits++;
    this.o.onHit?.(hit, receivedAtMs);
  }

  private onAnchor(packet: IPublishPacket): void {
    this.stats.received++;
    let anchor: unknown;
    try {
      anchor = JSON.parse(Buffer.from(packet.payload).toString('utf8'));
    } catch {
      anchor = undefined;
    }
    if (!this.validateAnchor(anchor)) {
      this.stats.invalid++;
      this.o.logger.warn({ topic: packet.topic }, 'message on anchors does not match anchor.json; skipped');
      return;
    }
    if (this.seen.has(anchor.messageId)) {
      this.stats.duplicates++;
      return;
    }
    this.seen.add(anchor.messageId);
    if (this.o.outDir) {
      const dir = join(this.o.outDir, anchor.deviceId);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // One line per head, appended in one write; a repeat (another consumer, a restart) is harmless.
      appendFileSync(join(dir, 'anchors.jsonl'), JSON.stringify(anchor) + '\n', { mode: 0o600 });
    }
    this.stats.anchors++;
    this.o.logger.info({ deviceId: anchor.deviceId, seq: anchor.seq, at: anchor.at }, 'access-log head received');
    this.o.onAnchor?.(anchor);
  }

  /**
   * Saves the hit; false when this messageId is already on disk (another consumer of the group, or
   * this one before a restart, had it: the JSON is created exclusively, so one copy wins).
   */
  private save(hit: HitPayload): boolean {
    const dir = join(this.o.outDir!, hit.deviceId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const base = join(dir, hit.messageId);
    const plate = Buffer.from(hit.images.plateJpeg, 'base64');
    const overview = Buffer.from(hit.images.overviewJpeg, 'base64');
    writeFileSync(`${base}-plate.jpg`, plate, { mode: 0o600 });
    writeFileSync(`${base}-overview.jpg`, overview, { mode: 0o600 });
    const record = { ...hit, images: { plateJpeg: `${hit.messageId}-plate.jpg`, overviewJpeg: `${hit.messageId}-overview.jpg` } };
    try {
      // Written last: its presence says the images are complete.
      writeFileSync(`${base}.json`, JSON.stringify(record, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    return true;
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
  }
}
