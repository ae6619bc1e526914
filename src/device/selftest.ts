import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Config, GpioConfig } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { redactUri } from '../capture/index.js';
import { clockSync, type ClockSync } from '../host/clock.js';
import { probeCamera } from './camera-probe.js';
import { configuredPins, type PinBoard } from './gpio-pins.js';

// `alpr-edge selftest`: everything a technician must know before leaving the pole, each check with
// what to do when it fails. Checks never throw; a check that cannot run is a failure with a reason.

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to do next (empty when nothing). */
  next: string;
}

export interface SelftestOptions {
  configFile: string;
  logger: Logger;
  cameraTimeoutMs?: number;
  brokerTimeoutMs?: number;
  /** Injected in tests of the GPIO check only; production uses onoff. */
  board?: () => Promise<PinBoard>;
  clock?: () => Promise<ClockSync>;
  /**
   * Checks left out because the running daemon holds what they would open: its cameras (the live
   * view shows them) and its GPIO pins. Set when the console runs the self-test beside the daemon.
   */
  skip?: readonly SkippableCheck[];
}

export const SKIPPABLE_CHECKS = ['camera', 'gpio'] as const;
export type SkippableCheck = (typeof SKIPPABLE_CHECKS)[number];

const pass = (check: string, detail: string, next = ''): CheckResult => ({ check, status: 'pass', detail, next });
const warn = (check: string, detail: string, next: string): CheckResult => ({ check, status: 'warn', detail, next });
const fail = (check: string, detail: string, next: string): CheckResult => ({ check, status: 'fail', detail, next });
const skip = (check: string, detail: string, next = ''): CheckResult => ({ check, status: 'skip', detail, next });

export async function runSelftest(opts: SelftestOptions): Promise<CheckResult[]> {
  let config: Config;
  try {
    config = loadConfig(opts.configFile);
  } catch (err) {
    return [fail('config', (err as Error).message, `fix that field, then: alpr-edge config check ${opts.configFile}`)];
  }
  const results: CheckResult[] = [pass('config', `${opts.configFile}: device ${config.deviceId}, ${config.cameras.length} camera(s)`)];
  results.push(await checkModels(config));
  const skipped = new Set(opts.skip ?? []);
  for (const cam of config.cameras) {
    results.push(skipped.has('camera') ? skip(`camera ${cam.id}`, 'not opened a second time beside the running daemon', 'see its state, frames and focus on the live view') : await checkCamera(cam, opts.logger, opts.cameraTimeoutMs ?? 15_000));
  }
  results.push(await checkBroker(config, opts.brokerTimeoutMs ?? 10_000));
  results.push(await checkClock(opts.clock ?? clockSync));
  results.push(checkDisk(config));
  results.push(await checkStore(config));
  results.push(skipped.has('gpio') ? skip('gpio', 'the running daemon holds the pins') : await checkGpio(config.gpio, opts.board));
  return results;
}

async function checkModels(config: Config): Promise<CheckResult> {
  const { PlateEngine, engineOptions } = await import('../inference/engine.js');
  const t0 = Date.now();
  try {
    // resolveModel checks each file's sha256 against the manifest before a session is made.
    const engine = await PlateEngine.load(engineOptions(config));
    const version = engine.modelVersion;
    await engine.close();
    return pass('models', `${version}: checksums match, loaded and warmed up in ${Date.now() - t0} ms${engine.interim ? ' (interim models)' : ''}`);
  } catch (err) {
    return fail('models', (err as Error).message, `reinstall the package's models/ or fix models.manifest (${config.models.manifest})`);
  }
}

async function checkCamera(cam: Config['cameras'][number], logger: Logger, timeoutMs: number): Promise<CheckResult> {
  const name = `camera ${cam.id}`;
  try {
    const probe = await probeCamera(cam, logger, { count: 5, timeoutMs });
    const f = probe.frames[0];
    if (!f) {
      return fail(name, `${redactUri(cam.uri)}: no frame within ${timeoutMs / 1000} s (${probe.status.state}${probe.status.reason ? `: ${probe.status.reason}` : ''})`,
        'check power, cable and network to the camera, the URL, user and password; `alpr-edge snapshot` shows what it sees');
    }
    const fps = probe.frames.length > 1 ? ((probe.frames.length - 1) * 1000) / Math.max(1, probe.frames.at(-1)!.capturedAtMs - f.capturedAtMs) : 0;
    return pass(name, `${redactUri(cam.uri)}: ${probe.frames.length} frames ${f.width}x${f.height} at ${fps.toFixed(1)} fps${probe.status.decoder ? `, decoder ${probe.status.decoder}` : ''}`);
  } catch (err) {
    return fail(name, (err as Error).message, `fix cameras[].uri for ${cam.id}`);
  }
}

