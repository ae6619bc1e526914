import { describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { resolveInstallPath, validateConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { VERSION } from '../../src/version.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import { MqttExtension } from '../../src/mqtt/extension.js';
import { entry, makePublisher, memoryChangeLog, openTestStateDatabase, schemaValidators, subscribe, tempDir, waitFor } from '../support/mqtt-harness.js';

interface ClipTruth {
  passes: { text: string; state: string }[];
}
const truth = JSON.parse(readFileSync('test/fixtures/demo/clip.json', 'utf8')) as ClipTruth;

// End to end: the synthetic clip in, hits with both images out on the real Mosquitto (127.0.0.1:1883).
describe('clip in → hit with images out on the broker (P13)', () => {
  const deviceId = `e2e-${randomUUID().slice(0, 6)}`;
  const dir = tempDir('mqtt-e2e-');
  const pub = makePublisher(dir);
  const hotlist = new HotListExtension({ changeLog: memoryChangeLog() });
  // No store in this daemon: the outbox gets a state environment of its own (closed after the daemon stops).
  const state = openTestStateDatabase(dir);
  const mqttExt = new MqttExtension({ stateDatabase: () => state, hotlist, version: VERSION });
  const config = validateConfig({
    deviceId,
    location: { latitude: 37.77, longitude: -122.42, headingDeg: 90, description: 'e2e' },
    cameras: [{ id: 'cam1', uri: `file://${resolveInstallPath('test/fixtures/demo/clip.mp4')}`, loop: false, realtime: false, fpsCap: 5 }], // every frame at 5 fps: independent of machine load
    models: { manifest: resolveInstallPath('models/manifest.json') },
    http: { port: 0 },
    log: { level: 'silent' },
    stateDir: dir,
    hotlists: { publisherKeys: [{ id: pub.keyId, file: pub.pubFile }] },
    mqtt: { url: 'mqtt://127.0.0.1:1883', allowPlainText: true },
  });
  const daemon = new Daemon(config, pino({ level: process.env['E2E_LOG'] ?? 'silent' }, pino.destination(2)), { extensions: [hotlist, mqttExt] });

  it('publishes a schema-valid hit with plate crop and overview JPEG for each listed plate of the clip', async () => {
    const listed = truth.passes.slice(0, 3);
    const central = await subscribe('mqtt://127.0.0.1:1883', `alpr/v1/${deviceId}/hits`);
    // Closed however the test ends, a failed assertion included.
    onTestFinished(async () => {
      await daemon.stop();
      await state.root.close();
      await central.client.endAsync();
    });
    // Install before cameras start: the daemon starts extensions first.
    const startP = daemon.start();
    // Extensions start in order (hot list, then MQTT): once MQTT is connected the hot list has started
    // and takes a list. (This waited on `hotlist.summaries !== undefined`, a method: always true.)
    await waitFor(() => mqttExt.health()['connected'] === true, 60_000, 'mqtt connected');
    hotlist.installSigned(pub.sign('e2e', 1, listed.map((p) => entry(p.text, p.state))), 'test');
    await startP;
    await waitFor(() => new Set(central.messages.map((m) => (m.payload['read'] as { plate: string }).plate)).size >= listed.length, 90_000, 'hits for every listed plate');
    const schemas = schemaValidators();
    for (const m of central.messages) schemas.check(m.topic, m.payload);
    const plates = new Set(central.messages.map((m) => (m.payload['read'] as { plate: string }).plate));
    expect(plates).toEqual(new Set(listed.map((p) => p.text)));
    for (const m of central.messages) {
      const images = m.payload['images'] as { plateJpeg: string; overviewJpeg: string };
      expect(Buffer.from(images.plateJpeg, 'base64').subarray(0, 2).toString('hex')).toBe('ffd8');
      expect(Buffer.from(images.overviewJpeg, 'base64').subarray(0, 2).toString('hex')).toBe('ffd8');
      expect(m.payload['requiresVerification']).toBe(true);
    }
  }, 120_000);
});
