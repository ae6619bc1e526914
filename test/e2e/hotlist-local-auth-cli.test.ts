import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { openParameters, type AccessLogEntry } from '../../src/access/access-log.js';
import { validateConfig } from '../../src/config/load.js';
import { LocalEntryStore } from '../../src/hotlist/local-entries.js';
import { openDeviceKeys } from '../../src/state/device-keys.js';
import { entry, makePublisher } from '../support/mqtt-harness.js';
import { openTestStore } from '../support/store-fixtures.js';

// Issue 20 §3: who may change the device's local hot-list entries. The compiled CLI as over SSH,
// passwords on stdin, a real LMDB state directory.
const MAIN = 'dist/src/bin.cjs';
const ADA = 'ada password 123';
const IVAN = 'ivan password 123';
const TOM = 'tom password 123';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hotlist-auth-'));
  const publisher = makePublisher(dir);
  const raw = { deviceId: 'auth-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' }, hotlists: { publisherKeys: [{ id: publisher.keyId, file: publisher.pubFile }] } };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(raw));
  const cli = (args: string[], stdin = '') => spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
  expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);
  expect(cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`).status).toBe(0);
  expect(cli(['user', 'add', 'tom', '--role', 'technician', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${TOM}\n`).status).toBe(0);
  // P16: local.json is sealed with the device keys; the test opens it as the daemon does.
  const entries = () => [...new LocalEntryStore(raw.stateDir, openDeviceKeys(raw.stateDir)).load().entries];
  const localFile = () => readFileSync(join(raw.stateDir, 'hotlists', 'local.json'), 'utf8');
  const accessLog = async () => {
    const { db, keys } = openTestStore(validateConfig(raw));
    try {
      return [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).map((e) => ({ ...e, opened: openParameters(e, keys) ?? e.parameters }));
    } finally {
      await db.root.close();
    }
  };
  return { cli, entries, localFile, accessLog, dir, publisher };
}

const ENTRY = ['hotlist', 'add', '--plate', '5AUT123', '--state', 'CA', '--case', '25-0301', '--synopsis', 'stolen trailer', '--approver', 'ada'];

