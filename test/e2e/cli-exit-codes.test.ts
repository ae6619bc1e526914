import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Issue 21 item 5: every typed error leaves the CLI as one line naming what to fix and a sysexits
// code (src/errors.ts), mapped in one place (src/main.ts). The compiled CLI in a child process.
const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'exit-codes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const configFile = join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify({ deviceId: 'exit-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } }));
const ADA = 'ada password 123';

function cli(args: string[], stdin = '') {
  return spawnSync('node', [MAIN, ...args], { encoding: 'utf8', input: stdin, timeout: 60_000 });
}

/** One line on stderr, starting alpr-edge:, and no stack frame. */
function expectOneLine(stderr: string): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^alpr-edge: /);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('CLI exit codes', { timeout: 240_000 }, () => {
  it('64: an unknown option, a missing argument, a command without --as', () => {
    expect(cli(['--no-such-option']).status).toBe(64);
    expect(cli(['hotlist', 'sign']).status).toBe(64);
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31', '-c', configFile], `${ADA}\n`).status).toBe(0);
    const noAs = cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '-c', configFile], 'ivan password 123\n');
    expect(noAs.status).toBe(64);
    expectOneLine(noAs.stderr);
    expect(noAs.stderr).toContain('needs --as');
  });

  it('77: a wrong password, and a role that may not do it', () => {
    const wrong = cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada', '-c', configFile], 'not her password\nivan password 123\n');
    expect(wrong.status).toBe(77);
    expectOneLine(wrong.stderr);
    expect(wrong.stderr).toContain('invalid username or password');
    expect(cli(['user', 'add', 'tess', '--role', 'technician', '--as', 'ada', '-c', configFile], `${ADA}\ntess password 12\n`).status).toBe(0);
    const technician = cli(['user', 'add', 'eve', '--role', 'technician', '--as', 'tess', '-c', configFile], 'tess password 12\neve password 123\n');
    expect(technician.status).toBe(77);
    expectOneLine(technician.stderr);
  });

  it('65: input a command refuses (a list file that is not there)', () => {
    const r = cli(['hotlist', 'sign', join(dir, 'no-such.csv'), '--name', 'x', '--source', 'y', '--key', join(dir, 'no.pem'), '--key-id', 'k', '-o', join(dir, 'out.bin')]);
    expect(r.status).toBe(65);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain('no-such.csv: ENOENT');
  });

  it('78: a device key file others can read is refused in one line naming the file and the fix', () => {
    const keysDir = join(dir, 'state', 'keys');
    const dataKey = readdirSync(keysDir).find((f) => /^data-[0-9a-f]{8}\.key$/.test(f))!;
    chmodSync(join(keysDir, dataKey), 0o644);
    try {
      const r = cli(['user', 'list', '-c', configFile]);
      expect(r.status).toBe(78);
      expectOneLine(r.stderr);
      expect(r.stderr).toContain(`${join(keysDir, dataKey)} is readable by group or others`);
      expect(r.stderr).toContain('chmod 600');
    } finally {
      chmodSync(join(keysDir, dataKey), 0o600);
    }
  });

  it('78: a configuration that does not validate, naming the field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ deviceId: 'exit-pole', location: { latitude: 91, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state') }));
    const r = cli(['user', 'list', '-c', bad]);
    expect(r.status).toBe(78);
    expectOneLine(r.stderr);
    expect(r.stderr).toContain('location.latitude');
  });
});
