import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { SharingRegistry } from '../../src/access/sharing.js';
import { UserDirectory } from '../../src/access/users.js';
import type { AccessLogEntry } from '../../src/access/access-log.js';
import { buildHttpApp } from '../../src/http/app.js';
import { queryServices } from '../../src/app.js';
import { queryApi } from '../../src/http/api/query-api.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { HealthReport } from '../../src/health/health.js';
import { LiveView } from '../../src/device/live-view.js';
import { SelftestRunner } from '../../src/device/selftest-runner.js';
import type { Read } from '../../src/pipeline/read.js';
import { makeRead, openTestStore, silent, testConfig } from './store-fixtures.js';

// The local HTTP server as the daemon builds it (query API, console files, console routes), on a
// free loopback port with a temporary state directory, three users and reads made from our
// fixture scenes (real JPEGs). The live view is the daemon's LiveView, fed by hand.

export const PASSWORD = 'correct horse battery';
export const USERS = { technician: 'tina', investigator: 'ivan', administrator: 'ada' } as const;
const SCENES = join(import.meta.dirname, '../fixtures/scenes');

interface ScenePlate {
  box: [number, number, number, number];
  text: string;
}

function scenePlates(image: string): ScenePlate[] {
  const lines = readFileSync(join(SCENES, 'labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { image: string; plates: ScenePlate[] });
  return lines.find((l) => l.image === image)!.plates;
}

/** A read of a fixture scene's plate, with its real overview and a crop of the plate as the pipeline makes them. */
async function sceneRead(image: string, plate: ScenePlate, capturedAtMs: number, cameraId: string): Promise<Read> {
  const file = join(SCENES, image);
  const [x, y, w, h] = plate.box;
  const crop = { left: Math.max(0, x - Math.round(w * 0.2)), top: Math.max(0, y - Math.round(h * 0.8)), width: Math.round(w * 1.4), height: Math.round(h * 2.6) };
  const read = makeRead(plate.text, capturedAtMs, { cameraId });
  return {
    ...read,
    state: plate.text === 'TNU8404' ? 'TX' : plate.text === 'XHS8158' ? 'NY' : 'WA',
    box: plate.box,
    plateJpeg: await sharp(file).extract(crop).jpeg({ quality: 92 }).toBuffer(),
    overviewJpeg: await sharp(file).jpeg({ quality: 80 }).toBuffer(),
    candidates: [{ text: plate.text, confidence: 0.95 }, { text: `${plate.text.slice(0, -1)}${plate.text.endsWith('1') ? '7' : '1'}`, confidence: 0.03 }],
    vehicle: { colour: 'silver', colourConfidence: 0.62 },
  };
}

export function healthFixture(): HealthReport {
  return {
    status: 'ok', uptimeS: 5400, version: '0.1.0', models: { version: 'plate-det@3+plate-read@5', interim: false },
    cameras: [{ id: 'north', state: 'online', lastFrameAgeMs: 40, lastInferenceAgeMs: 60, framesIn: 81_000, framesDropped: 1_240, framesAnalysed: 79_760, analysedFps: 14.8, lastReadAgeMs: 95_000, decodeErrors: 0, reconnects: 1, decoder: 'avdec_h264', healthy: true }],
    components: {
      store: { status: 'ok', queued: 0, written: 1_532, dropped: 0, writeErrors: 0, corruptSkipped: 0 },
      hotlist: { status: 'ok', lists: [{ name: 'ca-doj-svs', version: 412, entries: 183_204, ageHours: 6.5, stale: false }, { name: 'local', version: 9, entries: 12, ageHours: 30, stale: false }], stale: [], hits: 3, publisherKeys: ['ca-doj'] },
      mqtt: { status: 'ok', enabled: true, connected: true, outboxMessages: 0, outboxHits: 0, droppedMessages: 0 },
    },
  };
}

/**
 * Stands in for `alpr-edge selftest --json` in a child process, as the daemon runs it: answers a
 * report with advice, and fails unless asked to leave out the camera and the pins the daemon holds.
 */
export const FAKE_SELFTEST = [process.execPath, '-e', `
  const a = process.argv.slice(1);
  const skipped = a.includes('--skip') && a.includes('camera') && a.includes('gpio');
  process.stdout.write(JSON.stringify({ ok: skipped, checks: [
    { check: 'config', status: 'pass', detail: 'fixture config: device test-0001', next: '' },
    { check: 'clock', status: skipped ? 'warn' : 'fail', detail: skipped ? 'not synchronised' : 'camera and gpio not skipped', next: 'enable NTP (timedatectl set-ntp true)' },
  ] }));
`] as const;

export async function startConsoleApp(opts: { idleMinutes?: number } = {}) {
  const config = testConfig({ retentionDays: 30 }, { access: { loginRateLimitPerMinute: 1000 }, http: { console: { idleMinutes: opts.idleMinutes ?? 15, liveMaxFps: 10 } } });
  const { db, store, keys } = openTestStore(config);
  const users = new UserDirectory(db, config.access);
  const live = new LiveView({ detectorMaxSide: config.models.detectorMaxSide, maxFps: config.http.console.liveMaxFps });
  const app = buildHttpApp({
    logger: silent,
    metrics: createMetrics(),
    health: healthFixture,
    console: { config: config.http.console, live, clock: async () => ({ synced: true, source: 'test', detail: 'fixture clock' }), selftest: new SelftestRunner({ configFile: 'fixture.json', command: FAKE_SELFTEST }) },
  });
  const sharing = new SharingRegistry(db, config.sharing);
  await app.register(queryApi, { ...queryServices(store), users, sharing, access: config.access, hotlist: { stateDir: config.stateDir, localEntryMaxDays: config.hotlists.localEntryMaxDays }, exports: { dir: join(config.stateDir, 'exports'), deviceId: config.deviceId } });
  for (const [role, username] of Object.entries(USERS)) {
    await users.add({ username, role: role as keyof typeof USERS, trainingValidUntil: '2099-12-31', password: PASSWORD }, 'cli:root');
  }
  const now = Date.now();
  const reads = [
    await sceneRead('one-car.jpg', scenePlates('one-car.jpg')[0]!, now - 3_600_000, 'north'),
    ...(await Promise.all(scenePlates('two-cars.jpg').map((p, i) => sceneRead('two-cars.jpg', p, now - 600_000 + i * 1000, 'north')))),
  ];
  await store.putMany(reads);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    app, db, store, keys, users, sharing, live, reads, baseUrl, config,
    accessLog: () => [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry),
    async close() {
      await app.close();
      await db.root.close();
    },
  };
}

export type ConsoleApp = Awaited<ReturnType<typeof startConsoleApp>>;

/** A bearer token for each of the three users, and the headers that send one. */
export async function signInAll(c: ConsoleApp): Promise<(who: string) => { authorization: string }> {
  const token: Record<string, string> = {};
  for (const u of Object.values(USERS)) {
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: u, password: PASSWORD } });
    token[u] = res.json().token as string;
  }
  return (who: string) => ({ authorization: `Bearer ${token[who]}` });
}
