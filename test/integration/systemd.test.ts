import { describe, expect, it, onTestFinished } from 'vitest';
import { cpSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SystemdNotifyCommand, SystemdSupervisor, assessProgress, watchdogIntervalMs, type NotifyTransport } from '../../src/device/systemd-notify.js';
import type { CameraHealth, HealthReport } from '../../src/health/health.js';
import { openNotifySocket, type NotifyMessage } from '../support/notify-socket.js';

const UNIT = 'systemd/alpr-edge.service';
const dir = mkdtempSync(join(tmpdir(), 'systemd-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `systemd-analyze verify` in a scratch root that holds the unit, Debian's own units (targets it
 * depends on) and stand-ins for /usr/bin/alpr-edge and /bin/kill (verify checks that ExecStart= and
 * ExecReload= are executable).
 * scripts/setup installs systemd; a warning is as bad as an error here, so any output fails.
 */
function verifyUnit(unitText: string): { status: number | null; output: string } {
  const root = mkdtempSync(join(dir, 'root-'));
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/alpr-edge'), '#!/bin/sh\n');
  chmodSync(join(root, 'usr/bin/alpr-edge'), 0o755);
  // ExecReload= names /bin/kill, as on Debian (merged /usr) and Yocto images.
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin/kill'), '#!/bin/sh\n');
  chmodSync(join(root, 'bin/kill'), 0o755);
  writeFileSync(join(root, 'usr/lib/systemd/system/alpr-edge.service'), unitText);
  const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, 'alpr-edge.service'], { encoding: 'utf8' });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

function unitSettings(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const s = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (s) m.set(s[1]!, [...(m.get(s[1]!) ?? []), s[2]!]);
  }
  return m;
}