async function checkBroker(config: Config, timeoutMs: number): Promise<CheckResult> {
  const m = config.mqtt;
  if (!m.url) {
    if (m.embeddedBroker.enabled) return skip('broker', 'no central broker: the embedded demo broker runs inside the daemon');
    return warn('broker', 'no mqtt.url: hits stay on the device', 'set the broker with alpr-edge provision --broker-url mqtts://...');
  }
  const { connectOptions } = await import('../mqtt/connection.js');
  const { API_ROOT } = await import('../mqtt/topics.js');
  const mqtt = (await import('mqtt')).default;
  const url = redactUri(m.url);
  let client: import('mqtt').MqttClient | undefined;
  try {
    const base = connectOptions(m, m.url, config.deviceId, { topic: 'unused', payload: '' });
    // Its own client id (the daemon's would be kicked off the broker) and no last will (an
    // unclean end of the test must not mark the device offline).
    const { will: _will, ...options } = base;
    const t0 = Date.now();
    client = await Promise.race([
      mqtt.connectAsync(m.url, { ...options, clientId: `${base.clientId}-selftest`, connectTimeout: timeoutMs }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no CONNACK within ${timeoutMs / 1000} s`)), timeoutMs).unref()),
    ]);
    const connectMs = Date.now() - t0;
    const topic = `${API_ROOT}/${config.deviceId}/selftest/${randomBytes(4).toString('hex')}`;
    const payload = randomBytes(8).toString('hex');
    const c = client;
    const received = new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`published to ${topic} but nothing came back within ${timeoutMs / 1000} s (broker ACL?)`)), timeoutMs);
      c.on('message', (tp, msg) => {
        if (tp === topic && msg.toString() === payload) {
          clearTimeout(t);
          resolve(Date.now());
        }
      });
    });
    await c.subscribeAsync(topic, { qos: 1 });
    const sentAt = Date.now();
    await c.publishAsync(topic, payload, { qos: 1 });
    const roundTripMs = (await received) - sentAt;
    const stream = (c as unknown as { stream?: Partial<TLSSocket> }).stream;
    if (url.startsWith('mqtt://')) {
      return warn('broker', `${url}: connected in ${connectMs} ms, round trip ${roundTripMs} ms, NOT encrypted`, 'P16: use mqtts:// with the client certificate from alpr-edge provision (plain text is for loopback demos)');
    }
    const cert = stream?.getPeerCertificate?.();
    const protocol = stream?.getProtocol?.() ?? 'TLS';
    const daysLeft = cert?.valid_to ? Math.floor((Date.parse(cert.valid_to) - Date.now()) / 86_400_000) : undefined;
    const detail = `${url}: ${protocol}, broker certificate valid ${daysLeft ?? '?'} more days, connected in ${connectMs} ms, round trip ${roundTripMs} ms`;
    if (daysLeft !== undefined && daysLeft < 30) return warn('broker', detail, 'renew the broker certificate soon');
    return pass('broker', detail);
  } catch (err) {
    const msg = (err as Error).message;
    const next = /certificate|self.signed|unable to verify|CERT/i.test(msg)
      ? 'the broker certificate does not chain to mqtt.tls.caFile, or our client certificate was refused: re-run alpr-edge provision --cert'
      : 'check the broker URL and port, the network route, and firewall; the daemon queues hits in its outbox meanwhile';
    return fail('broker', `${url}: ${msg}`, next);
  } finally {
    await client?.endAsync(true).catch(() => undefined);
  }
}

async function checkClock(clock: () => Promise<ClockSync>): Promise<CheckResult> {
  const c = await clock();
  const detail = `${c.source}: ${c.detail}; now ${new Date().toISOString()}`;
  if (c.synced) return pass('clock', detail);
  return fail('clock', detail, 'P2: reads need a synced UTC clock: enable NTP (timedatectl set-ntp true, or chrony) and allow UDP 123 to the time server');
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

function checkDisk(config: Config): CheckResult {
  const where = nearestExisting(config.store.path || config.stateDir);
  try {
    const fs = statfsSync(where);
    const free = fs.bavail * fs.bsize;
    const total = fs.blocks * fs.bsize;
    const detail = `${where}: ${gib(free)} free of ${gib(total)}; store budget ${gib(config.store.maxBytes)}, keeps ${gib(config.store.minFreeBytes)} free`;
    if (free < config.store.minFreeBytes) return fail('disk', detail, 'free space on the state partition or lower store.minFreeBytes; the oldest reads are purged early meanwhile');
    if (free < config.store.maxBytes * 0.5) return warn('disk', detail, 'the store budget (store.maxBytes) is larger than the space left: lower it or add storage');
    return pass('disk', detail);
  } catch (err) {
    return fail('disk', `${where}: ${(err as Error).message}`, 'check that the state directory is mounted');
  }
}

async function checkStore(config: Config): Promise<CheckResult> {
  const { storePath, openStateDatabase } = await import('../state/database.js');
  const { verifyAccessLog } = await import('../access/access-log.js');
  const path = storePath(config);
  if (!existsSync(path)) return warn('store', `${path} does not exist yet`, 'start the daemon once (systemctl start alpr-edge) or run alpr-edge provision');
  try {
    const db = openStateDatabase(path, config.store.mapSizeBytes);
    try {
      const reads = db.reads.getCount();
      const users = db.users.getCount();
      const chain = verifyAccessLog(db);
      if (!chain.ok) return fail('store', `${path}: access log broken at entry ${chain.firstBadSeq}: ${chain.problem}`, 'P6: the log was altered; secure the device and report it, keep the store as evidence');
      const detail = `${path}: ${reads} reads, ${users} users, access log intact (${chain.entries} entries)`;
      if (users === 0) return warn('store', detail, 'no users yet: alpr-edge provision (or alpr-edge user add) creates the first administrator');
      return pass('store', detail);
    } finally {
      await db.root.close();
    }
  } catch (err) {
    return fail('store', `${path}: ${(err as Error).message}`, 'check permissions of the state directory (owner alpr-edge, mode 0700) and free space');
  }
}

export async function checkGpio(g: GpioConfig, boardFactory?: () => Promise<PinBoard>): Promise<CheckResult> {
  const pins = configuredPins(g);
  if (pins.length === 0) return skip('gpio', 'no pins configured (gpio.*)');
  try {
    const { onoffBoard } = await import('./gpio-pins.js');
    const board = await (boardFactory ?? onoffBoard)();
    if (!board.accessible) return fail('gpio', `${pins.length} pin(s) configured but GPIO is not accessible here (no /sys/class/gpio or no permission)`, 'add the alpr-edge user to the gpio group, or check the kernel has sysfs GPIO');
    const states: string[] = [];
    for (const p of pins) {
      if (p.direction === 'in') {
        const pin = board.input(p.gpio);
        states.push(`${p.role} (GPIO ${p.gpio}) reads ${pin.read()}`);
        pin.close();
      } else {
        // Opened low (off) and closed again: the daemon owns the outputs while it runs.
        board.output(p.gpio, false).close();
        states.push(`${p.role} (GPIO ${p.gpio}) ok`);
      }
    }
    const tamperOpen = g.tamperPin !== undefined && states.some((s) => s.startsWith('tamper') && s.endsWith(`reads ${g.tamperOpenValue}`));
    if (tamperOpen) return warn('gpio', states.join(', '), 'the enclosure reports open: close the door before leaving');
    return pass('gpio', states.join(', '));
  } catch (err) {
    return fail('gpio', (err as Error).message, 'check the pin numbers (sysfs numbering) and that no other process holds them');
  }
}

/** The table a technician reads over SSH. */
export function renderSelftest(results: CheckResult[]): string {
  const rows = results.map((r) => [r.check, r.status.toUpperCase(), r.detail, r.next]);
  const head = ['CHECK', 'RESULT', 'DETAIL (→ what to do next)', ''];
  const w = [0, 1].map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `${r[0]!.padEnd(w[0]!)}  ${r[1]!.padEnd(w[1]!)}  ${r[2]}${r[3] ? `\n${' '.repeat(w[0]! + w[1]! + 4)}→ ${r[3]}` : ''}`;
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  const summary = failed ? `${failed} check(s) FAILED, ${warned} warning(s)` : warned ? `all checks passed, ${warned} warning(s)` : 'all checks passed';
  return [line(head), ...rows.map(line), '', summary, ''].join('\n');
}
