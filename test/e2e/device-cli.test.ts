import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { freePort, makeCerts, startMosquitto } from '../support/mosquitto.js';
import { entry, makePublisher, memoryChangeLog } from '../support/mqtt-harness.js';
import { validateConfig } from '../../src/config/load.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import { assessHealth } from '../../src/health/health.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { DeviceEventBus } from '../../src/device-events.js';

// Each test starts Node (and often the models, a camera and a broker) several times: on a loaded
// two-core machine that takes minutes, not the default minute.
vi.setConfig({ testTimeout: 240_000 });

// The technician's commands as they run them over SSH: the compiled CLI in a child process, on the
// demo clip as a file camera, the local Mosquitto on 127.0.0.1:1883 and a TLS Mosquitto of our own.
const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'device-cli-'));
const CLIP = `file://${resolve('test/fixtures/demo/clip.mp4')}`;

function cli(args: string[], timeoutMs = 120_000) {
  return spawnSync('node', [MAIN, ...args], { encoding: 'utf8', timeout: timeoutMs });
}

function writeConfig(name: string, over: Record<string, unknown>): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify({
    deviceId: 'selftest-pole',
    location: { latitude: 37.78, longitude: -122.42, headingDeg: 90 },
    cameras: [{ id: 'demo', uri: CLIP }],
    http: { port: 0 },
    stateDir: join(dir, name.replace('.json', '-state')),
    ...over,
  }));
  return p;
}

interface Check {
  check: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
  next: string;
}

function selftestJson(config: string): { code: number | null; ok: boolean; checks: Map<string, Check>; stdout: string } {
  const r = cli(['selftest', '--json', '--camera-timeout', '20', '-c', config]);
  const out = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  return { code: r.status, ok: out.ok, checks: new Map(out.checks.map((c) => [c.check, c])), stdout: r.stdout };
}