describe('systemd unit', () => {
  const text = readFileSync(UNIT, 'utf8');

  it('passes systemd-analyze verify without a single warning', () => {
    expect(verifyUnit(text)).toEqual({ status: 0, output: '' });
  });

  it('verify catches a broken unit (the check above can fail)', () => {
    const r = verifyUnit(text.replace('Type=notify', 'Type=notifyy'));
    expect(r.output).toMatch(/Failed to parse service type|notifyy/);
  });

  it('is hardened as the issue asks, with no MemoryDenyWriteExecute (Node JIT)', () => {
    const s = unitSettings(text);
    expect(s.get('Type')).toEqual(['notify']);
    expect(Number(s.get('WatchdogSec')?.[0])).toBeGreaterThan(0);
    expect(s.get('RestartPreventExitStatus')).toEqual(['78']);
    expect(s.get('User')).toEqual(['alpr-edge']);
    expect(s.get('StateDirectory')).toEqual(['alpr-edge']);
    expect(s.get('ProtectSystem')).toEqual(['strict']);
    expect(s.get('ProtectHome')).toEqual(['yes']);
    expect(s.get('PrivateTmp')).toEqual(['yes']);
    expect(s.get('NoNewPrivileges')).toEqual(['yes']);
    expect(s.get('CapabilityBoundingSet')).toEqual(['']);
    expect(s.get('DeviceAllow')).toEqual(['char-video4linux rw', 'char-gpiochip rw']);
    expect(s.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('reloads with SIGHUP (systemctl reload re-reads the config and publisher keys, docs/device.md)', () => {
    expect(unitSettings(text).get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
  });
});

function camera(over: Partial<CameraHealth>): CameraHealth {
  return { id: 'c1', state: 'online', lastFrameAgeMs: 50, lastInferenceAgeMs: 80, framesIn: 10, framesDropped: 0, framesAnalysed: 10, analysedFps: 12.5, lastReadAgeMs: null, decodeErrors: 0, reconnects: 0, healthy: true, ...over };
}

function report(cams: CameraHealth[]): HealthReport {
  return { status: cams.every((c) => c.healthy) ? 'ok' : 'stalled', uptimeS: 1, version: '0', models: { version: 'm', interim: false }, cameras: cams, components: {} };
}

const notStarted = camera({ state: 'starting', lastFrameAgeMs: null, lastInferenceAgeMs: null, framesAnalysed: 0, analysedFps: 0, healthy: false });
const stalled = camera({ lastFrameAgeMs: 40, lastInferenceAgeMs: 9000, healthy: false });

describe('watchdog progress rule', () => {
  it('an online camera whose frames are not analysed is a stall; a reconnecting camera is not', () => {
    expect(assessProgress(report([stalled]))).toEqual({ progressing: false, reason: 'camera c1 stalled: last frame 0 s ago, last frame analysed 9 s ago' });
    expect(assessProgress(report([camera({ state: 'reconnecting', lastFrameAgeMs: 30_000, healthy: false })])).progressing).toBe(true);
    expect(assessProgress(report([camera({})])).progressing).toBe(true);
  });

  it('takes the ping interval from WATCHDOG_USEC, only for this process', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
  });
});

describe('notify protocol over a real unix datagram socket (systemd-notify as transport)', () => {
  it('no READY before the first analysed frame; WATCHDOG=1 only while the pipeline progresses', async () => {
    const sock = await openNotifySocket(mkdtempSync(join(dir, 'sock-')));
    onTestFinished(sock.close);
    let current = report([notStarted]);
    // What the supervisor sent, in the order it decided to, and how often it has looked at health
    // (every poll and watchdog tick does): the test waits on those ticks, not on the clock.
    const command = new SystemdNotifyCommand(sock.path);
    const sent: Record<string, string>[] = [];
    const transport: NotifyTransport = { send: async (fields) => (sent.push({ ...fields }), command.send(fields)) };
    let looks = 0;
    const sup = new SystemdSupervisor({ transport, health: () => (looks++, current), logger: pino({ level: 'silent' }), watchdogMs: 150, pollMs: 50 });
    // Its timers end with the test however it ends; the test's own stop (STOPPING=1) makes this a no-op.
    onTestFinished(() => sup.stop());
    const ticks = async (n: number, what: string) => {
      const from = looks;
      await until(() => looks >= from + n, what);
      // and every message sent by then has reached the socket
      await until(() => sock.messages.length >= sent.length, 'the messages sent to land');
    };
    const seen = (key: string, from = 0) => sock.messages.slice(from).filter((m) => key in m.fields);
    const until = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !pred(); i++) await sleep(50);
      if (!pred()) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(sock.messages)}`);
    };

    sup.begin();
    sup.daemonStarted();
    await until(() => seen('STATUS').some((m) => m.fields['STATUS']!.includes('waiting for the first camera frame')), 'the waiting STATUS');
    await ticks(12, 'twelve supervisor ticks');
    expect(seen('READY')).toEqual([]);
    expect(seen('WATCHDOG')).toEqual([]);

    current = report([camera({})]);
    await until(() => seen('READY').length === 1, 'READY=1');
    const ready = seen('READY')[0]!;
    expect(ready.fields['READY']).toBe('1');
    expect(ready.fields['STATUS']).toBe('ok: 1/1 cameras online, 12.5 fps, last read never');
    await until(() => seen('WATCHDOG').length >= 3, 'three watchdog pings');

    // The camera loop stalls: frames still arrive but nothing is analysed.
    current = report([stalled]);
    await until(() => seen('STATUS').some((m) => m.fields['STATUS']!.startsWith('stalled: camera c1')), 'the stalled STATUS');
    // From the stalled STATUS on, in the order the supervisor decided, no ping: over 18 ticks (six
    // watchdog periods and twelve polls). A ping decided before it may land after it on the socket.
    const stalledAt = sent.findIndex((f) => f['STATUS']?.startsWith('stalled: camera c1'));
    await ticks(18, 'eighteen supervisor ticks while stalled');
    expect(sent.slice(stalledAt).filter((f) => 'WATCHDOG' in f)).toEqual([]);
    const mark = sock.messages.length;

    current = report([camera({})]);
    await until(() => seen('WATCHDOG', mark).length >= 1, 'pings after recovery');
    await sup.stop();
    await until(() => seen('STOPPING').length === 1, 'STOPPING=1');
    expect(seen('READY')).toHaveLength(1);
  });

  it('the real daemon sends READY=1 after its first analysed frame, pings the watchdog, and STOPPING=1 on SIGTERM', async () => {
    const work = mkdtempSync(join(dir, 'daemon-'));
    const sock = await openNotifySocket(work);
    onTestFinished(sock.close);
    const config = join(work, 'config.json');
    writeFileSync(config, JSON.stringify({
      deviceId: 'notify-pole',
      location: { latitude: 1, longitude: 2, headingDeg: 3 },
      cameras: [{ id: 'c1', uri: 'test://?width=320&height=240&fps=5' }],
      http: { port: 0 },
      stateDir: join(work, 'state'),
      hotlists: { enabled: false },
    }));
    const child = spawn('node', ['dist/src/bin.cjs', 'run', '--config', config], {
      env: { ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '1000000', WATCHDOG_PID: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const has = (k: string) => sock.messages.filter((m: NotifyMessage) => k in m.fields);
    for (let i = 0; i < 2400 && has('WATCHDOG').length < 2; i++) await sleep(100);
    expect(has('READY'), stderr).toHaveLength(1);
    // READY follows the models-loaded log line and carries the camera summary.
    expect(stderr).toContain('models loaded and warmed up');
    expect(has('READY')[0]!.fields['STATUS']).toMatch(/^(ok|degraded): 1\/1 cameras online, [\d.]+ fps/);
    const firstStatus = sock.messages.findIndex((m) => 'STATUS' in m.fields);
    expect(firstStatus).toBeLessThan(sock.messages.indexOf(has('READY')[0]!));
    expect(has('WATCHDOG').length).toBeGreaterThanOrEqual(2);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(has('STOPPING')).toHaveLength(1);
    // Models and a camera start in a child process: minutes on a loaded two-core machine.
  }, 300_000);
});
