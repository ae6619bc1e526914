import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import mqtt, { type MqttClient } from 'mqtt';
import { syntheticEntries } from '../../scripts/bench-hotlist.js';
import { generatePublisherKeys, signHotList } from '../../src/hotlist/signed-list.js';
import { entry, makePublisher, makeRead, schemaValidators, startHitExtensions, subscribe, tempDir, testConfig, waitFor } from '../support/mqtt-harness.js';

// P10: a national-size list (1,000,000 entries, ~14 MB signed and gzipped) delivered over the real
// Mosquitto on 127.0.0.1:1883 in `cmd/hotlist/chunk` parts (docs/mqtt-api.md), installed and
// matched; corrupted, badly signed and replayed lists sent the same way are refused with the
// reason on the response topic, and the good list stays.
const URL = 'mqtt://127.0.0.1:1883';
const CHUNK_BYTES = 1024 * 1024;

type Response = { ok: boolean; correlationId: string | null; result?: Record<string, unknown>; error?: { reason: string; message: string } };

describe('chunked hot-list delivery over MQTT (P10, real Mosquitto)', () => {
  const deviceId = `chunks-${randomUUID().slice(0, 8)}`;
  const dir = tempDir('mqtt-chunks-');
  const pub = makePublisher(dir);
  const schemas = schemaValidators();
  const replyTo = `central/${deviceId}/replies`;
  const responses = new Map<string, Response>();
  let requester: MqttClient;
  let exts: Awaited<ReturnType<typeof startHitExtensions>>;
  let big: Buffer;
  let bigPlates: string[];

  beforeAll(async () => {
    const entries = syntheticEntries(1_000_000);
    bigPlates = [entries[123_456]!.plate, entries[999_999]!.plate];
    big = pub.sign('ncic', 2, entries);
    exts = await startHitExtensions(testConfig(deviceId, dir, pub.pubFile, { url: URL, allowPlainText: true, protocolVersion: 5, publishReads: false }));
    await waitFor(() => exts.mqtt.health()['connected'] === true, 5000, 'connection');
    requester = await mqtt.connectAsync(URL, { protocolVersion: 5 });
    requester.on('message', (topic, payload, packet) => {
      const body = JSON.parse(payload.toString('utf8')) as Response;
      schemas.check(`alpr/v1/${deviceId}/response/hotlist/chunk`, body);
      responses.set(packet.properties?.correlationData?.toString() ?? '', body);
    });
    await requester.subscribeAsync(replyTo, { qos: 1 });
  }, 180_000);
  afterAll(async () => {
    await exts?.stop();
    await requester?.publishAsync(`alpr/v1/${deviceId}/state`, '', { retain: true });
    await requester?.endAsync();
  });

  /** Sends a file in parts; resolves with the response to the last part. */
  async function sendInChunks(file: Buffer, transferId: string, corrupt?: (part: number, data: Buffer) => Buffer): Promise<Response> {
    const parts = Math.ceil(file.length / CHUNK_BYTES);
    for (let part = 0; part < parts; part++) {
      let data = file.subarray(part * CHUNK_BYTES, (part + 1) * CHUNK_BYTES);
      if (corrupt) data = corrupt(part, Buffer.from(data));
      const body = JSON.stringify({ transferId, part, parts, data: data.toString('base64') });
      await requester.publishAsync(`alpr/v1/${deviceId}/cmd/hotlist/chunk`, body, { qos: 1, properties: { responseTopic: replyTo, correlationData: Buffer.from(`${transferId}:${part}`) } });
    }
    const last = `${transferId}:${parts - 1}`;
    await waitFor(() => responses.has(last), 90_000, `the response to the last part of ${transferId}`);
    for (let part = 0; part < parts - 1; part++) expect(responses.get(`${transferId}:${part}`)).toMatchObject({ ok: true, result: { received: part + 1, parts } });
    return responses.get(last)!;
  }

  it('installs a signed 1M-entry list sent in 1 MB parts, and matches reads against it', async () => {
    expect(big.length).toBeGreaterThan(8 * CHUNK_BYTES);
    const done = await sendInChunks(big, 'big-v2');
    expect(done).toMatchObject({ ok: true, result: { list: { name: 'ncic', version: 2, entries: 1_000_000 } } });
    expect(exts.hotlist.summaries().find((s) => s.name === 'ncic')).toMatchObject({ version: 2, entries: 1_000_000 });
    const hits: string[] = [];
    exts.ctx.events.listen('hit', (h) => hits.push(h.entry.recordNumber));
    for (const p of bigPlates) await exts.hotlist.accept(makeRead(p, null, deviceId));
    expect(hits).toHaveLength(2);
  }, 180_000);

  it('refuses a corrupted part, a bad signature and a replayed version with the reason on the response topic; the 1M list stays', async () => {
    const small = pub.sign('ncic', 3, Array.from({ length: 3000 }, (_, i) => entry(`9CH${String(i).padStart(4, '0')}`, 'CA')));
    // One bit flipped in the middle of the compressed data of a part.
    const corrupted = await sendInChunks(small, 'corrupt-v3', (part, data) => {
      if (part === 0) data[Math.floor(data.length / 2)]! ^= 0x10;
      return data;
    });
    expect(corrupted.ok).toBe(false);
    expect(['malformed', 'bad-signature', 'invalid-body']).toContain(corrupted.error?.reason);

    // Signed by a key that claims the configured key id but is not it.
    const forger = generatePublisherKeys();
    const forged = signHotList({ name: 'ncic', source: 'test source', version: 3, issuedAt: new Date().toISOString(), entries: [entry('9FORGED', 'CA')] }, forger.privateKeyPem, pub.keyId);
    expect((await sendInChunks(forged, 'forged-v3')).error?.reason).toBe('bad-signature');

    // The same 1M list again (a replay of version 2), and an older version.
    expect((await sendInChunks(big, 'replay-v2')).error?.reason).toBe('replay');
    expect((await sendInChunks(pub.sign('ncic', 1, [entry('9OLD001', null)]), 'old-v1')).error?.reason).toBe('replay');

    // A signature that verifies over a body that was altered after signing is refused too.
    const raw = gunzipSync(small);
    const altered = gzipSync(Buffer.from(raw.toString('utf8').replace('9CH0001', '9CH9999')));
    expect((await sendInChunks(altered, 'altered-v3')).error?.reason).toBe('bad-signature');

    expect(exts.hotlist.summaries().find((s) => s.name === 'ncic')).toMatchObject({ version: 2, entries: 1_000_000 });
    for (const r of responses.values()) if (!r.ok) expect(r.error?.message.length).toBeGreaterThan(0);
  }, 240_000);
});
