import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Issue 24: a disable could not be undone. `alpr-edge user enable` (as the console's Enable) by an
// administrator: the compiled CLI in a child process, passwords on stdin, a real LMDB state directory.

const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'user-enable-'));
const configFile = join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify({ deviceId: 'enable-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } }));
const ADA = 'ada password 123';
const IVAN = 'ivan password 123';

function cli(args: string[], stdin = '') {
  return spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
}

describe('alpr-edge user enable', { timeout: 240_000 }, () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an administrator enables a disabled user, who can act again with their password; twice, unknown and by a non-administrator refused', () => {
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);
    expect(cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`).status).toBe(0);
    expect(cli(['user', 'disable', 'ivan', '--as', 'ada'], `${ADA}\n`).status).toBe(0);
    // Disabled: ivan cannot act (here: change his own password).
    expect(cli(['user', 'passwd', 'ivan', '--as', 'ivan'], `${IVAN}\n${IVAN}x\n`).status).not.toBe(0);

    const byIvan = cli(['user', 'enable', 'ivan', '--as', 'ivan'], `${IVAN}\n`);
    expect(byIvan.status).not.toBe(0);
    const enabled = cli(['user', 'enable', 'ivan', '--as', 'ada'], `${ADA}\n`);
    expect(enabled.status, enabled.stderr).toBe(0);
    expect(enabled.stdout).toContain('ivan: enabled');
    const list = JSON.parse(cli(['user', 'list']).stdout) as { username: string; disabled: boolean }[];
    expect(list.find((u) => u.username === 'ivan')).toMatchObject({ disabled: false });
    expect(cli(['user', 'passwd', 'ivan', '--as', 'ivan'], `${IVAN}\n${IVAN} new\n`).status).toBe(0);

    const twice = cli(['user', 'enable', 'ivan', '--as', 'ada'], `${ADA}\n`);
    expect(twice.status).toBe(64);
    expect(twice.stderr).toContain('user "ivan" is not disabled');
    const unknown = cli(['user', 'enable', 'nobody', '--as', 'ada'], `${ADA}\n`);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain('no user "nobody"');
  });
});
