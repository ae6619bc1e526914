import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccessLogEntry } from '../../src/access/access-log.js';
import { validateConfig } from '../../src/config/load.js';
import { openTestStore } from '../support/store-fixtures.js';

// Issue 22: a training date and a lockout could be changed only through the API or the console.
// `alpr-edge user training` and `user unlock` by an administrator, logged as the API's routes are:
// the compiled CLI in a child process, passwords on stdin, a real LMDB state directory.

const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'user-training-unlock-'));
const configFile = join(dir, 'config.json');
const raw = { deviceId: 'unlock-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' }, access: { maxFailedLogins: 2 } };
writeFileSync(configFile, JSON.stringify(raw));
const ADA = 'ada password 123';
const IVAN = 'ivan password 123';

function cli(args: string[], stdin = '') {
  return spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
}
const shareAsIvan = () => cli(['share', 'request', '--agency', 'Fresno PD', '--agency-state', 'CA', '--requester', 'Det. Q', '--purpose', 'kidnapping 24-3', '--as', 'ivan'], `${IVAN}\n`);

async function accessLog(): Promise<AccessLogEntry[]> {
  const { db } = openTestStore(validateConfig(raw));
  const entries = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry);
  await db.root.close();
  return entries;
}

describe('alpr-edge user training and user unlock', { timeout: 240_000 }, () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('P8: an administrator changes a training date; a lapsed date refuses reads-side work until renewed; logged as user.training', async () => {
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);
    expect(cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`).status).toBe(0);

    const lapsed = cli(['user', 'training', 'ivan', '--until', '2020-01-01', '--as', 'ada'], `${ADA}\n`);
    expect(lapsed.status, lapsed.stderr).toBe(0);
    expect(lapsed.stdout).toContain('ivan: training valid until 2020-01-01');
    const refused = shareAsIvan();
    expect(refused.status).toBe(77);
    expect(refused.stderr).toContain('training expired on 2020-01-01');
    expect(cli(['user', 'training', 'ivan', '--until', '2099-06-30', '--as', 'ada'], `${ADA}\n`).status).toBe(0);
    const renewed = shareAsIvan();
    expect(renewed.status, renewed.stderr).toBe(0);

    const badDate = cli(['user', 'training', 'ivan', '--until', '30/06/2099', '--as', 'ada'], `${ADA}\n`);
    expect(badDate.status).toBe(64);
    expect(badDate.stderr).toContain('must be a date YYYY-MM-DD');
    const byIvan = cli(['user', 'training', 'ivan', '--until', '2100-01-01', '--as', 'ivan'], `${IVAN}\n`);
    expect(byIvan.status).toBe(77);
    expect(byIvan.stderr).toContain('needs role administrator');

    const changes = (await accessLog()).filter((e) => e.action === 'user.training');
    expect(changes.map((e) => [e.user, e.parameters['username'], e.parameters['from'], e.parameters['trainingValidUntil']])).toEqual([
      ['ada', 'ivan', '2099-12-31', '2020-01-01'],
      ['ada', 'ivan', '2020-01-01', '2099-06-30'],
    ]);
  });

  it('P6: an administrator lifts the lockout of an enabled user, who signs in again at once; logged as user.unlock; one not locked out is refused', async () => {
    for (let i = 0; i < 2; i++) expect(cli(['user', 'passwd', 'ivan', '--as', 'ivan'], 'not his password\n').status).toBe(77);
    // Locked: the right password is refused like a wrong one.
    expect(shareAsIvan().status).toBe(77);
    const listed = JSON.parse(cli(['user', 'list']).stdout) as { username: string; lockedUntilMs?: number }[];
    expect(listed.find((u) => u.username === 'ivan')?.lockedUntilMs).toBeGreaterThan(Date.now());

    const byIvan = cli(['user', 'unlock', 'ivan', '--as', 'ivan'], `${IVAN}\n`);
    expect(byIvan.status).toBe(77);
    const unlocked = cli(['user', 'unlock', 'ivan', '--as', 'ada'], `${ADA}\n`);
    expect(unlocked.status, unlocked.stderr).toBe(0);
    expect(unlocked.stdout).toContain('ivan: unlocked');
    expect(shareAsIvan().status).toBe(0);

    const twice = cli(['user', 'unlock', 'ivan', '--as', 'ada'], `${ADA}\n`);
    expect(twice.status).toBe(64);
    expect(twice.stderr).toContain('user "ivan" is not locked out');
    const unknown = cli(['user', 'unlock', 'nobody', '--as', 'ada'], `${ADA}\n`);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain('no user "nobody"');
    expect(cli(['user', 'disable', 'ivan', '--as', 'ada'], `${ADA}\n`).status).toBe(0);
    const disabled = cli(['user', 'unlock', 'ivan', '--as', 'ada'], `${ADA}\n`);
    expect(disabled.status).toBe(64);
    expect(disabled.stderr).toContain('is disabled, not locked out');

    const unlocks = (await accessLog()).filter((e) => e.action === 'user.unlock');
    expect(unlocks).toHaveLength(1);
    expect(unlocks[0]).toMatchObject({ user: 'ada', result: 'ok', parameters: { username: 'ivan' } });
  });
});
