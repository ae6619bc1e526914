import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessLogEntry } from '../../src/access/access-log.js';
import { validateConfig } from '../../src/config/load.js';
import { openStoreForTest } from '../support/store-fixtures.js';
import { entry, makePublisher, schemaValidators, startHitExtensions, subscribe, tempDir, waitFor } from '../support/mqtt-harness.js';

// docs/hotlists.md: every hot-list change, from the daemon or the shell, is published on the MQTT
// `audit` topic. The shell side is the compiled CLI in a child process; the daemon side its hot-list
// and MQTT extensions, started as the daemon starts them, on the same state directory, publishing
// to the Mosquitto on 127.0.0.1:1883.
const URL = 'mqtt://127.0.0.1:1883';
const MAIN = 'dist/src/bin.cjs';
const ADA = 'ada password 123';
const IVAN = 'ivan password 123';

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
    const cli = (args: string[], stdin = '') => {
      const r = spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
    };

    // The daemon is down: the change waits for it.
    cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`);
    cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`);
    cli(['hotlist', 'add', '--plate', 'TEST01?', '--state', 'CA', '--entered-by', 'ivan', '--case', '25-0001', '--synopsis', 'test entry', '--approver', 'ada'], `${IVAN}\n${ADA}\n`);

    const central = await subscribe(URL, `alpr/v1/${deviceId}/audit`, { protocolVersion: 5 });
    onTestFinished(() => central.client.endAsync());
    const daemon = await startHitExtensions(validateConfig(raw));
    onTestFinished(() => daemon.stop());
    const changes = () => central.messages.map((m) => [m.payload['action'], m.payload['actor']]);
    await waitFor(() => changes().length >= 1, 15_000, 'the change made while the daemon was down');

    cli(['hotlist', 'remove', '--plate', 'TEST01?', '--as', 'ada'], `${ADA}\n`);
    await waitFor(() => changes().length >= 2, 15_000, 'the removal');
    const listFile = join(dir, 'ncic.hotlist');
    writeFileSync(listFile, pub.sign('ncic', 5, [entry('TEST002', 'CA')]));
    cli(['hotlist', 'import', listFile, '--as', 'ada'], `${ADA}\n`);
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
    const run = (args: string[], stdin = '') => spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
    const cli = (args: string[], stdin = '') => {
      const r = run(args, stdin);
      expect(r.status, r.stderr).toBe(0);
      return r;
    };
    cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`);
    cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`);
    const v5 = join(dir, 'ncic-5.hotlist');
    writeFileSync(v5, pub.sign('ncic', 5, [entry('TEST003', 'CA')]));
    cli(['hotlist', 'import', v5, '--as', 'ada'], `${ADA}\n`);

    const central = await subscribe(URL, `alpr/v1/${deviceId}/audit`, { protocolVersion: 5 });
    onTestFinished(() => central.client.endAsync());
    const daemon = await startHitExtensions(validateConfig(raw));
    onTestFinished(() => daemon.stop());
    const loaded = () => daemon.hotlist.summaries().map((l) => l.name);
    expect(loaded()).toEqual(['ncic']);
    const changes = () => central.messages.map((m) => [m.payload['action'], m.payload['actor'], m.payload['list']]);
    await waitFor(() => changes().length >= 1, 15_000, 'the import');

    const byIvan = run(['hotlist', 'retire', 'ncic', '--as', 'ivan'], `${IVAN}\n`);
    expect(byIvan.status).toBe(77);
    const unknown = run(['hotlist', 'retire', 'svs', '--as', 'ada'], `${ADA}\n`);
    expect(unknown.status).toBe(65);
    expect(unknown.stderr).toContain('no signed hot list "svs" is installed');
    const retired = cli(['hotlist', 'retire', 'ncic', '--as', 'ada'], `${ADA}\n`);
    expect(retired.stdout).toContain('retired ncic v5');
    await waitFor(() => loaded().length === 0, 15_000, 'the daemon to drop the retired list');
    await waitFor(() => changes().length >= 2, 15_000, 'the retirement on audit');
    expect(changes()).toEqual([['list-installed', 'ada', 'ncic'], ['list-retired', 'ada', 'ncic']]);
    const schemas = schemaValidators();
    for (const m of central.messages) schemas.check(m.topic, m.payload);
    expect(central.messages[1]!.payload).toMatchObject({ deviceId, version: 5, detail: { via: 'cli' } });
    expect(JSON.parse(cli(['hotlist', 'status']).stdout).lists).toEqual([]);
    const { db } = openStoreForTest(validateConfig(raw));
    const logged = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry);
    await db.root.close();
    expect(logged.filter((e) => e.action === 'hotlist.change').map((e) => [e.user, e.parameters['change'], e.parameters['list'], e.result])).toEqual([
      ['ada', 'list-installed', 'ncic', 'ok'],
      ['ada', 'list-retired', 'ncic', 'ok'],
    ]);
    expect(logged.filter((e) => e.action === 'cli.denied').map((e) => [e.user, e.parameters['what']])).toEqual([['ivan', 'retiring a hot list']]);

    // The retired version (or an older one) is a replay; a newer one is taken and loaded again.
    const replay = run(['hotlist', 'import', v5, '--as', 'ada'], `${ADA}\n`);
    expect(replay.status).toBe(65);
    expect(replay.stderr).toContain('not newer than the installed version 5');
    const v6 = join(dir, 'ncic-6.hotlist');
    writeFileSync(v6, pub.sign('ncic', 6, [entry('TEST003', 'CA')]));
    cli(['hotlist', 'import', v6, '--as', 'ada'], `${ADA}\n`);
    await waitFor(() => loaded().includes('ncic'), 15_000, 'the newer version loaded');
  });
});
