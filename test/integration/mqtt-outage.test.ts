import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startMosquitto, type RunningMosquitto } from '../support/mosquitto.js';
import { entry, makePublisher, makeRead, schemaValidators, startHitExtensions, subscribe, tempDir, testConfig, waitFor } from '../support/mqtt-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Central-side de-duplication by messageId (QoS 1 is at-least-once), keeping first arrival order. */
function dedupe(hits: Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const h of hits) {
    if (seen.has(h['messageId'] as string)) continue;
    seen.add(h['messageId'] as string);
    out.push((h['read'] as { plate: string }).plate);
  }
  return out;
}

describe('durable outbox through broker outages and daemon restarts (own Mosquitto, killed with SIGKILL)', () => {
  const dir = tempDir('mqtt-outage-');
  const pub = makePublisher(dir);
  const schemas = schemaValidators();
  let broker: RunningMosquitto;
  afterAll(async () => broker?.stop());

  it('every hit produced while the broker is dead arrives exactly once after de-duplication, in order; the same across a daemon restart', async () => {
    broker = await startMosquitto(dir, { persistent: true });
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const deviceId = `outage-${randomUUID().slice(0, 6)}`;
    const plates = Array.from({ length: 60 }, (_, i) => `H${String(i).padStart(4, '0')}X`);
    const cfg = testConfig(deviceId, dir, pub.pubFile, { url, allowPlainText: true, protocolVersion: 5, reconnectMaxDelayMs: 800, inflight: 8 });
    // The central consumer keeps a persistent session so the broker queues for it across the kill.
    const central = await subscribe(url, `alpr/v1/${deviceId}/hits`, { clientId: `central-${deviceId}`, clean: false, protocolVersion: 4 });
    onTestFinished(() => central.client.endAsync());
    // Saved before the first kill, or central's session dies with the broker and hits the device sends
    // before central resubscribes are lost (the device and central reconnect on their own clocks).
    await waitFor(() => broker.persisted(`alpr/v1/${deviceId}/hits`), 5000, "the broker to save central's session");
    const hitsOf = () => central.messages.map((m) => m.payload);

    // Each daemon stops when the test ends, however it ends (a second stop is a no-op).
    const start = async () => {
      const started = await startHitExtensions(cfg);
      onTestFinished(() => started.stop());
      return started;
    };
    let exts = await start();
    exts.hotlist.installSigned(pub.sign('ncic', 1, plates.map((p) => entry(p, null))), 'test');
    await waitFor(() => exts.mqtt.health()['connected'] === true, 5000, 'first connection');

    // Phase 1: broker killed mid-stream and restarted while hits keep coming.
    for (let i = 0; i < 30; i++) {
      if (i === 8) await broker.kill();
      if (i === 22) await broker.restart();
      await exts.deliver(makeRead(plates[i]!, 'CA', deviceId));
      await sleep(40);
    }
    // Everything held during the outage drains once the broker is back.
    expect(await exts.mqtt.drained(15_000)).toBe(true);
    // Drained means the broker acknowledged each hit; the central consumer reconnects on its own
    // schedule and then gets what the broker queued for its persistent session.
    await waitFor(() => new Set(dedupe(hitsOf())).size >= 30, 15_000, 'all 30 phase-1 hits at the consumer');
    expect(new Set(dedupe(hitsOf())).size).toBe(30);

    // Phase 2: the broker dies again, the daemon stops with hits still in its outbox, a new daemon
    // starts on the same state directory, then the broker comes back.
    await broker.kill();
    for (let i = 30; i < 45; i++) await exts.deliver(makeRead(plates[i]!, 'CA', deviceId));
    expect(exts.mqtt.health()['outboxHits']).toBe(15);
    await exts.stop();
    exts = await start();
    expect(exts.mqtt.health()['outboxHits']).toBe(15);
    for (let i = 45; i < 60; i++) await exts.deliver(makeRead(plates[i]!, 'CA', deviceId));
    await broker.restart();

    await waitFor(() => new Set(dedupe(hitsOf())).size === 60, 30_000, 'all 60 hits');
    expect(await exts.mqtt.drained(5000)).toBe(true);
    const got = dedupe(hitsOf());
    expect(got).toEqual(plates);
    for (const h of hitsOf()) schemas.check(`alpr/v1/${deviceId}/hits`, h);
    const duplicates = hitsOf().length - got.length;
    process.stdout.write(`outage test: 60 hits, ${duplicates} duplicate deliveries removed by messageId\n`);
  }, 60_000);
});
