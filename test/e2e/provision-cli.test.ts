import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { openStateDatabase } from '../../src/state/database.js';
import { verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { makeCerts, startMosquitto } from '../support/mosquitto.js';

// Each test starts Node (and often the models, a camera and a broker) several times: on a loaded
// two-core machine that takes minutes, not the default minute.
vi.setConfig({ testTimeout: 240_000 });

// `alpr-edge provision` as a technician runs it: flags from a script, and prompts at a REAL
// pseudo-terminal (test/support/pty-drive.py, Python's pty module), then the signed certificate.
const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'provision-'));
const CLIP = `file://${resolve('test/fixtures/demo/clip.mp4')}`;
const PASSWORD = 'correct-horse-battery';

function cli(args: string[], input = '') {
  return spawnSync('node', [MAIN, ...args], { encoding: 'utf8', input, timeout: 120_000 });
}

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function accessLog(stateDir: string): { entries: AccessLogEntry[]; ok: boolean } {
  const db = openStateDatabase(join(stateDir, 'store'), 64 * 1024 * 1024);
  try {
    return { entries: [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry), ok: verifyAccessLog(db).ok };
  } finally {
    void db.root.close();
  }
}

function flags(configFile: string, stateDir: string, extra: string[] = []): string[] {
  return ['provision', '-y', '-c', configFile, '--device-id', 'pole-7', '--camera-url', CLIP, '--latitude', '37.77', '--longitude', '-122.42', '--heading', '45', '--state-dir', stateDir, ...extra];
}

describe('alpr-edge provision (flags)', () => {
  it('writes a valid config, a P-256 key (0600) with a CSR for it, the first administrator, and logs every step', () => {
    const work = mkdtempSync(join(dir, 'flags-'));
    const config = join(work, 'config.json');
    const state = join(work, 'state');
    const r = cli(flags(config, state, ['--broker-url', 'mqtts://127.0.0.1:8883', '--admin', 'ada', '--admin-training-until', '2027-06-30']), PASSWORD + '\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('✓ first administrator created: ada');
    expect(r.stdout).toContain(`install what it signs: alpr-edge provision --cert signed.crt -c ${config}`);
    const c = loadConfig(config);
    expect(c).toMatchObject({ deviceId: 'pole-7', location: { latitude: 37.77, longitude: -122.42, headingDeg: 45 }, stateDir: state, mqtt: { url: 'mqtts://127.0.0.1:8883', tls: { keyFile: join(state, 'tls/device.key') } } });
    expect(c.cameras[0]!.uri).toBe(CLIP);
    const key = join(state, 'tls/device.key');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(createPublicKey(readFileSync(key)).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    const csr = join(state, 'tls/device.csr');
    expect(openssl(['req', '-in', csr, '-noout', '-verify', '-subject'])).toMatch(/subject=CN\s*=\s*pole-7, O\s*=\s*alpr-edge/);
    // The CSR carries the device key's public half.
    expect(openssl(['req', '-in', csr, '-noout', '-pubkey'])).toBe(openssl(['pkey', '-in', key, '-pubout']));
    const log = accessLog(state);
    expect(log.ok).toBe(true);
    expect(log.entries.map((e) => e.action)).toEqual(['device.key', 'device.key', 'device.provision', 'user.add']);
    expect(log.entries.every((e) => e.user.startsWith('cli:'))).toBe(true);
    expect(log.entries[2]!.parameters).toMatchObject({ deviceId: 'pole-7', broker: 'mqtts://127.0.0.1:8883', configFile: config });
    expect(log.entries[3]!.parameters).toMatchObject({ username: 'ada', role: 'administrator' });
    // Provisioning again keeps the key (a signed certificate stays valid) and the administrator.
    const again = cli(flags(config, state, ['--heading', '90', '--admin', 'bob', '--admin-training-until', '2027-06-30']), PASSWORD + '\n');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`device key kept: ${key}`);
    expect(again.stdout).toContain('first administrator not created: an administrator exists already');
    expect(loadConfig(config).location.headingDeg).toBe(90);
  });

  it('refuses a missing flag (naming it) and a bad value (exit 78 naming the field) without writing anything', () => {
    const work = mkdtempSync(join(dir, 'bad-'));
    const missing = cli(['provision', '-y', '-c', join(work, 'c.json'), '--device-id', 'x1', '--latitude', '1', '--longitude', '1', '--heading', '1', '--state-dir', join(work, 's')]);
    expect(missing.status).toBe(64);
    expect(missing.stderr).toContain('--camera-url is required');
    const bad = cli(flags(join(work, 'c.json'), join(work, 's'), ['--latitude', '95']));
    expect(bad.status).toBe(78);
    expect(bad.stderr).toContain('location.latitude must be <= 90');
    expect(spawnSync('ls', [work], { encoding: 'utf8' }).stdout.trim()).toBe('');
  });

  it('--http-port N is written to http.port and kept by a later provision without it; 0, 65536 or a word is refused (exit 64) writing nothing', () => {
    const work = mkdtempSync(join(dir, 'http-port-'));
    const config = join(work, 'config.json');
    const state = join(work, 'state');
    for (const bad of ['0', '65536', 'eighty', '80.5']) {
      const r = cli(flags(config, state, ['--http-port', bad]));
      expect(r.status, `${bad}: ${r.stderr}`).toBe(64);
      expect(r.stderr).toContain(`--http-port`);
      expect(r.stderr).toContain(`"${bad}"`);
    }
    expect(spawnSync('ls', [work], { encoding: 'utf8' }).stdout.trim()).toBe('');
    const r = cli(flags(config, state, ['--http-port', '8443']));
    expect(r.status, r.stderr).toBe(0);
    expect(loadConfig(config).http.port).toBe(8443);
    const again = cli(flags(config, state, ['--heading', '90']));
    expect(again.status, again.stderr).toBe(0);
    expect(loadConfig(config).http).toMatchObject({ port: 8443 });
    expect(loadConfig(config).location.headingDeg).toBe(90);
  });
});

describe('alpr-edge provision --publisher-key', () => {
  it('trusts the hot-list publisher keys given, copied beside the config, each on the access log; a bad key writes nothing', () => {
    const work = mkdtempSync(join(dir, 'keys-'));
    const config = join(work, 'etc', 'config.json');
    const state = join(work, 'state');
    const pem = join(work, 'agency.pub.pem');
    writeFileSync(pem, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const bad = cli(flags(config, state, ['--publisher-key', `agency-2025=${join(work, 'missing.pem')}`]));
    expect(bad.status).toBe(65);
    expect(bad.stderr).toContain(`--publisher-key agency-2025=${join(work, 'missing.pem')}: ENOENT`);
    expect(spawnSync('ls', [work], { encoding: 'utf8' }).stdout.trim()).toBe('agency.pub.pem');

    const r = cli(flags(config, state, ['--publisher-key', `agency-2025=${pem}`]));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ hot-list publisher key trusted: agency-2025 \(sha256 [0-9a-f]{64}\)/);
    const copy = join(work, 'etc', 'publisher-keys', 'agency-2025.pem');
    expect(loadConfig(config).hotlists.publisherKeys).toEqual([{ id: 'agency-2025', file: copy }]);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(pem, 'utf8'));
    const log = accessLog(state);
    expect(log.ok).toBe(true);
    expect(log.entries.find((e) => e.action === 'config.change')!.parameters).toMatchObject({ change: 'publisher-key-added', keyId: 'agency-2025', file: copy, via: 'provision' });
  });
});

