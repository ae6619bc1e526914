import { describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Outbox } from '../../src/mqtt/outbox.js';
import { openDeviceKeys } from '../../src/state/device-keys.js';
import { entry, makePublisher, makeRead, openTestStateDatabase, OVERVIEW_JPEG, PLATE_JPEG, startHitExtensions, subscribe, tempDir, testConfig, waitFor } from '../support/mqtt-harness.js';

// Issue 20 §2 (P16): the MQTT outbox keeps hits and reads (plate text, location, base64 JPEGs) on
// disk until the broker acknowledges them. Nothing of them may be readable in its LMDB file, while
// queued or after delivery (LMDB reuses freed pages but does not erase them).
const URL = 'mqtt://127.0.0.1:1883';

/** Base64 runs that any copy of the fixture JPEGs inside a JSON payload contains. */
const JPEG_MARKERS = [PLATE_JPEG.subarray(0, 30), OVERVIEW_JPEG.subarray(0, 30), OVERVIEW_JPEG.subarray(3000, 3030)].map((b) => b.toString('base64'));

function readable(file: string, plates: string[]): string[] {
  const raw = readFileSync(file);
  return [...plates, ...JPEG_MARKERS, 'Main St'].filter((needle) => raw.includes(needle));
}

describe('sealed MQTT outbox', () => {
  it('P16: queued outbox messages are sealed on disk and open to the same payload; one that does not open is dropped and counted', async () => {
    const dir = tempDir('outbox-sealed-');
    const keys = openDeviceKeys(tempDir('outbox-sealed-state-'));
    const payload = (plate: string) => Buffer.from(JSON.stringify({ read: { plate, location: { description: 'Main St & 1st' } }, images: { plateJpeg: PLATE_JPEG.toString('base64'), overviewJpeg: OVERVIEW_JPEG.toString('base64') } }));
    // Each outbox on the state environment as a start opens it; closed before the next opens it.
    const opened = async <T>(use: (outbox: Outbox) => Promise<T> | T, sealer = keys): Promise<T> => {
      const db = openTestStateDatabase(dir);
      try {
        const outbox = new Outbox(db, { maxMessages: 100, maxBytes: 16 << 20 }, sealer);
        const result = await use(outbox);
        await outbox.close();
        return result;
      } finally {
        await db.root.close();
      }
    };
    await opened(async (outbox) => {
      await outbox.enqueue('hit', 't/hits', 'h1', payload('7QUE001'));
      await outbox.enqueue('read', 't/reads', 'r1', payload('7QUE002'));
    });
    expect(readable(join(dir, 'store', 'data.mdb'), ['7QUE001', '7QUE002'])).toEqual([]);

    expect(await opened((o) => o.peek(0, 10).map((m) => m.payload.equals(payload(m.messageId === 'h1' ? '7QUE001' : '7QUE002'))))).toEqual([true, true]);

    // Keys that are not the device's (a data key deleted): nothing opens; the messages are dropped, counted.
    const db = openTestStateDatabase(dir);
    onTestFinished(() => db.root.close());
    const stranger = new Outbox(db, { maxMessages: 100, maxBytes: 16 << 20 }, openDeviceKeys(tempDir('outbox-other-keys-')));
    onTestFinished(() => stranger.close());
    expect(stranger.peek(0, 10)).toEqual([]);
    expect(stranger.unreadable).toBe(2);
    expect(stranger.dropped).toMatchObject({ hit: 1, read: 1 });
  });

  it('P16: hits delivered through the outbox to the broker (real Mosquitto on 127.0.0.1:1883) arrive plain and leave nothing readable in the state database file', async () => {
    const deviceId = `sealed-${randomUUID().slice(0, 8)}`;
    const dir = tempDir('outbox-sealed-e2e-');
    const pub = makePublisher(dir);
    const central = await subscribe(URL, `alpr/v1/${deviceId}/#`, { protocolVersion: 5 });
    onTestFinished(async () => {
      await central.client.publishAsync(`alpr/v1/${deviceId}/state`, '', { retain: true });
      await central.client.endAsync();
    });
    const exts = await startHitExtensions(testConfig(deviceId, dir, pub.pubFile, { url: URL, allowPlainText: true, protocolVersion: 5 }));
    onTestFinished(() => exts.stop());
    const plates = ['7SEA001', '7SEA002', '7SEA003'];
    exts.hotlist.installSigned(pub.sign('ncic', 1, plates.map((p) => entry(p, 'CA'))), 'test');
    for (const plate of plates) await exts.deliver(makeRead(plate, 'CA', deviceId, { location: { latitude: 37.77, longitude: -122.42, headingDeg: 90, description: 'Main St & 1st' } }));

    const hits = () => central.messages.filter((m) => m.topic === `alpr/v1/${deviceId}/hits`);
    await waitFor(() => hits().length === plates.length, 10_000, 'three hits at the broker');
    expect(await exts.mqtt.drained(10_000)).toBe(true);
    // The broker got the plain payloads: plate text and the JPEGs as they were read.
    expect(hits().map((m) => (m.payload['read'] as { plate: string }).plate)).toEqual(plates);
    expect(Buffer.from((hits()[0]!.payload['images'] as { plateJpeg: string }).plateJpeg, 'base64').equals(PLATE_JPEG)).toBe(true);
    await exts.stop();

    // Delivered and acknowledged: the file has held every hit and read, and none is readable in it.
    expect(readable(join(dir, 'store', 'data.mdb'), plates)).toEqual([]);
  });
});
