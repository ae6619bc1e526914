import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { makeCerts, startMosquitto, type RunningMosquitto } from '../support/mosquitto.js';
import { entry, makePublisher, makeRead, schemaValidators, startHitExtensions, subscribe, tempDir, testConfig, waitFor } from '../support/mqtt-harness.js';

// P16: mqtts with a per-device client certificate and a pinned CA, against a Mosquitto that
// requires client certificates (certificates made with openssl for this test).

/** The extensions' warnings, to wait for a connection attempt that failed rather than for a while. */
function warnings(): { logger: pino.Logger; failures: () => { err: string }[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const failures = () => lines.map((l) => JSON.parse(l) as { msg: string; err: string }).filter((l) => l.msg.startsWith('MQTT connection failed'));
  return { logger, failures };
}
describe('P16: hits over mqtts with a client certificate and CA pinning (own TLS Mosquitto)', () => {
  const dir = tempDir('mqtt-tls-');
  const certs = makeCerts(dir);
  const rogue = makeCerts(dir, 'rogue-');
  const pub = makePublisher(dir);
  let broker: RunningMosquitto;
  afterAll(async () => broker?.stop());

  it('delivers a schema-valid hit over TLS with the device certificate', async () => {
    broker = await startMosquitto(dir, { tls: certs });
    const url = `mqtts://127.0.0.1:${broker.port}`;
    const deviceId = `tls-${randomUUID().slice(0, 6)}`;
    const central = await subscribe(url, `alpr/v1/${deviceId}/hits`, { ca: readFileSync(certs.caCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey), rejectUnauthorized: true });
    const exts = await startHitExtensions(testConfig(deviceId, tempDir('tls-state-'), pub.pubFile, { url, tls: { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey } }));
    onTestFinished(async () => {
      await exts.stop();
      await central.client.endAsync();
    });
    exts.hotlist.installSigned(pub.sign('ncic', 1, [entry('7TLS777', 'CA')]), 'test');
    await waitFor(() => exts.mqtt.health()['connected'] === true, 5000, 'TLS connection');
    await exts.deliver(makeRead('7TLS777', 'CA', deviceId));
    await waitFor(() => central.messages.length === 1, 5000, 'the hit');
    schemaValidators().check(central.messages[0]!.topic, central.messages[0]!.payload);
    expect(central.messages[0]!.payload).toMatchObject({ read: { plate: '7TLS777' }, requiresVerification: true });
  });

  it('does not connect when the broker certificate is not from the pinned CA, and keeps the hit in the outbox', async () => {
    const url = `mqtts://127.0.0.1:${broker.port}`;
    const deviceId = `tls-${randomUUID().slice(0, 6)}`;
    // The device pins the rogue CA: the real broker's certificate must be refused.
    const log = warnings();
    const exts = await startHitExtensions(testConfig(deviceId, tempDir('tls-state-'), pub.pubFile, { url, tls: { caFile: rogue.caCert, certFile: certs.clientCert, keyFile: certs.clientKey } }), log.logger);
    onTestFinished(() => exts.stop());
    exts.hotlist.installSigned(pub.sign('ncic', 1, [entry('7TLS778', 'CA')]), 'test');
    await exts.deliver(makeRead('7TLS778', 'CA', deviceId));
    // A connection was attempted and refused for the certificate, not merely not tried yet.
    await waitFor(() => log.failures().length > 0, 20_000, 'a failed TLS connection attempt');
    expect(log.failures()[0]!.err).toMatch(/certificate/i);
    expect(exts.mqtt.health()).toMatchObject({ status: 'degraded', connected: false, outboxHits: 1 });
  });

  it('is refused by the broker without a client certificate signed by its CA', async () => {
    const url = `mqtts://127.0.0.1:${broker.port}`;
    const deviceId = `tls-${randomUUID().slice(0, 6)}`;
    const log = warnings();
    const exts = await startHitExtensions(testConfig(deviceId, tempDir('tls-state-'), pub.pubFile, { url, tls: { caFile: certs.caCert, certFile: rogue.clientCert, keyFile: rogue.clientKey } }), log.logger);
    onTestFinished(() => exts.stop());
    // The broker ended the handshake: an attempt was made and failed, and none succeeded.
    await waitFor(() => log.failures().length > 0, 20_000, 'a refused TLS connection attempt');
    expect(exts.mqtt.health()).toMatchObject({ connected: false });
  });
});
