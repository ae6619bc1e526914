import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts } from '../support/mosquitto.js';

// Issue 20 §5: `config check` and `run` apply one validation, so "valid" means the daemon starts.
// The compiled CLI in child processes; `run` is stopped as soon as it says it is running.
const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'config-check-'));

function cli(args: string[], input = '') {
  return spawnSync('node', [MAIN, ...args], { encoding: 'utf8', input, timeout: 120_000 });
}

/**
 * `run` until it exits, or until it logs that it is running: then it accepted the config, is
 * stopped, and `code` is 'running'. A condition, not a guess at how long a refusal takes.
 */
function run(configFile: string): Promise<{ code: number | null | 'running'; stderr: string }> {
  const child = spawn('node', [MAIN, 'run', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve) => {
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += String(d);
      if (!stderr.includes('"msg":"running"')) return;
      child.kill('SIGKILL');
      resolve({ code: 'running', stderr });
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const base = {
  deviceId: 'check-pole',
  location: { latitude: 1, longitude: 2, headingDeg: 3 },
  cameras: [{ id: 'c1', uri: 'test://?width=320&height=240&fps=5' }],
  http: { port: 0 },
  // info: a daemon that accepts the config says "running", which ends run() above.
  log: { level: 'info' },
};

describe('alpr-edge config check', { timeout: 240_000 }, () => {
  it('P16: refuses with 78, as run does, an mqtt:// broker without allowPlainText', async () => {
    const file = join(dir, 'plain.json');
    writeFileSync(file, JSON.stringify({ ...base, stateDir: join(dir, 'plain-state'), mqtt: { url: 'mqtt://broker.example:1883' } }));
    const check = cli(['config', 'check', file]);
    expect(check.status, check.stdout).toBe(78);
    expect(check.stdout).not.toContain('valid');
    expect(check.stderr).toContain('mqtt.url is plain mqtt:// but mqtt.allowPlainText is false');
    const started = await run(file);
    expect(started.code).toBe(78);
    // One validation: the same one line from both.
    expect(started.stderr.trim()).toBe(check.stderr.trim());
  });

  it('P16: refuses with 78, as run does, an mqtts:// config from provision before its certificate is installed', async () => {
    const certs = makeCerts(mkdtempSync(join(dir, 'certs-')));
    const file = join(dir, 'provisioned.json');
    const p = cli(['provision', '-y', '-c', file, '--device-id', 'pole-9', '--camera-url', 'test://', '--latitude', '37.7', '--longitude', '-122.4', '--heading', '10', '--state-dir', join(dir, 'prov-state'), '--broker-url', 'mqtts://127.0.0.1:8883', '--ca', certs.caCert]);
    expect(p.status, p.stderr).toBe(0);
    const check = cli(['config', 'check', file]);
    expect(check.status, check.stdout).toBe(78);
    expect(check.stderr).toMatch(/mqtt\.tls\.certFile and mqtt\.tls\.keyFile are required for mqtts:\/\/.*provision --cert/);
    const started = await run(file);
    expect(started.code).toBe(78);
    expect(started.stderr.trim()).toBe(check.stderr.trim());
    // Once the certificate the CA signed is in place, both accept it.
    const signed = join(dir, 'signed.crt');
    const ca = spawnSync('openssl', ['x509', '-req', '-in', join(dir, 'prov-state/tls/device.csr'), '-CA', certs.caCert, '-CAkey', certs.caKey, '-CAcreateserial', '-out', signed, '-days', '2'], { encoding: 'utf8' });
    expect(ca.status, ca.stderr).toBe(0);
    expect(cli(['provision', '--cert', signed, '-c', file]).status).toBe(0);
    const after = cli(['config', 'check', file]);
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout).toContain('valid');
  });

  it('P10: refuses with 78 a publisher key file that cannot be read, naming the field, as run does', async () => {
    const file = join(dir, 'nokey.json');
    writeFileSync(file, JSON.stringify({ ...base, stateDir: join(dir, 'nokey-state'), hotlists: { publisherKeys: [{ id: 'agency', file: join(dir, 'no-such-key.pem') }] } }));
    const check = cli(['config', 'check', file]);
    expect(check.status).toBe(78);
    expect(check.stderr).toContain('hotlists.publisherKeys.0.file: cannot read');
    expect(check.stderr).not.toMatch(/\n\s+at /);
    const started = await run(file);
    expect(started.code).toBe(78);
    expect(started.stderr.trim()).toBe(check.stderr.trim());
  });
});
