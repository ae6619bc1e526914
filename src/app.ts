import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { Daemon, type DaemonOptions } from './daemon.js';
import { StoreExtension } from './store/store-extension.js';
import { HotListExtension } from './hotlist/extension.js';
import { MqttExtension } from './mqtt/extension.js';
import type { HitPayload } from './mqtt/messages.js';
import { GpioExtension } from './device/gpio-extension.js';
import { appendAccessLog, sampleInquiries, verifyAccessLog } from './access/access-log.js';
import { checkAnchors } from './access/anchors.js';
import { AccessLogHotListChanges } from './access/hotlist-changes.js';
import { UserDirectory } from './access/users.js';
import { SharingRegistry } from './access/sharing.js';
import { queryApi } from './http/api/query-api.js';
import type { QueryServices } from './http/api/services.js';
import { createHold, getHold, listHolds, releaseHold } from './store/evidence-holds.js';
import { exportHold } from './store/export-bundle.js';
import type { ReadStore } from './store/read-store.js';
import { VERSION } from './version.js';

export interface AppOptions extends Pick<DaemonOptions, 'onRead' | 'onWedged' | 'configFile'> {
  /** Demo: called with every hit the embedded broker carries (to print it). */
  onBrokerHit?: (hit: HitPayload) => void;
  /** Has systemd been told READY? (undefined: no supervisor; then ready once a camera's first frame is analysed). */
  ready?: () => boolean | undefined;
}

/** What `buildApp` made: the daemon to start, and its extensions (tests reach into them). */
export interface App {
  daemon: Daemon;
  store: StoreExtension;
  hotlist: HotListExtension;
  mqtt: MqttExtension;
  gpio: GpioExtension;
}

/**
 * The composition root (as Zigbee2MQTT's controller): the one place that builds every extension,
 * hands each the narrow services it needs from the others, and registers every HTTP plugin.
 * Extensions never construct or import each other; what one needs from another is a function or a
 * small interface passed here:
 * - hot lists log their changes to the access log in the store's state database (P6, P11);
 * - MQTT keeps its durable outbox in the store's state database, publishes the store's signed
 *   access-log heads (P6) and hands acknowledged reads back to the store's forward-then-purge (P5);
 *   hits and hot-list changes reach it on the device-event bus;
 * - GPIO logs tamper changes to the access log (P17) and shows the daemon's health on its LED;
 * - the query API (users, sharing, holds, exports, the console's routes) gets narrow services on the
 *   store's database (`queryServices`: read queries, holds, the access log, the device's secrets).
 * Data-flow order: store → hot list → MQTT (the hot list raises hits that MQTT publishes); GPIO last.
 */
export function buildApp(config: Config, logger: Logger, opts: AppOptions = {}): App {
  const store = new StoreExtension();
  const hotlist = new HotListExtension({ changeLog: new AccessLogHotListChanges(() => store.state()) });
  const mqtt = new MqttExtension({
    // The outbox lives in the store's state environment (one environment, one budget it stays off).
    stateDatabase: () => store.state()?.db,
    hotlist,
    version: VERSION,
    onBrokerHit: opts.onBrokerHit,
    onReadsAcknowledged: (ids) => ids.forEach((id) => store.acknowledge(id)),
    anchors: store,
  });
  // Late-bound: the daemon is made after its extensions.
  let daemon: Daemon | undefined;
  const gpio = new GpioExtension({
    health: () => daemon!.health(),
    ready: () => opts.ready?.() ?? (daemon?.health().cameras.some((c) => c.lastInferenceAgeMs !== null) ?? false),
    recordAccess: (entry) => store.recordAccess(entry),
  });
  daemon = new Daemon(config, logger, {
    configFile: opts.configFile,
    extensions: [store, hotlist, mqtt, gpio],
    registerHttp: (app) => registerQueryApi(app, config, store),
    onRead: opts.onRead,
    onWedged: opts.onWedged,
  });
  return { daemon, store, hotlist, mqtt, gpio };
}

/**
 * What the query API may do with the store's open database, as the narrow interfaces it declares
 * (http/api/services.ts): no HTTP module holds the store, its database or the device keys.
 */
export function queryServices(store: ReadStore): QueryServices {
  const { db, keys } = store;
  return {
    reads: {
      search: (q) => store.search(q),
      get: (id) => store.get(id),
      image: (id, kind) => store.image(id, kind),
      usage: () => store.usage(),
      get corruptSkipped() {
        return store.corruptSkipped;
      },
    },
    holds: {
      create: (req, user) => createHold(store, req, user),
      list: () => listHolds(store),
      get: (name) => getHold(store, name),
      release: (name, user, reason) => releaseHold(store, name, user, reason),
      export: (opts) => exportHold(store, opts),
    },
    accessLog: {
      append: (input) => void appendAccessLog(db, input, keys),
      verify: () => verifyAccessLog(db, keys),
      sample: (opts) => sampleInquiries(db, opts, keys),
      checkAnchors: (anchors, deviceId) => checkAnchors(db, anchors, deviceId, keys.signingPublicKeyPem),
      hotListChanges: new AccessLogHotListChanges(() => ({ db, keys })),
    },
    secrets: keys,
  };
}

/** The query API on the store's open database: called by the daemon after the extensions start. */
async function registerQueryApi(app: FastifyInstance, config: Config, store: StoreExtension): Promise<void> {
  const state = store.state();
  const reads = store.store;
  if (!state || !reads) throw new Error('the store did not open its database; the query API cannot start');
  await app.register(queryApi, {
    ...queryServices(reads),
    users: new UserDirectory(state.db, config.access),
    sharing: new SharingRegistry(state.db, config.sharing),
    access: config.access,
    hotlist: { stateDir: config.stateDir, localEntryMaxDays: config.hotlists.localEntryMaxDays },
    exports: { dir: join(config.stateDir, 'exports'), deviceId: config.deviceId },
  });
}