describe('who may change local hot-list entries', { timeout: 300_000 }, () => {
  it('P11/P6: removing a local entry needs an authenticated administrator, and the log names that person', async () => {
    const { cli, entries, accessLog } = setup();
    expect(cli([...ENTRY, '--entered-by', 'ivan'], `${IVAN}\n${ADA}\n`).status).toBe(0);
    expect(entries()).toHaveLength(1);

    // A free-text actor is no longer a way in.
    const freeText = cli(['hotlist', 'remove', '--plate', '5AUT123', '--actor', 'Sgt. Admin']);
    expect(freeText.status).toBe(64);
    const notAdmin = cli(['hotlist', 'remove', '--plate', '5AUT123', '--as', 'ivan'], `${IVAN}\n`);
    expect(notAdmin.status).toBe(77);
    expect(notAdmin.stderr).toContain('needs an administrator; ivan is investigator');
    const wrongPassword = cli(['hotlist', 'remove', '--plate', '5AUT123', '--as', 'ada'], 'not her password\n');
    expect(wrongPassword.status).toBe(77);
    expect(wrongPassword.stderr).toContain('invalid username or password');
    expect(entries()).toHaveLength(1);

    const removed = cli(['hotlist', 'remove', '--plate', '5AUT123', '--as', 'ada'], `${ADA}\n`);
    expect(removed.status, removed.stderr).toBe(0);
    expect(entries()).toHaveLength(0);

    const log = await accessLog();
    const denied = log.find((e) => e.action === 'cli.denied')!;
    expect(denied).toMatchObject({ user: 'ivan', result: 'denied', opened: { what: 'removing a local hot-list entry', plate: '5AUT123' } });
    expect(log.filter((e) => e.action === 'login' && e.user === 'ada').map((e) => e.result)).toEqual(expect.arrayContaining(['failed', 'ok']));
    const change = log.filter((e) => e.action === 'hotlist.change' && e.parameters['change'] === 'local-removed');
    expect(change).toMatchObject([{ user: 'ada', result: 'ok', opened: { plate: '5AUT123', removed: 1 } }]);
  });

  it('P11/P6: --entered-by on hotlist add must be a user who signs in, an investigator or administrator; the entry and the log name them', async () => {
    const { cli, entries, localFile, accessLog } = setup();
    // Someone who cannot sign in (unknown, or a wrong password) is refused as not permitted: 77.
    const stranger = cli([...ENTRY, '--entered-by', 'Det. Nobody'], `whatever\n${ADA}\n`);
    expect(stranger.status).toBe(77);
    expect(stranger.stderr).toContain('enteredBy');
    const wrongPassword = cli([...ENTRY, '--entered-by', 'ivan'], `not his password\n${ADA}\n`);
    expect(wrongPassword.status).toBe(77);
    expect(wrongPassword.stderr).toContain('password of the member entering the entry is wrong');
    const technician = cli([...ENTRY, '--entered-by', 'tom'], `${TOM}\n${ADA}\n`);
    expect(technician.status).toBe(65);
    expect(technician.stderr).toContain('has role technician');
    const noMember = cli(ENTRY, `${ADA}\n`);
    expect(noMember.status).toBe(65);
    expect(entries()).toEqual([]);

    const ok = cli([...ENTRY, '--entered-by', 'ivan'], `${IVAN}\n${ADA}\n`);
    expect(ok.status, ok.stderr).toBe(0);
    // An administrator entering and approving their own entry signs in once.
    const own = cli([...ENTRY, '--plate', '5AUT124', '--entered-by', 'ada'], `${ADA}\n`);
    expect(own.status, own.stderr).toBe(0);
    expect(entries().map((e) => [e.plate, e.local?.enteredBy, e.local?.approvedBy])).toEqual([['5AUT123', 'ivan', 'ada'], ['5AUT124', 'ada', 'ada']]);
    expect(localFile()).not.toContain('5AUT12');

    const log = await accessLog();
    const changes = log.filter((e) => e.action === 'hotlist.change');
    const shell = `cli:${userInfo().username}`;
    expect(changes.map((e) => [e.user, e.parameters['change'], e.opened['enteredBy'] ?? null])).toEqual([
      [shell, 'local-refused', 'Det. Nobody'],
      [shell, 'local-refused', 'ivan'],
      ['tom', 'local-refused', 'tom'],
      [shell, 'local-refused', null],
      ['ivan', 'local-added', null],
      ['ada', 'local-added', null],
    ]);
    expect(log.filter((e) => e.action === 'login').map((e) => [e.user, e.result])).toEqual(expect.arrayContaining([['ivan', 'failed'], ['ivan', 'ok'], ['tom', 'ok']]));
  });

  it('P11/P6: importing a hot list needs an authenticated administrator, and the log names that person', async () => {
    const { cli, accessLog, dir, publisher } = setup();
    const listFile = join(dir, 'ncic.hotlist');
    writeFileSync(listFile, publisher.sign('ncic', 5, [entry('5IMP001', 'CA')]));
    const installed = () => {
      const status = cli(['hotlist', 'status']);
      expect(status.status, status.stderr).toBe(0);
      return (JSON.parse(status.stdout) as { lists: { name: string; version: number }[] }).lists.filter((l) => l.name !== 'local').map((l) => [l.name, l.version]);
    };

    // A free-text actor is no longer a way in; an investigator, or a wrong password, is refused (77).
    const freeText = cli(['hotlist', 'import', listFile, '--actor', 'Sgt. Admin']);
    expect(freeText.status).not.toBe(0);
    const noOne = cli(['hotlist', 'import', listFile]);
    expect(noOne.status).not.toBe(0);
    expect(noOne.stderr).toContain('--as');
    const notAdmin = cli(['hotlist', 'import', listFile, '--as', 'ivan'], `${IVAN}\n`);
    expect(notAdmin.status).toBe(77);
    expect(notAdmin.stderr).toContain('importing a hot list needs an administrator; ivan is investigator');
    const wrongPassword = cli(['hotlist', 'import', listFile, '--as', 'ada'], 'not her password\n');
    expect(wrongPassword.status).toBe(77);
    expect(wrongPassword.stderr).toContain('invalid username or password');
    expect(installed()).toEqual([]);

    const ok = cli(['hotlist', 'import', listFile, '--as', 'ada'], `${ADA}\n`);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('installed ncic v5');
    expect(installed()).toEqual([['ncic', 5]]);
    // A list the device refuses (here a replay) is on the record as the signed-in administrator's.
    const replay = cli(['hotlist', 'import', listFile, '--as', 'ada'], `${ADA}\n`);
    expect(replay.status).toBe(65);

    const log = await accessLog();
    expect(log.filter((e) => e.action === 'cli.denied').map((e) => [e.user, e.opened['what']])).toEqual([['ivan', 'importing a hot list']]);
    expect(log.filter((e) => e.action === 'login' && e.user === 'ada').map((e) => e.result)).toEqual(expect.arrayContaining(['failed', 'ok']));
    const changes = log.filter((e) => e.action === 'hotlist.change');
    expect(changes.map((e) => [e.user, e.parameters['change'], e.parameters['list'], e.result])).toEqual([
      ['ada', 'list-installed', 'ncic', 'ok'],
      ['ada', 'list-refused', '(unknown)', 'refused'],
    ]);
    expect(changes[1]!.parameters).toMatchObject({ reason: 'replay', via: 'cli' });
  });
});
