import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { HitWatcher, formatHitLine, watchConnectOptions } from '../../src/mqtt/watch.js';
import type { HitPayload } from '../../src/mqtt/messages.js';
import { entry, makePublisher, makeRead, schemaValidators, startHitExtensions, tempDir, testConfig, waitFor, OVERVIEW_JPEG, PLATE_JPEG } from '../support/mqtt-harness.js';

// `alpr-edge watch`, the reference central consumer, against the Mosquitto on 127.0.0.1:1883
// (Mosquitto 2 supports MQTT 5 shared subscriptions). Other tests may publish hits on the same
// broker at the same time, so everything is counted for this test's own device ids only.
const URL = 'mqtt://127.0.0.1:1883';
const HITS_PER_DEVICE = 30;

describe('alpr-edge watch: shared-subscription consumers over a fleet (real Mosquitto)', () => {
  const run = randomUUID().slice(0, 8);
  const deviceIds = [`watch-${run}-a`, `watch-${run}-b`];
  const out = tempDir('watch-out-');
  const logger = pino({ level: 'silent' });
  const got: { watcher: number; hit: HitPayload }[] = [];
  const watchers = [0, 1].map(
    (n) =>
      new HitWatcher({
        brokerUrl: URL,
        group: `it-${run}`,
        outDir: out,
        logger,
        onHit: (hit) => {
          if (deviceIds.includes(hit.deviceId)) got.push({ watcher: n, hit });
        },
      }),
  );
  const devices: Awaited<ReturnType<typeof startHitExtensions>>[] = [];

  beforeAll(async () => {
    for (const w of watchers) await w.start();
    for (const id of deviceIds) {
      const dir = tempDir('watch-dev-');
      const pub = makePublisher(dir);
      const d = await startHitExtensions(testConfig(id, dir, pub.pubFile, { url: URL, allowPlainText: true, protocolVersion: 5, publishReads: false }));
      d.hotlist.installSigned(pub.sign('ncic', 1, [entry('7WATCH1', 'CA', { vehicle: 'Honda Civic' })]), 'test');
      devices.push(d);
    }
  });
  afterAll(async () => {
    for (const d of devices) await d.stop();
    for (const w of watchers) await w.stop();
    const c = await mqtt.connectAsync(URL);
    for (const id of deviceIds) await c.publishAsync(`alpr/v1/${id}/state`, '', { retain: true });
    await c.endAsync();
  });

  it('two watchers in one group split the hits; each hit is handled once, valid against hit.json, and saved with both JPEGs', async () => {
    for (let i = 0; i < HITS_PER_DEVICE; i++) for (const d of devices) await d.deliver(makeRead('7WATCH1', 'CA', d.ctx.config.deviceId));
    await waitFor(() => got.length >= HITS_PER_DEVICE * deviceIds.length, 15_000, `${HITS_PER_DEVICE * deviceIds.length} hits`);
    // Count once every device holds the broker's PUBACK for every hit: no device sends one again.
    expect(await Promise.all(devices.map((d) => d.mqtt.drained(15_000)))).toEqual(devices.map(() => true));
    const ids = got.map((g) => g.hit.messageId);
    expect(ids).toHaveLength(HITS_PER_DEVICE * deviceIds.length);
    expect(new Set(ids).size).toBe(ids.length);
    // Shared subscription: the load is split, both consumers do work.
    for (const n of [0, 1]) expect(got.filter((g) => g.watcher === n).length).toBeGreaterThan(0);
    const schemas = schemaValidators();
    for (const { hit } of got) schemas.check(`alpr/v1/${hit.deviceId}/hits`, hit);
    for (const id of deviceIds) {
      const files = readdirSync(join(out, id));
      expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(HITS_PER_DEVICE);
      expect(files.filter((f) => f.endsWith('-plate.jpg'))).toHaveLength(HITS_PER_DEVICE);
      expect(files.filter((f) => f.endsWith('-overview.jpg'))).toHaveLength(HITS_PER_DEVICE);
    }
    const one = got[0]!.hit;
    const saved = JSON.parse(readFileSync(join(out, one.deviceId, `${one.messageId}.json`), 'utf8')) as HitPayload;
    expect(saved).toMatchObject({ messageId: one.messageId, requiresVerification: true, entry: { recordNumber: 'V7WATCH1' }, images: { plateJpeg: `${one.messageId}-plate.jpg` } });
    expect(readFileSync(join(out, one.deviceId, `${one.messageId}-plate.jpg`)).equals(PLATE_JPEG)).toBe(true);
    expect(readFileSync(join(out, one.deviceId, `${one.messageId}-overview.jpg`)).equals(OVERVIEW_JPEG)).toBe(true);
  });

  it('drops a redelivered messageId whichever consumer gets it, and skips a message that is not a hit without stopping', async () => {
    const before = got.length;
    const again = got[0]!.hit;
    const c = await mqtt.connectAsync(URL, { protocolVersion: 5 });
    onTestFinished(() => c.endAsync());
    // The same message three times (as QoS 1 may deliver after a reconnect), then garbage, then a new hit.
    for (let i = 0; i < 3; i++) await c.publishAsync(`alpr/v1/${again.deviceId}/hits`, JSON.stringify(again), { qos: 1 });
    await c.publishAsync(`alpr/v1/${again.deviceId}/hits`, '{"schema":"alpr-edge/hit/1","plate":"no"}', { qos: 1 });
    await c.publishAsync(`alpr/v1/${again.deviceId}/hits`, Buffer.from([0xff, 0x00, 0x7b]), { qos: 1 });
    await devices[0]!.deliver(makeRead('7WATCH1', 'CA', deviceIds[0]!));
    await waitFor(() => got.length === before + 1, 10_000, 'the new hit after the duplicates and the garbage');
    await waitFor(() => watchers[0]!.stats.duplicates + watchers[1]!.stats.duplicates >= 3, 5000, 'three duplicates counted');
    expect(watchers[0]!.stats.invalid + watchers[1]!.stats.invalid).toBeGreaterThanOrEqual(2);
    expect(got.filter((g) => g.hit.messageId === again.messageId)).toHaveLength(1);
  });

  it('prints one line per hit naming the plate, list, entry, match kind and that it must be verified (P13)', () => {
    const line = formatHitLine(got[0]!.hit);
    expect(line).toContain('7WATCH1 (CA)');
    expect(line).toMatch(/SVS exact \| ncic v1 \| record V7WATCH1/);
    expect(line).toContain('VERIFY');
    expect(line.split('\n')).toHaveLength(1);
  });

  it('P16: refuses plain mqtt:// to a host other than loopback unless asked, and mqtts:// without a CA', () => {
    expect(() => watchConnectOptions({ brokerUrl: 'mqtt://10.0.0.5:1883', group: 'g', logger })).toThrow(/--allow-plain-text/);
    expect(() => watchConnectOptions({ brokerUrl: 'mqtts://127.0.0.1:8883', group: 'g', logger })).toThrow(expect.objectContaining({ option: '--ca' }));
    expect(watchConnectOptions({ brokerUrl: 'mqtt://10.0.0.5:1883', group: 'g', logger, allowPlainText: true }).protocolVersion).toBe(5);
  });
});
