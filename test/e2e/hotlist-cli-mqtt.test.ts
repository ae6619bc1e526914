import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessLogEntry } from '../../src/access/access-log.js';
import { validateConfig } from '../../src/config/load.js';
import { entry, makePublisher, schemaValidators, startHitExtensions, subscribe, tempDir, waitFor } from '../support/mqtt-harness.js';

// docs/hotlists.md: every hot-list change, from the daemon or the shell, is published on the MQTT
// `audit` topic. The shell side is the compiled CLI in a child process; the daemon side its hot-list
// and MQTT extensions, started as the daemon starts them, on the same state directory, publishing
// to the Mosquitto on 127.0.0.1:1883.
const URL = 'mqtt://127.0.0.1:1883';
const MAIN = 'dist/src/bin.cjs';
const ADA = 'ada password 123';
const IVAN = 'ivan password 123';

/**
 * The compiled CLI in a child process, awaited without blocking this process's event loop: the
 * daemon side here holds the state environment (its outbox), and an LMDB write it has begun
 * finishes on this loop; a spawnSync would stop the loop while the child waits on that write lock.
 */
function runCli(configFile: string, args: string[], stdin: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [MAIN, ...args, '--config', configFile], { timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('hot-list changes made from the shell, on MQTT', { timeout: 240_000 }, () => {
  it('publishes hotlist add, remove and import on audit once each, also a change made while the daemon was down', async () => {
    const deviceId = `shell-${randomUUID().slice(0, 8)}`;
    const dir = tempDir('hotlist-shell-');
    const pub = makePublisher(dir);
    const raw = {
      deviceId,
      location: { latitude: 37.77, longitude: -122.42, headingDeg: 90 },
      cameras: [{ id: 'cam1', uri: 'test://' }],
      http: { port: 0 },
      log: { level: 'silent' },
      stateDir: join(dir, 'state'),
      hotlists: { publisherKeys: [{ id: pub.keyId, file: pub.pubFile }], checkIntervalS: 1 },
      mqtt: { url: URL, allowPlainText: true, protocolVersion: 5 },
    };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw));
    const cli = async (args: string[], stdin = '') => {
      const r = await runCli(configFile, args, stdin);
      expect(r.status, r.stderr).toBe(0);
    };

    // The daemon is down: the change waits for it.
    await cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`);
    await cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`);
    await cli(['hotlist', 'add', '--plate', 'TEST01?', '--state', 'CA', '--entered-by', 'ivan', '--case', '25-0001', '--synopsis', 'test entry', '--approver', 'ada'], `${IVAN}\n${ADA}\n`);

    const central = await subscribe(URL, `alpr/v1/${deviceId}/audit`, { protocolVersion: 5 });
    onTestFinished(() => central.client.endAsync());
    const daemon = await startHitExtensions(validateConfig(raw));
    onTestFinished(() => daemon.stop());
    const changes = () => central.messages.map((m) => [m.payload['action'], m.payload['actor']]);
    await waitFor(() => changes().length >= 1, 15_000, 'the change made while the daemon was down');

    await cli(['hotlist', 'remove', '--plate', 'TEST01?', '--as', 'ada'], `${ADA}\n`);
    await waitFor(() => changes().length >= 2, 15_000, 'the removal');
    const listFile = join(dir, 'ncic.hotlist');
    writeFileSync(listFile, pub.sign('ncic', 5, [entry('TEST002', 'CA')]));
    await cli(['hotlist', 'import', listFile, '--as', 'ada'], `${ADA}\n`);
    await waitFor(() => changes().length >= 3, 15_000, 'the import');

    // Several hot-list checks ran between the changes: none was published twice.
    expect(changes()).toEqual([
      ['local-added', 'ivan'],
      ['local-removed', 'ada'],
      ['list-installed', 'ada'],
    ]);
    const schemas = schemaValidators();
    for (const m of central.messages) schemas.check(m.topic, m.payload);
    expect(central.messages[2]!.payload).toMatchObject({ deviceId, list: 'ncic', version: 5, detail: { via: 'cli', entries: 1 } });
  });

  it('hotlist retire: the running daemon stops matching the list, the change is logged and published on audit; only a newer version comes back', async () => {
    const deviceId = `retire-${randomUUID().slice(0, 8)}`;
    const dir = tempDir('hotlist-retire-');
    const pub = makePublisher(dir);
    const raw = {
      deviceId,
      location: { latitude: 37.77, longitude: -122.42, headingDeg: 90 },
      cameras: [{ id: 'cam1', uri: 'test://' }],
      http: { port: 0 },
      log: { level: 'silent' },
      stateDir: join(dir, 'state'),
      hotlists: { publisherKeys: [{ id: pub.keyId, file: pub.pubFile }], checkIntervalS: 1 },
      mqtt: { url: URL, allowPlainText: true, protocolVersion: 5 },
    };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw));
    const run = (args: string[], stdin = '') => runCli(configFile, args, stdin);
    const cli = async (args: string[], stdin = '') => {
      const r = await run(args, stdin);
      expect(r.status, r.stderr).toBe(0);
      return r;
    };
    await cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`);
    await cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`);
    const v5 = join(dir, 'ncic-5.hotlist');
    writeFileSync(v5, pub.sign('ncic', 5, [entry('TEST003', 'CA')]));
    await cli(['hotlist', 'import', v5, '--as', 'ada'], `${ADA}\n`);

    const central = await subscribe(URL, `alpr/v1/${deviceId}/audit`, { protocolVersion: 5 });
    onTestFinished(() => central.client.endAsync());
    const daemon = await startHitExtensions(validateConfig(raw));
    onTestFinished(() => daemon.stop());
    const loaded = () => daemon.hotlist.summaries().map((l) => l.name);
    expect(loaded()).toEqual(['ncic']);
    const changes = () => central.messages.map((m) => [m.payload['action'], m.payload['actor'], m.payload['list']]);
    await waitFor(() => changes().length >= 1, 15_000, 'the import');

    const byIvan = await run(['hotlist', 'retire', 'ncic', '--as', 'ivan'], `${IVAN}\n`);
    expect(byIvan.status).toBe(77);
    const unknown = await run(['hotlist', 'retire', 'svs', '--as', 'ada'], `${ADA}\n`);
    expect(unknown.status).toBe(65);
    expect(unknown.stderr).toContain('no signed hot list "svs" is installed');
    const retired = await cli(['hotlist', 'retire', 'ncic', '--as', 'ada'], `${ADA}\n`);
    expect(retired.stdout).toContain('retired ncic v5');
    await waitFor(() => loaded().length === 0, 15_000, 'the daemon to drop the retired list');
    await waitFor(() => changes().length >= 2, 15_000, 'the retirement on audit');
    expect(changes()).toEqual([['list-installed', 'ada', 'ncic'], ['list-retired', 'ada', 'ncic']]);
    const schemas = schemaValidators();
    for (const m of central.messages) schemas.check(m.topic, m.payload);
    expect(central.messages[1]!.payload).toMatchObject({ deviceId, version: 5, detail: { via: 'cli' } });
    expect(JSON.parse((await cli(['hotlist', 'status'])).stdout).lists).toEqual([]);
    // Through the daemon side's own handle: one process opens an LMDB environment once.
    const logged = [...daemon.stateDatabase.accessLog.getRange()].map((e) => e.value as AccessLogEntry);
    expect(logged.filter((e) => e.action === 'hotlist.change').map((e) => [e.user, e.parameters['change'], e.parameters['list'], e.result])).toEqual([
      ['ada', 'list-installed', 'ncic', 'ok'],
      ['ada', 'list-retired', 'ncic', 'ok'],
    ]);
    expect(logged.filter((e) => e.action === 'cli.denied').map((e) => [e.user, e.parameters['what']])).toEqual([['ivan', 'retiring a hot list']]);

    // The retired version (or an older one) is a replay; a newer one is taken and loaded again.
    const replay = await run(['hotlist', 'import', v5, '--as', 'ada'], `${ADA}\n`);
    expect(replay.status).toBe(65);
    expect(replay.stderr).toContain('not newer than the installed version 5');
    const v6 = join(dir, 'ncic-6.hotlist');
    writeFileSync(v6, pub.sign('ncic', 6, [entry('TEST003', 'CA')]));
    await cli(['hotlist', 'import', v6, '--as', 'ada'], `${ADA}\n`);
    await waitFor(() => loaded().includes('ncic'), 15_000, 'the newer version loaded');
  });
});
