// `npm run bench -- fleet`: a fleet on loopback (issue 8: ≥ 200 simulated devices publishing hits
// and reads to the local Mosquitto, consumed by `alpr-edge watch`). Each simulated device is the
// daemon's own hot-list and MQTT extensions (HotListExtension + MqttExtension: its own MQTT client,
// its own LMDB outbox, QoS 1 with the daemon's in-flight window), fed synthetic reads at a steady
// rate; every 4th read is on the hot list and becomes a hit carrying ~30 KB of images. Consumers:
// `--watchers` HitWatchers (src/mqtt/watch.ts) in one shared-subscription group for hits, and one
// shared-subscription client for reads. Reports throughput, end-to-end latency (read captured →
// consumer has it) and lost/duplicated counts. Bounded in devices, time and bytes; 127.0.0.1 only.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import mqtt from 'mqtt';
import pino from 'pino';
import { validateConfig } from '../src/config/load.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { DeviceEventBus } from '../src/device-events.js';
import { HotListExtension } from '../src/hotlist/extension.js';
import type { HotListEntry } from '../src/hotlist/list.js';
import { generatePublisherKeys, signHotList } from '../src/hotlist/signed-list.js';
import { MqttExtension } from '../src/mqtt/extension.js';
import { openStateDatabaseFor, type StateDatabase } from '../src/state/database.js';
import { HitWatcher } from '../src/mqtt/watch.js';
import type { Read } from '../src/pipeline/read.js';
import { newReadId } from '../src/pipeline/read-id.js';

const MB = 1024 * 1024;
const HIT_EVERY = 4;

export interface FleetOptions {
  broker: string;
  devices: number;
  seconds: number;
  readsPerSecond: number;
  imageKb: number;
  watchers: number;
  drainS: number;
  json: string;
}

export function parseFleetOptions(argv: string[]): FleetOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      devices: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '20' },
      'reads-per-s': { type: 'string', default: '1' },
      'image-kb': { type: 'string', default: '30' },
      watchers: { type: 'string', default: '2' },
      'drain-s': { type: 'string', default: '60' },
      json: { type: 'string', default: 'bench-results/bench-fleet.json' },
    },
    strict: true,
    allowPositionals: true,
  });
  const num = (flag: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${flag} must be a number in ${min}–${max}, got ${raw}`);
    return n;
  };
  const u = new URL(values.broker);
  // Only this machine: the bench floods a broker, which must be the local test one.
  if (u.protocol !== 'mqtt:' || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) throw new Error(`--broker must be mqtt:// on 127.0.0.1 or ::1, got ${values.broker}`);
  return {
    broker: values.broker,
    devices: Math.round(num('--devices', values.devices, 1, 2000)),
    seconds: num('--seconds', values.seconds, 1, 600),
    readsPerSecond: num('--reads-per-s', values['reads-per-s'], 0.01, 50),
    imageKb: Math.round(num('--image-kb', values['image-kb'], 1, 1024)),
    watchers: Math.round(num('--watchers', values.watchers, 1, 16)),
    drainS: num('--drain-s', values['drain-s'], 1, 600),
    json: values.json,
  };
}

/** Nearest-rank percentile. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Device {
  id: string;
  hotlist: HotListExtension;
  mqtt: MqttExtension;
  state: StateDatabase;
  dir: string;
}

/** Digits after letters that fold to nothing else: no two list plates are look-alikes of each other. */
function fleetPlate(n: number): string {
  return 'FX' + String(n).padStart(5, '0');
}

