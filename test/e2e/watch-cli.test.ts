import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { hitPayload, type HitPayload } from '../../src/mqtt/messages.js';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import { newReadId } from '../../src/pipeline/read-id.js';
import { HotListEntries } from '../../src/hotlist/entry-table.js';
import { summarise } from '../../src/hotlist/list.js';
import { freePort, makeCerts, startMosquitto } from '../support/mosquitto.js';
import { entry, makeRead, tempDir, waitFor } from '../support/mqtt-harness.js';

const MAIN = 'dist/src/bin.cjs';

/** A hit on list ncic v3 as a device publishes it. */
function makeHit(plate: string, deviceId: string): HitPayload {
  const read = makeRead(plate, 'CA', deviceId);
  const e = entry(plate, 'CA');
  const list = { name: 'ncic', source: 'test', version: 3, issuedAt: new Date().toISOString(), entries: HotListEntries.from([e]), signedBy: 'k' };
  return hitPayload({ id: `${read.id}:ncic:0`, read, list: summarise(list, 24), entry: e, kind: 'exact', matchedText: read.plate, requiresVerification: true, matchedAt: new Date().toISOString() }, newReadId());
}

/** The compiled CLI's `watch` in a child process, stopped (SIGTERM) by `stop()` or when the test ends. */
function startWatch(args: string[]) {
  const child = spawn('node', [MAIN, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const watch = {
    stdout: '',
    stderr: '',
    async stop(): Promise<number | null> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  child.stdout.on('data', (d: Buffer) => (watch.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (watch.stderr += d.toString()));
  onTestFinished(async () => {
    await watch.stop();
  });
  return watch;
}

async function publishHit(url: string, protocolVersion: 4 | 5, hit: HitPayload): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion });
  await c.publishAsync(`alpr/v1/${hit.deviceId}/hits`, JSON.stringify(hit), { qos: 1 });
  await c.endAsync();
}

// `alpr-edge watch` as an agency runs it: the compiled CLI against the Mosquitto on 127.0.0.1:1883.
describe('alpr-edge watch (CLI)', () => {
  it('prints one line per hit and saves the hit and its images under --out', async () => {
    const run = randomUUID().slice(0, 8);
    const deviceId = `watch-cli-${run}`;
    const out = tempDir('watch-cli-');
    const watch = startWatch(['--broker', 'mqtt://127.0.0.1:1883', '--group', `cli-${run}`, '--out', out]);
    await waitFor(() => watch.stderr.includes('watching hits'), 15_000, 'the watcher to subscribe');
    const hit = makeHit('7CLI001', deviceId);
    await publishHit('mqtt://127.0.0.1:1883', 5, hit);
    await waitFor(() => watch.stdout.includes('7CLI001'), 10_000, 'the hit line');
    expect(watch.stdout.split('\n').find((l) => l.includes('7CLI001'))).toMatch(new RegExp(`${deviceId} \\| cam1 \\| 7CLI001 \\(CA\\) .*SVS exact \\| ncic v3 .*VERIFY`));
    expect(existsSync(join(out, deviceId, `${hit.messageId}.json`))).toBe(true);
    expect(existsSync(join(out, deviceId, `${hit.messageId}-plate.jpg`))).toBe(true);
    await watch.stop();
    expect(watch.stderr).toContain('"hits":');
  });

  it("follows hits on a broker that speaks only MQTT 3.1.1 (the demo's embedded broker), saying it cannot share the subscription", async () => {
    const broker = await EmbeddedBroker.start('127.0.0.1', 0);
    onTestFinished(() => broker.close());
    const deviceId = `watch-311-${randomUUID().slice(0, 8)}`;
    const watch = startWatch(['--broker', broker.url]);
    await waitFor(() => watch.stderr.includes('watching hits'), 15_000, 'the watcher to subscribe');
    expect(watch.stderr).toContain('the broker speaks MQTT 3.1.1 only: no shared subscription');
    expect(watch.stderr).not.toContain('Unacceptable protocol version');
    // The demo's daemon publishes to its embedded broker over MQTT 3.1.1 (src/mqtt/extension.ts).
    await publishHit(broker.url, 4, makeHit('7CLI311', deviceId));
    await waitFor(() => watch.stdout.includes('7CLI311'), 10_000, 'the hit line');
    expect(watch.stdout).toMatch(new RegExp(`${deviceId} \\| cam1 \\| 7CLI311 \\(CA\\) .*VERIFY`));
    expect(await watch.stop()).toBe(0);
  });

  it('exits 69 (unavailable) with one line, no stack trace, when no broker answers', async () => {
    const port = await freePort();
    const r = spawnSync('node', [MAIN, 'watch', '--broker', `mqtt://127.0.0.1:${port}`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(69);
    expect(r.stderr.trim().split('\n')).toEqual([`alpr-edge: mqtt://127.0.0.1:${port}: no broker answers (ECONNREFUSED): is it running, and is the URL right?`]);
  });

  it("exits 69 with one line naming TLS when the broker's certificate is not from --ca", async () => {
    // Its own top-level directory: Mosquitto drops to its own user, which cannot enter a 0700 temp dir.
    const tlsDir = mkdtempSync(join(tmpdir(), 'watch-tls-'));
    const certs = makeCerts(tlsDir);
    const other = makeCerts(tlsDir, 'other-');
    const broker = await startMosquitto(tlsDir, { tls: certs });
    onTestFinished(() => broker.stop());
    const url = `mqtts://127.0.0.1:${broker.port}`;
    const r = spawnSync('node', [MAIN, 'watch', '--broker', url, '--ca', other.caCert, '--cert', certs.clientCert, '--key', certs.clientKey], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(69);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^alpr-edge: ${url}: TLS with the broker failed \\([A-Z_]+: .*\\): check --ca, --cert and --key$`));
  });
});
