import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

// Issue 22: interactive `provision` at a REAL pseudo-terminal (test/support/pty-drive.py) must not
// show the camera's password (typed, or kept from the config already on the device) and must not
// take a relative state directory. The compiled CLI, as a technician runs it over SSH.

const MAIN = 'dist/src/bin.cjs';
const OLD_SECRET = 'old-cam-secret-4711';
const NEW_SECRET = 'new cam/secret:9&x';

describe('alpr-edge provision (interactive): camera password and state directory', () => {
  it('shows a kept camera URL without its password, asks a new one without echo, re-asks a relative state directory', () => {
    const work = mkdtempSync(join(tmpdir(), 'provision-secrets-'));
    onTestFinished(() => rmSync(work, { recursive: true, force: true }));
    const config = join(work, 'config.json');
    const state = join(work, 'state');
    writeFileSync(config, JSON.stringify({ deviceId: 'pole-old', location: { latitude: 10, longitude: 20, headingDeg: 30 }, cameras: [{ id: 'c1', uri: `rtsp://viewer:${OLD_SECRET}@192.0.2.10:554/stream1` }] }));
    const spec = join(work, 'spec.json');
    writeFileSync(spec, JSON.stringify({
      argv: ['node', MAIN, 'provision', '-c', config],
      cwd: process.cwd(),
      timeoutS: 90,
      steps: [
        { expect: 'Device id \\[pole-old\\]: ', send: 'pole-12' },
        // The URL on file, shown with *** for its password.
        { expect: 'Camera URL without its password .*\\[rtsp://viewer:\\*\\*\\*@192\\.0\\.2\\.10:554/stream1\\]: ', send: 'rtsp://viewer@192.0.2.11:554/stream1' },
        { expect: 'Password of camera user viewer \\(not shown; empty: none\\): ', send: NEW_SECRET },
        { expect: 'Latitude \\(WGS84 degrees\\) \\[10\\]: ', send: '' },
        { expect: 'Longitude \\(WGS84 degrees\\) \\[20\\]: ', send: '' },
        { expect: 'Heading .*\\[30\\]: ', send: '' },
        { expect: 'Where the pole stands .*: ', send: '' },
        { expect: 'Central broker .*: ', send: '' },
        { expect: 'Broker CA certificate .*: ', send: '' },
        { expect: 'State directory \\[/var/lib/alpr-edge\\]: ', send: 'state' },
        { expect: 'must be an absolute path such as /var/lib/alpr-edge \\("state" is relative\\)[\\s\\S]*State directory \\[/var/lib/alpr-edge\\]: ', send: state },
        { expect: 'First administrator username .*: ', send: '' },
        { expect: 'Write .*config\\.json and create the device key for pole-12\\? \\(yes/no\\) \\[yes\\]: ', send: '' },
      ],
    }));
    const r = spawnSync('/usr/bin/python3', ['test/support/pty-drive.py', spec], { encoding: 'utf8', timeout: 120_000 });
    const out = JSON.parse(r.stdout) as { exitCode: number; output: string; failedStep: number | null };
    expect(out.failedStep, out.output).toBeNull();
    expect(out.exitCode, out.output).toBe(0);
    // Neither password ever appeared on the terminal.
    expect(out.output).not.toContain(OLD_SECRET);
    expect(out.output).not.toContain(NEW_SECRET);
    expect(out.output).not.toContain(encodeURIComponent(NEW_SECRET));
    const c = loadConfig(config);
    expect(c.stateDir).toBe(state);
    const uri = new URL(c.cameras[0]!.uri);
    expect(uri.host).toBe('192.0.2.11:554');
    expect(decodeURIComponent(uri.password)).toBe(NEW_SECRET);
  });

  it('a relative --state-dir from a script is refused naming the flag, nothing written', () => {
    const work = mkdtempSync(join(tmpdir(), 'provision-relative-'));
    onTestFinished(() => rmSync(work, { recursive: true, force: true }));
    const config = join(work, 'c.json');
    const r = spawnSync('node', [MAIN, 'provision', '-y', '-c', config, '--device-id', 'pole-13', '--camera-url', 'test://', '--latitude', '1', '--longitude', '1', '--heading', '1', '--state-dir', 'var/state'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--state-dir must be an absolute path such as /var/lib/alpr-edge ("var/state" is relative)');
    expect(spawnSync('ls', ['-A', work], { encoding: 'utf8' }).stdout.trim()).toBe('');
  });
});