describe('alpr-edge provision --cert', () => {
  it('installs the certificate the broker CA signed for our CSR; the self-test then round-trips over TLS with it', async () => {
    // Its own top-level directory: Mosquitto drops to its own user, which cannot enter a 0700 temp dir.
    const caDir = mkdtempSync(join(tmpdir(), 'provision-ca-'));
    const certs = makeCerts(caDir);
    const broker = await startMosquitto(caDir, { tls: certs });
    onTestFinished(() => broker.stop());
    const work = mkdtempSync(join(dir, 'cert-'));
    const config = join(work, 'config.json');
    const state = join(work, 'state');
    expect(cli(flags(config, state, ['--broker-url', `mqtts://127.0.0.1:${broker.port}`, '--ca', certs.caCert])).status).toBe(0);
    // The department's CA signs the CSR.
    const signed = join(work, 'signed.crt');
    openssl(['x509', '-req', '-in', join(state, 'tls/device.csr'), '-CA', certs.caCert, '-CAkey', certs.caKey, '-CAcreateserial', '-out', signed, '-days', '30']);
    // A certificate for another key, and one from another CA, are refused.
    const other = cli(['provision', '--cert', certs.clientCert, '-c', config]);
    expect(other.status).toBe(65);
    expect(other.stderr).toContain("was not issued for this device's key");
    const rogueDir = mkdtempSync(join(dir, 'rogue-'));
    const rogue = makeCerts(rogueDir, 'rogue-');
    const rogueSigned = join(work, 'rogue.crt');
    openssl(['x509', '-req', '-in', join(state, 'tls/device.csr'), '-CA', rogue.caCert, '-CAkey', rogue.caKey, '-CAcreateserial', '-out', rogueSigned, '-days', '30']);
    const wrongCa = cli(['provision', '--cert', rogueSigned, '-c', config]);
    expect(wrongCa.status).toBe(65);
    expect(wrongCa.stderr).toContain('is not signed by the pinned broker CA');

    const r = cli(['provision', '--cert', signed, '-c', config]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/certificate installed: .*device\.crt\n  subject CN=pole-7, O=alpr-edge/);
    const c = loadConfig(config);
    expect(c.mqtt.tls.certFile).toBe(join(state, 'tls/device.crt'));
    expect(new X509Certificate(readFileSync(c.mqtt.tls.certFile)).subject).toContain('CN=pole-7');
    const log = accessLog(state);
    expect(log.entries.at(-1)).toMatchObject({ action: 'device.cert', result: 'ok', parameters: { subject: 'CN=pole-7, O=alpr-edge' } });
    expect(log.ok).toBe(true);

    const st = spawnSync('node', [MAIN, 'selftest', '--json', '-c', config], { encoding: 'utf8', timeout: 120_000 });
    const broker1 = (JSON.parse(st.stdout) as { checks: { check: string; status: string; detail: string }[] }).checks.find((x) => x.check === 'broker')!;
    expect(broker1.detail).toMatch(/TLSv1\.[23], .*round trip \d+ ms/);
    expect(broker1.status).not.toBe('fail');
  });
});

