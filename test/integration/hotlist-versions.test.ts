import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { DeviceEventBus } from '../../src/device-events.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import type { DeviceEvent } from '../../src/hotlist/hit.js';
import { HotListRejectedError } from '../../src/hotlist/signed-list.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { entry, makePublisher, makeRead, memoryChangeLog, schemaValidators, tempDir, testConfig } from '../support/mqtt-harness.js';

// Issue 20 §3: `<stateDir>/hotlists/versions.json` holds the highest version of each list ever
// installed, so an older signed list is never accepted again (P10). The hot-list extension as the
// daemon starts it, on a real state directory, and the compiled CLI's `hotlist import` beside it.
const MAIN = 'dist/src/bin.cjs';
const ADA = 'ada password 123';

async function start() {
  const dir = tempDir('hl-versions-');
  const pub = makePublisher(dir);
  const raw = { hotlists: { publisherKeys: [{ id: pub.keyId, file: pub.pubFile }], checkIntervalS: 1 } };
  const config = testConfig('versions-pole', join(dir, 'state'), pub.pubFile, {}, raw.hotlists);
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ deviceId: 'versions-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: config.stateDir, log: { level: 'silent' }, ...raw }));
  // P11: `hotlist import` is an administrator's act; the first administrator is added from the shell.
  const admin = spawnSync('node', [MAIN, 'user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31', '--config', configFile], { encoding: 'utf8', input: `${ADA}\n`, timeout: 60_000 });
  expect(admin.status, admin.stderr).toBe(0);
  const ext = new HotListExtension({ changeLog: memoryChangeLog() });
  const events: DeviceEvent[] = [];
  const bus = new DeviceEventBus();
  bus.subscribe((e) => events.push(e));
  await ext.start({ config, logger: pino({ level: 'silent' }), metrics: createMetrics(), events: bus });
  onTestFinished(() => ext.stop());
  const versionsFile = join(config.stateDir, 'hotlists', 'versions.json');
  const refusal = (bytes: Buffer) => {
    try {
      ext.installSigned(bytes, 'test');
    } catch (err) {
      return err as HotListRejectedError;
    }
    throw new Error('installed');
  };
  return { ext, pub, events, versionsFile, configFile, dir, refusal, bus };
}

describe('hot-list versions file', { timeout: 120_000 }, () => {
  it('P10: a corrupt or unreadable versions file fails closed: installs refused (no replay), health degraded, an event; repaired, the stored list is the floor', async () => {
    const { ext, pub, events, versionsFile, configFile, dir, refusal, bus } = await start();
    const v5 = pub.sign('ncic', 5, [entry('5OLD555', 'CA')]);
    ext.installSigned(v5, 'test');
    ext.installSigned(pub.sign('ncic', 6, [entry('6NEW666', 'CA')]), 'test');
    expect(ext.health().status).toBe('ok');

    for (const [what, damage] of [
      ['corrupt', () => writeFileSync(versionsFile, '{"ncic": 6')],
      ['not versions', () => writeFileSync(versionsFile, '{"ncic": "six"}')],
      // Root reads any file whatever its mode: a directory in its place cannot be read by anyone.
      ['unreadable', () => (rmSync(versionsFile), mkdirSync(versionsFile))],
    ] as const) {
      damage();
      // The replay an empty "no versions" let in, and even a newer list: refused while the marks are unknown.
      for (const bytes of [v5, pub.sign('ncic', 7, [])]) {
        const err = refusal(bytes);
        expect(err, what).toBeInstanceOf(HotListRejectedError);
        expect(err.reason, what).toBe('unavailable');
        expect(err.message, what).toContain('versions.json');
      }
      expect(ext.summaries().find((l) => l.name === 'ncic')?.version, what).toBe(6);
      const health = ext.health();
      expect(health.status, what).toBe('degraded');
      expect(String(health['reason']), what).toMatch(/installs refused: .*versions\.json/);
      // The shell's `hotlist import` refuses the replay the same way (exit 65).
      const listFile = join(dir, 'ncic-5.hotlist');
      writeFileSync(listFile, v5);
      const cli = spawnSync('node', [MAIN, 'hotlist', 'import', listFile, '--as', 'ada', '--config', configFile], { encoding: 'utf8', input: `${ADA}\n`, timeout: 60_000 });
      expect(cli.status, `${what}: ${cli.stderr}`).toBe(65);
      expect(cli.stderr).toMatch(/hot list refused \(unavailable\): .*versions\.json/);
      rmSync(versionsFile, { recursive: true });
      writeFileSync(versionsFile, JSON.stringify({ ncic: 6 }));
      // The extension re-checks the file on its own schedule: wait for that, not a fixed time.
      await vi.waitFor(() => expect(ext.health().status, what).toBe('ok'), { timeout: 20_000, interval: 100 });
    }
    const raised = events.filter((e) => e.type === 'hotlist-versions');
    expect(raised.map((e) => e.severity)).toEqual(['critical', 'info', 'critical', 'info', 'critical', 'info']);
    expect(raised[0]!.detail).toMatchObject({ installs: 'refused', problem: expect.stringContaining('versions.json') });
    const schemas = schemaValidators();
    for (const e of raised) schemas.check('alpr/v1/versions-pole/events', { schema: 'alpr-edge/event/1', messageId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', deviceId: 'versions-pole', ...e });

    // With the marks gone altogether, the stored list's own (verified) version is the floor.
    rmSync(versionsFile);
    expect(refusal(v5).reason).toBe('replay');
    ext.installSigned(pub.sign('ncic', 7, [entry('7NEW777', 'CA')]), 'test');
    const hits: unknown[] = [];
    bus.listen('hit', (h) => hits.push(h));
    await ext.accept(makeRead('7NEW777', 'CA', 'versions-pole'));
    expect(hits).toHaveLength(1);
  });
});