async function startDevice(id: string, root: string, pubFile: string, signedList: Buffer, broker: string): Promise<Device> {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  const config = validateConfig({
    deviceId: id,
    location: { latitude: 37.77, longitude: -122.42, headingDeg: 90, description: `bench pole ${id}` },
    cameras: [{ id: 'cam1', uri: 'test://' }],
    http: { port: 0 },
    log: { level: 'silent' },
    stateDir: dir,
    hotlists: { publisherKeys: [{ id: 'bench', file: pubFile }] },
    mqtt: { url: broker, allowPlainText: true, protocolVersion: 5, publishReads: true },
  });
  const logger = pino({ level: 'silent' });
  const ctx = { config, logger, metrics: createMetrics(), http: Fastify(), events: new DeviceEventBus() };
  // Bench poles keep no access log: their list installs are recorded nowhere.
  const hotlist = new HotListExtension({ changeLog: { append: () => undefined } });
  // Bench poles have no store: the outbox gets a state environment of its own, where the store's would be.
  const state = openStateDatabaseFor(config);
  const mqttExt = new MqttExtension({ stateDatabase: () => state, hotlist, version: 'bench' });
  await hotlist.start(ctx);
  hotlist.installSigned(signedList, 'bench');
  await mqttExt.start(ctx);
  return { id, hotlist, mqtt: mqttExt, state, dir };
}

function syntheticRead(deviceId: string, plate: string, plateJpeg: Buffer, overviewJpeg: Buffer): Read {
  const now = new Date().toISOString();
  return {
    id: newReadId(),
    deviceId,
    cameraId: 'cam1',
    plate,
    state: 'CA',
    stateConfidence: 0.9,
    confidence: 0.93,
    agreement: 0.9,
    candidates: [{ text: plate, confidence: 0.93 }],
    capturedAt: now,
    firstSeenAt: now,
    lastSeenAt: now,
    frames: 5,
    box: [10, 20, 120, 60],
    plateJpeg,
    overviewJpeg,
    location: { latitude: 37.77, longitude: -122.42, headingDeg: 90, description: 'bench' },
    modelVersion: 'bench',
  };
}