describe('alpr-edge selftest', () => {
  it('passes camera, models and a broker round trip on the demo clip and the local Mosquitto; exit code follows the failures', () => {
    const r = selftestJson(writeConfig('ok.json', { mqtt: { url: 'mqtt://127.0.0.1:1883', allowPlainText: true } }));
    const c = r.checks;
    expect(c.get('config')?.status).toBe('pass');
    expect(c.get('models')?.status).toBe('pass');
    expect(c.get('models')?.detail).toContain('checksums match');
    expect(c.get('camera demo')?.status).toBe('pass');
    expect(c.get('camera demo')?.detail).toMatch(/5 frames 1280x720/);
    // Plain mqtt:// works but is flagged (P16).
    expect(c.get('broker')?.status).toBe('warn');
    expect(c.get('broker')?.detail).toMatch(/round trip \d+ ms, NOT encrypted/);
    expect(c.get('disk')?.status).toMatch(/pass|warn/);
    expect(c.get('gpio')?.status).toBe('skip');
    // The clock is whatever this machine's clock is; the answer must name who said so.
    expect(c.get('clock')?.detail).toMatch(/^(timedatectl|chronyc|timesyncd|adjtimex|none): /);
    const anyFail = [...c.values()].some((x) => x.status === 'fail');
    expect(r.ok).toBe(!anyFail);
    expect(r.code).toBe(anyFail ? 1 : 0);
  });

  it('passes the broker check over TLS with a client certificate (round trip through a TLS Mosquitto)', async () => {
    // Its own top-level directory: Mosquitto drops to its own user, which cannot enter our 0700 temp dir.
    const tlsDir = mkdtempSync(join(tmpdir(), 'selftest-tls-'));
    const certs = makeCerts(tlsDir);
    const broker = await startMosquitto(tlsDir, { tls: certs });
    onTestFinished(() => broker.stop());
    const config = writeConfig('tls.json', {
      mqtt: { url: `mqtts://127.0.0.1:${broker.port}`, tls: { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey } },
    });
    const r = selftestJson(config);
    expect(r.checks.get('broker')?.detail).toMatch(/TLSv1\.[23], broker certificate valid 1 more days, connected in \d+ ms, round trip \d+ ms/);
    // The test CA issues for 2 days: the round trip works, and the near expiry is flagged.
    expect(r.checks.get('broker')).toMatchObject({ status: 'warn', next: 'renew the broker certificate soon' });
  });

  it('fails with what to do next when the camera is gone and the broker does not answer', async () => {
    const port = await freePort();
    const config = writeConfig('bad.json', {
      cameras: [{ id: 'gone', uri: `file://${join(dir, 'no-such-clip.mp4')}`, reconnectMaxDelayMs: 500 }],
      mqtt: { url: `mqtt://127.0.0.1:${port}`, allowPlainText: true },
    });
    const r = cli(['selftest', '--camera-timeout', '3', '-c', config]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/camera gone\s+FAIL\s+.*no frame within 3 s/);
    expect(r.stdout).toMatch(/broker\s+FAIL\s+mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(r.stdout).toContain('→ check power, cable and network to the camera');
    expect(r.stdout).toMatch(/\d+ check\(s\) FAILED/);
  });

  it('fails the config check naming the field, and nothing else runs', () => {
    const r = selftestJson(writeConfig('badcfg.json', { location: { latitude: 91, longitude: 0, headingDeg: 0 } }));
    expect(r.code).toBe(1);
    expect([...r.checks.keys()]).toEqual(['config']);
    expect(r.checks.get('config')?.detail).toContain('location.latitude must be <= 90');
  });
});

describe('alpr-edge status', () => {
  it("prints cameras, fps, last read age, hot lists, broker and outbox from the running daemon's /healthz", async () => {
    const config = writeConfig('status.json', {
      cameras: [{ id: 'demo', uri: CLIP, loop: true }],
      mqtt: { url: 'mqtt://127.0.0.1:1883', allowPlainText: true },
    });
    const child = spawn('node', [MAIN, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let address = '';
    for (let i = 0; i < 600 && !address; i++) {
      await new Promise((r) => setTimeout(r, 100));
      address = /"address":"(http:\/\/[^"]+)"/.exec(stderr)?.[1] ?? '';
    }
    expect(address, stderr).not.toBe('');
    // Wait for the first read of the demo clip, so "last read" has an age.
    let out = '';
    for (let i = 0; i < 200; i++) {
      const r = spawnSync('node', [MAIN, 'status', '--url', address], { encoding: 'utf8' });
      out = r.stdout;
      if (r.status === 0 && /demo\s+online\s+[\d.]+\s+\S+ s\s+[\d.]+ s/.test(out)) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(out).toMatch(/^alpr-edge 0\.1\.0: (OK|DEGRADED), up /);
    expect(out).toMatch(/CAMERA\s+STATE\s+FPS\s+LAST FRAME\s+LAST READ/);
    const row = /demo\s+online\s+([\d.]+)\s+\S+ s\s+([\d.]+) s/.exec(out);
    expect(row, out).not.toBeNull();
    expect(Number(row![1])).toBeGreaterThan(0);
    expect(out).toContain('hot lists: none loaded (no signed hot list loaded)');
    expect(out).toMatch(/broker: connected; outbox \d+ messages \(\d+ hits\), 0 dropped/);
    const json = JSON.parse(spawnSync('node', [MAIN, 'status', '--json', '--url', address], { encoding: 'utf8' }).stdout);
    expect(json.cameras[0].lastReadAgeMs).toBeGreaterThanOrEqual(0);
  });

  it('shows each signed hot list with its version, which /healthz gives as a number', async () => {
    // The hot-list extension as the daemon runs it, with a signed list installed; its health in a
    // /healthz served over HTTP, so the version reaches the CLI as JSON gives it.
    const listDir = mkdtempSync(join(tmpdir(), 'status-hotlist-'));
    const publisher = makePublisher(listDir);
    const config = validateConfig({
      deviceId: 'status-pole',
      location: { latitude: 37.78, longitude: -122.42, headingDeg: 90 },
      cameras: [{ id: 'demo', uri: 'test://' }],
      stateDir: join(listDir, 'state'),
      hotlists: { publisherKeys: [{ id: publisher.keyId, file: publisher.pubFile }] },
    });
    const hotlist = new HotListExtension({ changeLog: memoryChangeLog() });
    await hotlist.start({ config, logger: pino({ level: 'silent' }), metrics: createMetrics(), events: new DeviceEventBus() });
    onTestFinished(() => hotlist.stop());
    hotlist.installSigned(publisher.sign('ncic', 7, [entry('TEST001', 'CA'), entry('TEST002', 'CA')]), 'test');
    const report = assessHealth([], Date.now(), 10_000, Date.now(), '0.1.0', { version: 'test-models', interim: false }, { hotlist: hotlist.health() });
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(report)));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    onTestFinished(() => new Promise<void>((res) => server.close(() => res())));
    const { port } = server.address() as AddressInfo;
    // Asynchronous: the server above answers from this process's event loop.
    const child = spawn('node', [MAIN, 'status', '--url', `http://127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((res) => child.once('exit', res));
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/HOT LIST\s+VERSION\s+ENTRIES\s+AGE/);
    expect(stdout).toMatch(/\nncic\s+7\s+2\s+\d/);
  });

  it('says no daemon answers in one line, exit 69 (EX_UNAVAILABLE), when nothing listens', async () => {
    const port = await freePort();
    const r = cli(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(r.status).toBe(69);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`no daemon answers at http://127.0.0.1:${port} (ECONNREFUSED)`);
  });
});

describe('alpr-edge snapshot', () => {
  it('writes the live frame with the plate box, read, confidence, width and sharpness drawn, and prints them', async () => {
    const sharp = (await import('sharp')).default;
    const out = join(dir, 'aim.jpg');
    // Frame 50 of the demo clip shows the first (synthetic) plate legibly (test/fixtures/demo/clip.json).
    // realtime false: every frame in order, so frame 51 is frame 51 however loaded the machine is.
    const snapConfig = writeConfig('snap.json', { cameras: [{ id: 'demo', uri: CLIP, realtime: false }] });
    const r = cli(['snapshot', '--out', out, '--skip', '50', '--json', '-c', snapConfig]);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { width: number; height: number; sharpness: number; plates: { text: string; confidence: number; widthPx: number; sharpness: number; box: number[] }[]; detections: unknown[] };
    expect(s.plates).toHaveLength(1);
    const p = s.plates[0]!;
    expect(p.text).toBe('1CPP131');
    expect(p.confidence).toBeGreaterThan(0.5);
    // The clip's plate is about 170 px wide at mid-pass.
    expect(p.widthPx).toBeGreaterThan(120);
    expect(p.widthPx).toBeLessThan(200);
    // A plate's lettering is sharper than the soft background of the frame as a whole.
    expect(p.sharpness).toBeGreaterThan(s.sharpness);
    const img = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    expect([img.info.width, img.info.height]).toEqual([1280, 720]);
    // The green box outline is drawn on the frame: its left edge, half-way down the plate.
    const [x, y, , h] = p.box as [number, number, number, number];
    const i = ((y + Math.round(h / 2)) * img.info.width + x) * img.info.channels;
    const [R, G, B] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
    expect(G).toBeGreaterThan(150);
    expect(R).toBeLessThan(120);
    expect(B).toBeLessThan(120);
    const text = cli(['snapshot', '--out', join(dir, 'aim2.jpg'), '--skip', '50', '-c', snapConfig]);
    expect(text.stdout).toMatch(/frame sharpness [\d.]+ \(variance of Laplacian; higher is sharper\)/);
    // P13: the state is printed only when the reader is sure of it, and then it is CA.
    expect(text.stdout).toMatch(/1CPP131( CA)?\s+confidence [01]\.\d+\s+width \d+ px\s+sharpness [\d.]+/);
  });

  it('fails with exit 69 (EX_UNAVAILABLE) naming the camera when it gives no frame', () => {
    const config = writeConfig('snapgone.json', { cameras: [{ id: 'gone', uri: `file://${join(dir, 'nope.mp4')}` }] });
    const r = cli(['snapshot', '--out', join(dir, 'x.jpg'), '--timeout', '3', '-c', config]);
    expect(r.status).toBe(69);
    expect(r.stderr).toMatch(/camera gone: no frame within 3 s/);
  });
});
