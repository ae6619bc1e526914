import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { entry, makePublisher, makeRead, schemaValidators, startHitExtensions, subscribe, tempDir, testConfig, waitFor, PLATE_JPEG, OVERVIEW_JPEG, type Received } from '../support/mqtt-harness.js';

// The plain path against the Mosquitto on 127.0.0.1:1883 (loopback, allowPlainText set explicitly).
const URL = 'mqtt://127.0.0.1:1883';

describe('hits and state over MQTT (real Mosquitto on 127.0.0.1:1883)', () => {
  const deviceId = `it-${randomUUID().slice(0, 8)}`;
  const dir = tempDir('mqtt-it-');
  const pub = makePublisher(dir);
  const schemas = schemaValidators();
  let central: Awaited<ReturnType<typeof subscribe>>;
  let exts: Awaited<ReturnType<typeof startHitExtensions>>;

  beforeAll(async () => {
    central = await subscribe(URL, `alpr/v1/${deviceId}/#`, { protocolVersion: 5 });
    exts = await startHitExtensions(testConfig(deviceId, dir, pub.pubFile, { url: URL, allowPlainText: true, protocolVersion: 5 }));
    await waitFor(() => exts.mqtt.health()['connected'] === true, 5000, 'connection');
  });
  afterAll(async () => {
    await exts?.stop();
    // Retained state would outlive the test; clear it.
    await central?.client.publishAsync(`alpr/v1/${deviceId}/state`, '', { retain: true });
    await central?.client.endAsync();
  });

  const on = (suffix: string) => central.messages.filter((m) => m.topic === `alpr/v1/${deviceId}/${suffix}`);

  it('P10: installs a signed list sent on cmd/hotlist/update and answers on the MQTT 5 response topic with the correlation data', async () => {
    const responses: { payload: Record<string, unknown>; correlation: string | undefined }[] = [];
    const requester = await mqtt.connectAsync(URL, { protocolVersion: 5 });
    onTestFinished(() => requester.endAsync());
    requester.on('message', (_t, p, packet) => responses.push({ payload: JSON.parse(p.toString()) as Record<string, unknown>, correlation: packet.properties?.correlationData?.toString() }));
    const replyTo = `central/${deviceId}/replies`;
    await requester.subscribeAsync(replyTo, { qos: 1 });
    const list = pub.sign('ncic', 100, [entry('7ABC123', 'CA', { vehicle: 'Honda Civic' }), entry('4KT?9*', null, { type: 'SFR' })]);
    await requester.publishAsync(`alpr/v1/${deviceId}/cmd/hotlist/update`, list, { qos: 1, properties: { responseTopic: replyTo, correlationData: Buffer.from('req-1') } });
    // A replayed older version and garbage are refused with a reason; the good list stays.
    await requester.publishAsync(`alpr/v1/${deviceId}/cmd/hotlist/update`, pub.sign('ncic', 99, []), { qos: 1, properties: { responseTopic: replyTo, correlationData: Buffer.from('req-2') } });
    await requester.publishAsync(`alpr/v1/${deviceId}/cmd/hotlist/update`, Buffer.from('\x1f\x8bnot gzip'), { qos: 1, properties: { responseTopic: replyTo, correlationData: Buffer.from('req-3') } });
    await waitFor(() => responses.length === 3, 5000, 'three responses');
    for (const r of responses) schemas.check(`alpr/v1/${deviceId}/response/hotlist/update`, r.payload);
    expect(responses.map((r) => [r.correlation, r.payload['ok'], (r.payload['error'] as { reason?: string } | undefined)?.reason])).toEqual([
      ['req-1', true, undefined],
      ['req-2', false, 'replay'],
      ['req-3', false, 'malformed'],
    ]);
    expect(exts.hotlist.summaries().find((s) => s.name === 'ncic')?.version).toBe(100);
    await waitFor(() => on('state').some((m) => (m.payload['hotlists'] as { version: number }[] | undefined)?.some((l) => l.version === 100) ?? false), 5000, 'state with the list version');
  });

  it('P13: a hit arrives with the read, both JPEGs, the list, the entry, the match kind and requiresVerification; every message matches docs/schemas', async () => {
    await exts.deliver(makeRead('7ABC123', 'CA', deviceId));
    await exts.deliver(makeRead('4KTX9Q1', 'NV', deviceId)); // partial entry 4KT?9*
    await exts.deliver(makeRead('9NOHIT9', 'CA', deviceId));
    await waitFor(() => on('hits').length === 2 && on('reads').length === 3, 5000, 'two hits and three reads');
    const [exact, partial] = on('hits').map((m) => m.payload);
    expect(exact).toMatchObject({ read: { plate: '7ABC123', state: 'CA', cameraId: 'cam1', location: { latitude: 37.77, headingDeg: 90 } }, list: { name: 'ncic', source: 'test source', version: 100 }, entry: { type: 'SVS', recordNumber: 'V7ABC123', vehicle: 'Honda Civic', partial: false }, match: { kind: 'exact' }, requiresVerification: true });
    expect(Buffer.from((exact!['images'] as { plateJpeg: string }).plateJpeg, 'base64').equals(PLATE_JPEG)).toBe(true);
    expect(Buffer.from((exact!['images'] as { overviewJpeg: string }).overviewJpeg, 'base64').equals(OVERVIEW_JPEG)).toBe(true);
    // P12: the partial entry says so.
    expect(partial).toMatchObject({ entry: { plate: '4KT?9*', partial: true, type: 'SFR' }, match: { kind: 'partial' } });
    const all: Received[] = central.messages.filter((m) => m.payload && Object.keys(m.payload).length > 0);
    for (const m of all) schemas.check(m.topic, m.payload);
    expect(new Set(all.map((m) => m.topic.split('/')[3]))).toEqual(new Set(['state', 'telemetry', 'hits', 'reads', 'events', 'audit']));
    const ids = all.filter((m) => m.payload['messageId']).map((m) => m.payload['messageId']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('P16: refuses plain mqtt:// unless allowPlainText is set, and mqtts:// without a pinned CA and client certificate', async () => {
    const { startHitExtensions: start } = await import('../support/mqtt-harness.js');
    await expect(start(testConfig(`${deviceId}-x`, tempDir('mqtt-x-'), pub.pubFile, { url: URL }))).rejects.toMatchObject({ name: 'ConfigError', field: 'mqtt.url' });
    await expect(start(testConfig(`${deviceId}-y`, tempDir('mqtt-y-'), pub.pubFile, { url: 'mqtts://127.0.0.1:8883' }))).rejects.toMatchObject({ name: 'ConfigError', field: 'mqtt.tls.caFile' });
  });

  it('publishes state retained: online while running, offline with a reason when stopped', async () => {
    await exts.stop();
    const probe = await subscribe(URL, `alpr/v1/${deviceId}/state`);
    onTestFinished(() => probe.client.endAsync());
    await waitFor(() => probe.messages.length > 0, 3000, 'retained state');
    expect(probe.messages[0]).toMatchObject({ retain: true, payload: { status: 'offline', reason: 'stopped' } });
    schemas.check(probe.messages[0]!.topic, probe.messages[0]!.payload);
  });
});