describe('alpr-edge provision (interactive, on a real pseudo-terminal)', () => {
  it('asks with defaults, re-asks a bad coordinate, hides the password, and writes the same result', () => {
    const work = mkdtempSync(join(dir, 'pty-'));
    const config = join(work, 'config.json');
    const state = join(work, 'state');
    // An earlier config provides defaults (device id, camera, location).
    writeFileSync(config, JSON.stringify({ deviceId: 'pole-old', location: { latitude: 10, longitude: 20, headingDeg: 30 }, cameras: [{ id: 'c1', uri: 'test://' }] }));
    const spec = join(work, 'spec.json');
    writeFileSync(spec, JSON.stringify({
      argv: ['node', MAIN, 'provision', '-c', config, '--camera-url', CLIP],
      cwd: process.cwd(),
      timeoutS: 90,
      steps: [
        { expect: 'Device id \\[pole-old\\]: ', send: 'pole-9' },
        { expect: `Camera URL .*\\[${CLIP.replace(/[.]/g, '\\.')}\\]: `, send: '' },
        { expect: 'Latitude \\(WGS84 degrees\\) \\[10\\]: ', send: 'north' },
        // Asked again after the error.
        { expect: 'must be a number from -90 to 90[\\s\\S]*Latitude \\(WGS84 degrees\\) \\[10\\]: ', send: '37.5' },
        { expect: 'Longitude \\(WGS84 degrees\\) \\[20\\]: ', send: '' },
        { expect: 'Heading .*\\[30\\]: ', send: '180' },
        { expect: 'Where the pole stands .*: ', send: 'Main St & 3rd, northbound' },
        { expect: 'Central broker .*: ', send: '' },
        { expect: 'Broker CA certificate .*: ', send: '' },
        { expect: 'State directory \\[/var/lib/alpr-edge\\]: ', send: state },
        { expect: 'First administrator username .*: ', send: 'ada' },
        { expect: 'Training of ada valid until \\(YYYY-MM-DD\\) \\[\\d{4}-\\d{2}-\\d{2}\\]: ', send: '2027-01-31' },
        { expect: 'Password for ada \\(12 or more characters\\): ', send: PASSWORD },
        { expect: 'Repeat the password: ', send: PASSWORD },
        { expect: `Write .*config\\.json and create the device key for pole-9\\? \\(yes/no\\) \\[yes\\]: `, send: '' },
      ],
    }));
    const r = spawnSync('/usr/bin/python3', ['test/support/pty-drive.py', spec], { encoding: 'utf8', timeout: 120_000 });
    const out = JSON.parse(r.stdout) as { exitCode: number; output: string; failedStep: number | null };
    expect(out.failedStep, out.output).toBeNull();
    expect(out.exitCode, out.output).toBe(0);
    expect(out.output).toContain('✓ first administrator created: ada');
    // No echo: the password never appears on the terminal.
    expect(out.output).not.toContain(PASSWORD);
    const c = loadConfig(config);
    expect(c).toMatchObject({ deviceId: 'pole-9', location: { latitude: 37.5, longitude: 20, headingDeg: 180, description: 'Main St & 3rd, northbound' }, stateDir: state });
    expect(c.cameras[0]).toMatchObject({ id: 'c1', uri: CLIP });
    const log = accessLog(state);
    expect(log.entries.map((e) => e.action)).toEqual(['device.key', 'device.key', 'device.provision', 'user.add']);
    expect(log.entries[3]!.parameters).toMatchObject({ username: 'ada', trainingValidUntil: '2027-01-31' });
  });
});
