import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import mqtt, { type MqttClient } from 'mqtt';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { DaemonContext } from '../../src/extension.js';
import { DeviceEventBus } from '../../src/device-events.js';
import type { Read } from '../../src/pipeline/read.js';
import { newReadId } from '../../src/pipeline/read-id.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import { MqttExtension } from '../../src/mqtt/extension.js';
import type { StoreExtension } from '../../src/store/store-extension.js';
import { openStateDatabase, openStateDatabaseFor, type StateDatabase } from '../../src/state/database.js';
import { generatePublisherKeys, signHotList } from '../../src/hotlist/signed-list.js';
import type { HotListEntry } from '../../src/hotlist/list.js';
import type { HotListChange, HotListChangeLog } from '../../src/hotlist/local-entries.js';

export const PLATE_JPEG = readFileSync('test/fixtures/plates/00-ca.jpg');
export const OVERVIEW_JPEG = readFileSync('test/fixtures/scenes/one-car.jpg');

/** A read as the pipeline makes it (P2), with real JPEG evidence from the fixtures. */
export function makeRead(plate: string, state: string | null, deviceId: string, extra: Partial<Read> = {}): Read {
  const now = new Date().toISOString();
  return {
    id: newReadId(),
    deviceId,
    cameraId: 'cam1',
    plate,
    state,
    stateConfidence: state ? 0.9 : null,
    confidence: 0.93,
    agreement: 0.9,
    candidates: [{ text: plate, confidence: 0.93 }],
    capturedAt: now,
    firstSeenAt: now,
    lastSeenAt: now,
    frames: 5,
    box: [10, 20, 120, 60],
    plateJpeg: PLATE_JPEG,
    overviewJpeg: OVERVIEW_JPEG,
    location: { latitude: 37.77, longitude: -122.42, headingDeg: 90, description: 'test pole' },
    modelVersion: 'test-model',
    ...extra,
  };
}

export function entry(plate: string, state: string | null, extra: Partial<HotListEntry> = {}): HotListEntry {
  return { plate, state, type: 'SVS', reason: 'stolen (test)', recordNumber: `V${plate}`, enteredAt: '2025-01-01T00:00:00.000Z', expiresAt: null, partial: /[?*]/.test(plate), fuzzy: false, ...extra };
}

/** A publisher key pair on disk and a signer for list bodies. */
export function makePublisher(dir: string, keyId = 'test-publisher') {
  const keys = generatePublisherKeys();
  const pubFile = join(dir, `${keyId}.pub.pem`);
  writeFileSync(pubFile, keys.publicKeyPem);
  return {
    keyId,
    pubFile,
    sign: (name: string, version: number, entries: HotListEntry[], issuedAt = new Date().toISOString()) => signHotList({ name, source: 'test source', version, issuedAt, entries }, keys.privateKeyPem, keyId),
  };
}

export function testConfig(deviceId: string, stateDir: string, pubFile: string, mqttCfg: Record<string, unknown>, hotlists: Record<string, unknown> = {}): Config {
  return validateConfig({
    deviceId,
    location: { latitude: 37.77, longitude: -122.42, headingDeg: 90, description: 'test' },
    cameras: [{ id: 'cam1', uri: 'test://' }],
    http: { port: 0 },
    log: { level: 'silent' },
    stateDir,
    hotlists: { publisherKeys: [{ id: 'test-publisher', file: pubFile }], ...hotlists },
    mqtt: mqttCfg,
  });
}

/**
 * Hot-list changes kept in memory, for tests of the hot-list extension without a store (the daemon
 * hands it the store's access log).
 */
export function memoryChangeLog(): HotListChangeLog & { changes: HotListChange[] } {
  const changes: HotListChange[] = [];
  return { changes, append: (change) => void changes.push(change) };
}

/**
 * The state environment of `stateDir` where the store would open it (`<stateDir>/store`), for tests
 * that run the outbox or the MQTT extension without a store; the caller closes it (`root.close()`)
 * after what uses it has stopped. A small map: tests hold little.
 */
export function openTestStateDatabase(stateDir: string = tempDir('state-')): StateDatabase {
  return openStateDatabase(join(stateDir, 'store'), 256 << 20);
}

/**
 * The hot-list and MQTT extensions as the daemon wires them, minus cameras and models; with a
 * `store`, that first (as the daemon orders them) and MQTT's outbox in its state database, else in
 * a state environment of `config.stateDir` opened here (one process must open an LMDB environment
 * once: two handles on one file wait on each other's write lock). `stop` stops them in reverse and
 * closes what it opened; `logger` to watch what they log.
 */
export async function startHitExtensions(config: Config, logger: pino.Logger = pino({ level: 'silent' }), opts: { store?: StoreExtension } = {}) {
  const ctx: DaemonContext = { config, logger, metrics: createMetrics(), events: new DeviceEventBus() };
  const store = opts.store;
  const storeSink = await store?.start({ ...ctx, logger: ctx.logger.child({ component: 'store' }) });
  const state = store ? undefined : openStateDatabaseFor(config);
  const hotlist = new HotListExtension({ changeLog: memoryChangeLog() });
  const mqttExt = new MqttExtension({ stateDatabase: () => state ?? store?.state()?.db, hotlist, version: 'test' });
  await hotlist.start({ ...ctx, logger: ctx.logger.child({ component: 'hotlist' }) });
  await mqttExt.start({ ...ctx, logger: ctx.logger.child({ component: 'mqtt' }) });
  let stopped: Promise<void> | undefined;
  return {
    hotlist,
    mqtt: mqttExt,
    storeSink,
    /** The state environment the outbox lives in (the store's, or the one opened here). */
    stateDatabase: (state ?? store?.state()?.db)!,
    ctx,
    /** The daemon's sink order: hot list, then MQTT. */
    async deliver(read: Read) {
      await hotlist.accept(read);
      await mqttExt.accept(read);
    },
    /** Idempotent: a test may stop early and again in its cleanup. */
    stop() {
      stopped ??= (async () => {
        await mqttExt.stop();
        await hotlist.stop();
        await store?.stop();
        await state?.root.close();
      })();
      return stopped;
    },
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Validators built from docs/schemas/*.json: the published contract, not the TypeScript types. */
export function schemaValidators() {
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  const load = (f: string) => ajv.compile(JSON.parse(readFileSync(join('docs/schemas', f), 'utf8')) as object);
  const v = { hits: load('hit.json'), reads: load('read.json'), events: load('event.json'), audit: load('audit.json'), anchors: load('anchor.json'), state: load('state.json'), telemetry: load('telemetry.json'), response: load('response.json') };
  return {
    /** Throws with the ajv errors when a message on `topic` does not match its schema. */
    check(topic: string, payload: unknown): void {
      const kind = topic.includes('/response/') ? 'response' : (topic.split('/')[3] as keyof typeof v);
      const validate = v[kind];
      if (!validate) throw new Error(`no schema for topic ${topic}`);
      if (!validate(payload)) throw new Error(`${topic} payload violates docs/schemas: ${JSON.stringify(validate.errors)}`);
    },
  };
}

export interface Received {
  topic: string;
  payload: Record<string, unknown>;
  retain: boolean;
}

/** A central-side subscriber on loopback collecting parsed messages. */
export async function subscribe(url: string, filter: string, opts: mqtt.IClientOptions = {}): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 100, ...opts });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    // Requests on cmd/# may be binary (signed lists); the device's own messages are always JSON.
    if (topic.includes('/cmd/')) return;
    let parsed: Record<string, unknown> = {};
    if (payload.length > 0) parsed = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    messages.push({ topic, payload: parsed, retain: packet.retain });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages };
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
