import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from '../support/mosquitto.js';

// Issue 21: Ctrl-C on the demo while an MQTT client was subscribed to the embedded broker waited
// for that client's connection until close-with-grace's 4.5 s ran out, and exited 1 ("killed by
// timeout"). The demo's own config, with free ports and a state directory of its own.
const MAIN = 'dist/src/bin.cjs';

function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      if (!check()) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve();
    }, 50);
  });
}

describe('demo: Ctrl-C with a subscriber on the embedded broker', () => {
  it('stops cleanly (exit 0, "stopped") with an MQTT client still subscribed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-stop-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const brokerPort = await freePort();
    const demo = JSON.parse(readFileSync('config/demo.json', 'utf8')) as Record<string, unknown> & { mqtt: { embeddedBroker: Record<string, unknown> } };
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ ...demo, http: { host: '127.0.0.1', port: 0 }, stateDir: join(dir, 'state'), mqtt: { embeddedBroker: { ...demo.mqtt.embeddedBroker, port: brokerPort } } }));

    const child = spawn('node', [MAIN, 'run', '--config', config, '--print-hits'], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('the daemon to run', () => stderr.includes('"msg":"running"'), 90_000);

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0 });
    onTestFinished(() => void client.endAsync(true));
    const granted = await client.subscribeAsync('alpr/v1/#');
    expect(granted.map((g) => g.qos)).not.toContain(128);

    child.kill('SIGINT');
    const code = await exited;
    expect(stderr).not.toContain('killed by timeout');
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(stderr).toContain('"msg":"stopped"');
  }, 120_000);
});
