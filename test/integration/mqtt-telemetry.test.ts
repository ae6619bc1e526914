import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createMetrics } from '../../src/metrics/metrics.js';
import { assessHealth, type HealthReport } from '../../src/health/health.js';
import type { CameraStatus } from '../../src/capture/frame.js';
import { DeviceEventBus } from '../../src/device-events.js';
import type { DaemonContext } from '../../src/extension.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import { MqttExtension } from '../../src/mqtt/extension.js';
import { entry, makePublisher, makeRead, memoryChangeLog, openTestStateDatabase, schemaValidators, subscribe, tempDir, testConfig, waitFor } from '../support/mqtt-harness.js';

// Health telemetry on the real Mosquitto (127.0.0.1:1883): retained on alpr/v1/<id>/telemetry,
// valid against docs/schemas/telemetry.json, every mqtt.telemetryIntervalS, never plate text.

const URL = 'mqtt://127.0.0.1:1883';
const PLATE = '7TLM404';

describe('MQTT health telemetry', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('publishes retained, schema-valid telemetry every interval: fps, drops, read age, hot-list ages, outbox, disk, clock; no plate text', async () => {
    const deviceId = `tlm-${randomUUID().slice(0, 8)}`;
    const dir = tempDir('mqtt-telemetry-');
    const pub = makePublisher(dir);
    const config = testConfig(deviceId, dir, pub.pubFile, { url: URL, allowPlainText: true, telemetryIntervalS: 1 });
    // The daemon's health report as assessHealth makes it, for one camera whose drops keep growing.
    const startedAtMs = Date.now();
    let framesDropped = 0;
    const health = (): HealthReport => {
      const now = Date.now();
      framesDropped += 30;
      const status: CameraStatus = { id: 'cam1', state: 'online', framesIn: 1000 + framesDropped, framesDropped, decodeErrors: 0, reconnects: 0, lastFrameAtMs: now - 40 };
      return assessHealth([{ status, lastAnalysedAtMs: now - 60, framesAnalysed: 1000, analysedFps: 7.5, lastReadAtMs: now - 12_000 }], now, 5000, startedAtMs, '9.9.9', { version: 'det@1+read@1', interim: false }, {});
    };
    const ctx: DaemonContext = {
      config, logger: pino({ level: 'silent' }), metrics: createMetrics(), events: new DeviceEventBus(),
      health, clock: () => ({ synced: false, source: 'chronyc', detail: 'leap status Not synchronised' }),
    };
    const hotlist = new HotListExtension({ changeLog: memoryChangeLog() });
    // No store here: the outbox gets a state environment of its own, closed after MQTT stops.
    const state = openTestStateDatabase(dir);
    stops.push(() => state.root.close());
    const mqttExt = new MqttExtension({ stateDatabase: () => state, hotlist, version: 'test' });
    await hotlist.start(ctx);
    stops.push(() => hotlist.stop());
    hotlist.installSigned(pub.sign('ncic', 3, [entry(PLATE, 'CA')], new Date(Date.now() - 2 * 3_600_000).toISOString()), 'test');

    const central = await subscribe(URL, `alpr/v1/${deviceId}/telemetry`);
    stops.push(() => central.client.endAsync());
    await mqttExt.start(ctx);
    stops.push(() => mqttExt.stop());
    // A hit and a read go out too: the plate they carry must never reach telemetry.
    await hotlist.accept(makeRead(PLATE, 'CA', deviceId));
    await mqttExt.accept(makeRead(PLATE, 'CA', deviceId));
    await waitFor(() => new Set(central.messages.map((m) => m.payload['at'])).size >= 3, 15_000, 'three telemetry messages');

    const schemas = schemaValidators();
    for (const m of central.messages) schemas.check(m.topic, m.payload);
    expect(JSON.stringify(central.messages)).not.toContain(PLATE);
    const last = central.messages.at(-1)!.payload as Record<string, any>;
    expect(last).toMatchObject({
      schema: 'alpr-edge/telemetry/1', deviceId, intervalS: 1, version: '9.9.9', models: 'det@1+read@1', status: 'ok',
      clock: { synced: false, source: 'chronyc' },
      hotlists: [{ name: 'ncic', version: 3, entries: 1, stale: false }],
    });
    expect(last.hotlists[0].ageHours).toBeGreaterThanOrEqual(2);
    expect(last.cameras).toHaveLength(1);
    expect(last.cameras[0]).toMatchObject({ id: 'cam1', state: 'online', healthy: true, analysedFps: 7.5, lastReadAgeS: 12 });
    // 30 more dropped frames per message: a positive rate since the previous one.
    expect(last.cameras[0].droppedFps).toBeGreaterThan(0);
    expect(last.outbox.messages).toBeGreaterThanOrEqual(0);
    expect(Object.keys(last.outbox.dropped).sort()).toEqual(['audit', 'event', 'hit', 'read']);
    expect(last.disk.freeBytes).toBeGreaterThan(0);
    expect(last.disk.sizeBytes).toBeGreaterThanOrEqual(last.disk.freeBytes);

    // Retained: a consumer that joins later gets the latest at once.
    const late = await subscribe(URL, `alpr/v1/${deviceId}/telemetry`);
    stops.push(() => late.client.endAsync());
    await waitFor(() => late.messages.length > 0, 5000, 'the retained telemetry');
    expect(late.messages[0]!.retain).toBe(true);
    schemas.check(late.messages[0]!.topic, late.messages[0]!.payload);
  });
});
