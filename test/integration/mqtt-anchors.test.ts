import { describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { checkAnchors, readAnchorsFile } from '../../src/access/anchors.js';
import { DeviceEventBus } from '../../src/device-events.js';
import type { DaemonContext } from '../../src/extension.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { AccessLogHotListChanges } from '../../src/access/hotlist-changes.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import { MqttExtension } from '../../src/mqtt/extension.js';
import { HitWatcher } from '../../src/mqtt/watch.js';
import { createHold } from '../../src/store/evidence-holds.js';
import { StoreExtension } from '../../src/store/store-extension.js';
import { makePublisher, makeRead, schemaValidators, tempDir, testConfig, waitFor } from '../support/mqtt-harness.js';

// Issue 20 §1 (P6): the device publishes its signed access-log heads through the durable outbox to
// the central broker (the Mosquitto on 127.0.0.1:1883), where `alpr-edge watch` keeps them. The
// store, hot-list and MQTT extensions wired as the daemon wires them; the watcher as `watch` runs it.
const URL = 'mqtt://127.0.0.1:1883';

describe('access-log anchors over MQTT', () => {
  it('P6: signed heads leave through the outbox at start and after a hold change; watch keeps them and they check against the local log', async () => {
    const deviceId = `anchors-${randomUUID().slice(0, 8)}`;
    const dir = tempDir('mqtt-anchors-');
    const pub = makePublisher(dir);
    const out = tempDir('mqtt-anchors-out-');
    const anchors: Array<{ seq: number }> = [];
    const watcher = new HitWatcher({ brokerUrl: URL, group: `anchors-${deviceId}`, outDir: out, logger: pino({ level: 'silent' }), onAnchor: (a) => a.deviceId === deviceId && anchors.push(a) });
    await watcher.start();
    onTestFinished(() => watcher.stop());

    const config = testConfig(deviceId, dir, pub.pubFile, { url: URL, allowPlainText: true, protocolVersion: 5, publishReads: false });
    const ctx: DaemonContext = { config, logger: pino({ level: 'silent' }), metrics: createMetrics(), events: new DeviceEventBus() };
    const store = new StoreExtension();
    const hotlist = new HotListExtension({ changeLog: new AccessLogHotListChanges(() => store.state()) });
    const mqttExt = new MqttExtension({ stateDatabase: () => store.state()?.db, hotlist, version: 'test', anchors: store });
    await store.start(ctx);
    await hotlist.start(ctx);
    await mqttExt.start(ctx);
    onTestFinished(async () => {
      await mqttExt.stop();
      await hotlist.stop();
      await store.stop();
    });

    // The head made at start, before MQTT started, is published once MQTT runs.
    await waitFor(() => anchors.length >= 1, 10_000, 'the head made at start');
    const read = makeRead('6ANC001', 'CA', deviceId);
    await store.store!.put(read);
    createHold(store.store!, { name: 'case-a', caseNumber: '25-0601', reason: 'evidence', readIds: [read.id] }, 'ivan');
    const holdSeq = (store.store!.db.accessLog.getKeysCount());
    // A hold change is anchored at the next check (every 5 s), not at the next interval (15 min).
    await waitFor(() => anchors.some((a) => a.seq >= holdSeq), 15_000, 'a head after the hold');

    const file = join(out, deviceId, 'anchors.jsonl');
    expect(existsSync(file)).toBe(true);
    const kept = readAnchorsFile(file);
    const schemas = schemaValidators();
    for (const a of kept) schemas.check(`alpr/v1/${deviceId}/anchors`, a);
    expect(kept.map((a) => a.seq)).toEqual(anchors.map((a) => a.seq));
    const check = checkAnchors(store.store!.db, kept, deviceId, store.store!.keys.signingPublicKeyPem);
    expect(check).toMatchObject({ ok: true, badSignatures: 0, lastMatchingSeq: holdSeq });
    expect(readFileSync(file, 'utf8')).not.toContain('6ANC001');
  });
});