export async function main(): Promise<void> {
  const opts = parseFleetOptions(process.argv.slice(2).filter((a) => a !== 'fleet'));
  const run = randomUUID().slice(0, 8);
  const root = mkdtempSync(join(tmpdir(), 'alpr-bench-fleet-'));
  const logger = pino({ level: 'silent' });
  const devices: Device[] = [];
  const watchers: HitWatcher[] = [];
  let readsClient: mqtt.MqttClient | undefined;
  try {
    // One signed list for the fleet: 1000 synthetic plates; every 4th read is one of them.
    const keys = generatePublisherKeys();
    const pubFile = join(root, 'bench.pub.pem');
    writeFileSync(pubFile, keys.publicKeyPem);
    const entries: HotListEntry[] = Array.from({ length: 1000 }, (_, i) => ({ plate: fleetPlate(i), state: 'CA', type: 'SVS', reason: 'STOLEN VEHICLE', recordNumber: `V${100000 + i}`, enteredAt: '2026-01-01T00:00:00.000Z', expiresAt: null, partial: false, fuzzy: false }));
    const signed = signHotList({ name: 'fleet', source: 'synthetic', version: 1, issuedAt: new Date().toISOString(), entries }, keys.privateKeyPem, 'bench');
    // A plate crop and an overview together about --image-kb (random bytes: the transport does not look inside).
    const plateJpeg = randomBytes(Math.round(opts.imageKb * 1024 * 0.15));
    const overviewJpeg = randomBytes(opts.imageKb * 1024 - plateJpeg.length);

    // Consumers first, so nothing is published before they listen.
    const ours = (deviceId: string) => deviceId.startsWith(`fleet-${run}-`);
    const hitLatency: number[] = [];
    const hitIds = new Map<string, number>();
    let hitBytes = 0;
    const perWatcher = Array<number>(opts.watchers).fill(0);
    for (let w = 0; w < opts.watchers; w++) {
      const watcher = new HitWatcher({
        brokerUrl: opts.broker,
        group: `bench-${run}`,
        logger,
        onHit: (hit, receivedAtMs) => {
          if (!ours(hit.deviceId)) return;
          perWatcher[w]!++;
          hitLatency.push(receivedAtMs - Date.parse(hit.read.capturedAt));
          hitIds.set(hit.hitId, (hitIds.get(hit.hitId) ?? 0) + 1);
          hitBytes += hit.images.plateJpeg.length + hit.images.overviewJpeg.length;
        },
      });
      await watcher.start();
      watchers.push(watcher);
    }
    const readLatency: number[] = [];
    const readIds = new Map<string, number>();
    let readBytes = 0;
    readsClient = await mqtt.connectAsync(opts.broker, { protocolVersion: 5, clientId: `bench-reads-${run}` });
    readsClient.on('message', (topic, payload) => {
      const receivedAtMs = Date.now();
      if (!topic.startsWith(`alpr/v1/fleet-${run}-`)) return;
      const msg = JSON.parse(payload.toString('utf8')) as { read: { id: string; capturedAt: string } };
      readLatency.push(receivedAtMs - Date.parse(msg.read.capturedAt));
      readIds.set(msg.read.id, (readIds.get(msg.read.id) ?? 0) + 1);
      readBytes += payload.length;
    });
    await readsClient.subscribeAsync(`$share/bench-reads-${run}/alpr/v1/+/reads`, { qos: 1 });

    process.stderr.write(`bench fleet: starting ${opts.devices} simulated devices (hot list + MQTT extensions, own client and LMDB outbox each)\n`);
    for (let i = 0; i < opts.devices; i++) devices.push(await startDevice(`fleet-${run}-${String(i).padStart(4, '0')}`, root, pubFile, signed, opts.broker));
    const connectBy = Date.now() + 30_000;
    while (devices.some((d) => d.mqtt.health()['connected'] !== true)) {
      if (Date.now() > connectBy) throw new Error('not every simulated device connected within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    process.stderr.write(`bench fleet: ${opts.seconds} s at ${opts.readsPerSecond} read/s per device, every ${HIT_EVERY}th read a hit with ${opts.imageKb} KB of images\n`);
    const expectedReads = new Set<string>();
    const expectedHits = new Set<string>();
    let produced = 0;
    const cpu0 = process.cpuUsage();
    const started = Date.now();
    const intervalMs = 1000 / opts.readsPerSecond;
    // Devices start spread over one interval, as a real fleet's reads are.
    const ticks = Math.max(1, Math.floor(opts.seconds * opts.readsPerSecond));
    await Promise.all(
      devices.map(async (d, di) => {
        await new Promise((r) => setTimeout(r, (di / devices.length) * intervalMs));
        for (let t = 0; t < ticks; t++) {
          const n = di * ticks + t;
          const hit = n % HIT_EVERY === 0;
          const read = syntheticRead(d.id, hit ? fleetPlate(n % 1000) : `NH${n.toString(36).toUpperCase().padStart(5, '0')}`, plateJpeg, overviewJpeg);
          expectedReads.add(read.id);
          if (hit) expectedHits.add(`${read.id}:fleet:${n % 1000}`);
          produced++;
          await d.hotlist.accept(read);
          await d.mqtt.accept(read);
          const next = started + (di / devices.length) * intervalMs + (t + 1) * intervalMs;
          await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
        }
      }),
    );
    const producedAt = Date.now();
    const drainBy = producedAt + opts.drainS * 1000;
    while ((hitIds.size < expectedHits.size || readIds.size < expectedReads.size) && Date.now() < drainBy) await new Promise((r) => setTimeout(r, 100));
    const lastAt = Date.now();
    // Anything redelivered late still counts as a duplicate.
    await new Promise((r) => setTimeout(r, 500));
    const cpu = process.cpuUsage(cpu0);

    const hitsReceived = [...hitIds.values()].reduce((a, b) => a + b, 0);
    const readsReceived = [...readIds.values()].reduce((a, b) => a + b, 0);
    const wallS = (lastAt - started) / 1000;
    const sortedHits = [...hitLatency].sort((a, b) => a - b);
    const sortedReads = [...readLatency].sort((a, b) => a - b);
    const results = {
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) },
      options: opts,
      produced: { reads: expectedReads.size, hits: expectedHits.size, seconds: (producedAt - started) / 1000 },
      received: {
        hits: { unique: [...hitIds.keys()].filter((k) => expectedHits.has(k)).length, total: hitsReceived, lost: [...expectedHits].filter((k) => !hitIds.has(k)).length, duplicated: hitsReceived - hitIds.size, droppedByWatchers: watchers.reduce((a, w) => a + w.stats.duplicates, 0), invalid: watchers.reduce((a, w) => a + w.stats.invalid, 0), perWatcher },
        reads: { unique: [...readIds.keys()].filter((k) => expectedReads.has(k)).length, total: readsReceived, lost: [...expectedReads].filter((k) => !readIds.has(k)).length, duplicated: readsReceived - readIds.size },
      },
      throughput: { wallS, msgsPerS: (hitsReceived + readsReceived) / wallS, mbPerS: (hitBytes + readBytes) / MB / wallS, hitMbPerS: hitBytes / MB / wallS },
      latencyMs: {
        hits: { p50: percentile(sortedHits, 0.5), p99: percentile(sortedHits, 0.99), max: sortedHits.at(-1) ?? 0, n: sortedHits.length },
        reads: { p50: percentile(sortedReads, 0.5), p99: percentile(sortedReads, 0.99), max: sortedReads.at(-1) ?? 0, n: sortedReads.length },
      },
      processCpuPctOneCore: (100 * (cpu.user + cpu.system)) / 1000 / (lastAt - started),
    };
    const jsonPath = resolve(opts.json);
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
    const r = results.received;
    const rows: [string, string][] = [
      ['devices', `${opts.devices} (own MQTT client + LMDB outbox each), ${opts.watchers} watch consumers in one shared group + 1 reads consumer`],
      ['produced', `${results.produced.reads} reads + ${results.produced.hits} hits in ${results.produced.seconds.toFixed(1)} s (${opts.readsPerSecond} read/s per device, ${opts.imageKb} KB images per hit)`],
      ['hits received', `${r.hits.unique}/${results.produced.hits}, lost ${r.hits.lost}, duplicated ${r.hits.duplicated} (repeats dropped by watch, whole broker: ${r.hits.droppedByWatchers}), split ${r.hits.perWatcher.join(' / ')}`],
      ['reads received', `${r.reads.unique}/${results.produced.reads}, lost ${r.reads.lost}, duplicated ${r.reads.duplicated}`],
      ['throughput', `${results.throughput.msgsPerS.toFixed(0)} msgs/s, ${results.throughput.mbPerS.toFixed(2)} MB/s (hits ${results.throughput.hitMbPerS.toFixed(2)} MB/s) over ${wallS.toFixed(1)} s`],
      ['latency hits (captured -> watch)', `p50 ${results.latencyMs.hits.p50} ms, p99 ${results.latencyMs.hits.p99} ms, max ${results.latencyMs.hits.max} ms`],
      ['latency reads', `p50 ${results.latencyMs.reads.p50} ms, p99 ${results.latencyMs.reads.p99} ms, max ${results.latencyMs.reads.max} ms`],
      ['CPU (whole bench process)', `${results.processCpuPctOneCore.toFixed(0)} % of one core`],
    ];
    const w = Math.max(...rows.map((x) => x[0].length));
    process.stdout.write(`alpr-edge bench fleet, ${results.date}, ${results.machine.cpu} x${results.machine.cores}, node ${results.machine.node}, load ${results.machine.loadAverage.join(' ')}, broker ${opts.broker}\n\n`);
    process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + `\n\njson: ${opts.json}\n`);
  } finally {
    await Promise.all(devices.map((d) => d.mqtt.stop().then(() => d.hotlist.stop()).then(() => d.state.root.close())));
    for (const w of watchers) await w.stop();
    await readsClient?.endAsync();
    // Retained offline states of throwaway device ids would outlive the run.
    const c = await mqtt.connectAsync(opts.broker, { clientId: `bench-clean-${run}` }).catch(() => undefined);
    if (c) {
      for (const d of devices) await c.publishAsync(`alpr/v1/${d.id}/state`, '', { retain: true, qos: 1 });
      await c.endAsync();
    }
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench fleet: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
