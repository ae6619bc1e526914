import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { cameraEvents } from '../../src/daemon.js';
import { StoreExtension } from '../../src/store/store-extension.js';
import { startMosquitto, type RunningMosquitto } from '../support/mosquitto.js';
import { makePublisher, makeRead, schemaValidators, startHitExtensions, subscribe, tempDir, testConfig, waitFor } from '../support/mqtt-harness.js';

// Device events from components other than the hot lists (issue 8, topic `events`): a camera going
// down and up (the daemon), disk alarms (the store), outbox drops (MQTT) and tamper (raised by a
// GPIO input through DaemonContext.events). Published on real brokers and checked against
// docs/schemas/event.json.
const URL = 'mqtt://127.0.0.1:1883';
type EventMsg = { type: string; severity: string; detail: Record<string, unknown> };

describe('device events on alpr/v1/<id>/events (real Mosquitto)', () => {
  const schemas = schemaValidators();
  let broker: RunningMosquitto | undefined;
  afterAll(async () => broker?.stop());

  it('camera-down (warning, then critical once offline) and camera-up with the downtime; disk alarm from the store; tamper through the event bus', async () => {
    const deviceId = `events-${randomUUID().slice(0, 8)}`;
    const dir = tempDir('mqtt-events-');
    const pub = makePublisher(dir);
    const config = testConfig(deviceId, dir, pub.pubFile, { url: URL, allowPlainText: true, protocolVersion: 5, publishReads: false });
    config.store = { ...config.store, maxBytes: 1024 * 1024, purgeIntervalS: 1 };
    const central = await subscribe(URL, `alpr/v1/${deviceId}/+`, { protocolVersion: 5 });
    onTestFinished(async () => {
      await central.client.publishAsync(`alpr/v1/${deviceId}/state`, '', { retain: true });
      await central.client.endAsync();
    });
    // The store first, as the daemon starts it: the outbox lives in its state database.
    const store = new StoreExtension();
    const exts = await startHitExtensions(config, undefined, { store });
    onTestFinished(() => exts.stop());
    const sink = exts.storeSink;
    await waitFor(() => exts.mqtt.health()['connected'] === true, 5000, 'connection');
    const events = () => central.messages.filter((m) => m.topic.endsWith('/events')).map((m) => m.payload as unknown as EventMsg);
    const states = () => central.messages.filter((m) => m.topic.endsWith('/state') && m.payload['status'] === 'online').map((m) => m.payload['cameras'] as { id: string; down: boolean }[]);
    const ofType = (t: string) => events().filter((e) => e.type === t);

    // The daemon's camera status seam, fed the states a CameraSource reports.
    const cam = cameraEvents('cam1', exts.ctx.events);
    for (const s of ['starting', 'online', 'reconnecting', 'reconnecting', 'offline', 'reconnecting', 'online', 'stopped']) cam.onState(s, s === 'online' ? undefined : `test ${s}`);
    // A camera that never came up is reported once it gives up (offline), not while it first retries.
    const never = cameraEvents('cam2', exts.ctx.events);
    never.onState('starting', undefined);
    never.onState('reconnecting', 'connection refused');
    never.onState('offline', 'connection refused');

    // The store over its disk budget.
    for (let i = 0; i < 80; i++) await sink!.accept(makeRead(`5EV${String(i).padStart(3, '0')}`, 'CA', deviceId, { plateJpeg: Buffer.alloc(15_000, i), overviewJpeg: Buffer.alloc(15_000, i + 1) }));
    await store.flush();

    // What a GPIO tamper input does (src/device-events.ts; docs/mqtt-api.md "Raising an event").
    exts.ctx.events.publish('tamper', 'critical', { input: 'enclosure', gpio: 17, state: 'open' });

    await waitFor(() => ofType('camera-down').length === 3 && ofType('camera-up').length === 1 && ofType('tamper').length === 1 && ofType('disk').length >= 1, 10_000, 'camera, disk and tamper events');
    expect(ofType('camera-down').map((e) => [e.detail['camera'], e.severity, e.detail['state']])).toEqual([
      ['cam1', 'warning', 'reconnecting'],
      ['cam1', 'critical', 'offline'],
      ['cam2', 'critical', 'offline'],
    ]);
    expect(ofType('camera-up')[0]).toMatchObject({ severity: 'info', detail: { camera: 'cam1' } });
    expect(typeof ofType('camera-up')[0]!.detail['downForS']).toBe('number');
    expect(ofType('disk')[0]).toMatchObject({ detail: { alarm: expect.stringMatching(/disk budget/) } });
    expect(['warning', 'critical']).toContain(ofType('disk')[0]!.severity);
    expect(ofType('tamper')[0]).toMatchObject({ severity: 'critical', detail: { input: 'enclosure', gpio: 17, state: 'open' } });
    // The retained state followed: cam2 is down at the end, cam1 back up.
    await waitFor(() => JSON.stringify(states().at(-1)) === JSON.stringify([{ id: 'cam1', down: false }]) && states().some((c) => c.some((x) => x.down)), 5000, 'state with camera status');
    for (const m of central.messages) if (Object.keys(m.payload).length > 0) schemas.check(m.topic, m.payload);
    // Never plate text in an event (P16).
    expect(JSON.stringify(events())).not.toMatch(/5EV\d{3}/);
  });

  it('outbox-dropped: a full outbox during an outage drops reads and says so once the broker is back, counts included', async () => {
    const dir = tempDir('mqtt-drop-');
    const pub = makePublisher(dir);
    broker = await startMosquitto(dir, { persistent: true });
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const deviceId = `drop-${randomUUID().slice(0, 8)}`;
    const filter = `alpr/v1/${deviceId}/#`;
    const central = await subscribe(url, filter, { clientId: `central-${deviceId}`, clean: false, protocolVersion: 4 });
    onTestFinished(async () => {
      await central.client.endAsync();
      // Retained state would outlive the test; clear it (on the broker, if it is up).
      const c = await mqtt.connectAsync(url).catch(() => undefined);
      await c?.publishAsync(`alpr/v1/${deviceId}/state`, '', { retain: true });
      await c?.endAsync();
    });
    // The event is not retained: it reaches central only if the broker still knows central's
    // subscription when the device reconnects. Both reconnect on their own clocks after the restart,
    // so the session must come back from the broker's save file, not from central resubscribing first.
    await waitFor(() => broker!.persisted(filter), 5000, "the broker to save central's session");
    const exts = await startHitExtensions(testConfig(deviceId, dir, pub.pubFile, { url, allowPlainText: true, protocolVersion: 5, outboxMaxMessages: 10, reconnectMaxDelayMs: 800 }));
    onTestFinished(() => exts.stop());
    const raised: string[] = [];
    const unsubscribe = exts.ctx.events.subscribe((e) => raised.push(e.type));
    onTestFinished(() => unsubscribe());
    await waitFor(() => exts.mqtt.health()['connected'] === true, 5000, 'connection');
    await broker.kill();
    await waitFor(() => exts.mqtt.health()['connected'] === false, 5000, 'the outage to be noticed');
    for (let i = 0; i < 15; i++) await exts.deliver(makeRead(`7DR${String(i).padStart(3, '0')}`, 'CA', deviceId));
    await waitFor(() => Number(exts.mqtt.health()['droppedMessages']) >= 5, 5000, 'drops');
    // The drops of the first second make one event, raised while the broker is still down; it enters
    // the full outbox and pushes out one more read (6 drops), then waits there with everything else.
    await waitFor(() => raised.includes('outbox-dropped'), 5000, 'the outbox-dropped event to be raised');
    await waitFor(() => Number(exts.mqtt.health()['droppedMessages']) === 6, 5000, 'the event to enter the full outbox');
    // The event's own write commits after its drop is counted: wait for it rather than race it.
    await waitFor(() => exts.mqtt.health()['outboxMessages'] === 10, 5000, 'the event to be written to the outbox');
    expect(exts.mqtt.health()).toMatchObject({ connected: false, outboxMessages: 10 });
    await broker.restart();
    // QoS 1 is at-least-once: central drops repeats by messageId (docs/mqtt-api.md).
    const dropped = () => [...new Map(central.messages.filter((m) => m.topic.endsWith('/events') && m.payload['type'] === 'outbox-dropped').map((m) => [m.payload['messageId'], m])).values()];
    // Generous: the device's reconnect backoff (≤ 960 ms here) plus a loaded CI machine.
    await waitFor(() => dropped().length >= 1, 15_000, 'the outbox-dropped event');
    expect(await exts.mqtt.drained(5000)).toBe(true);
    expect(dropped()).toHaveLength(1);
    const ev = dropped()[0]!.payload as unknown as EventMsg;
    schemas.check(dropped()[0]!.topic, ev);
    expect(ev).toMatchObject({ severity: 'warning', detail: { outboxMaxMessages: 10 } });
    expect((ev.detail['dropped'] as Record<string, number>)['read']).toBeGreaterThanOrEqual(5);
    expect((ev.detail['dropped'] as Record<string, number>)['hit']).toBe(0);
  });
});
