import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/mosquitto.js';
import { waitFor } from '../support/mqtt-harness.js';

// scripts/demo as a new user runs it (issue 22): one readable line per read and per hit, the ports
// and state directory it is told, and no signed hot-list file left in the temporary directory. The
// suite never uses the default state directory (/tmp/alpr-edge-demo), so a demo a person is running
// and the suite never share state.

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('scripts/demo', () => {
  it('refuses a port that is not a number, before it starts anything (exit 64)', () => {
    const r = spawnSync('scripts/demo', ['--http-port', 'eighty'], { encoding: 'utf8' });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('"eighty"');
  });

  it('prints one READ line per read and one HIT line per hit, on the ports and state directory given, and leaves no temp hot-list file', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'demo-script-'));
    const stateDir = join(mkdtempSync(join(tmpdir(), 'demo-script-state-')), 'state');
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const child = spawn('scripts/demo', ['--http-port', String(httpPort), '--state-dir', stateDir], { env: { ...process.env, TMPDIR: tmp, ALPR_DEMO_MQTT_PORT: String(mqttPort) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let exited = false;
    child.on('exit', () => (exited = true));
    onTestFinished(async () => {
      if (!exited) {
        child.kill('SIGTERM');
        await waitFor(() => exited, 15_000, 'the demo to stop');
      }
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const lines = () => out.split('\n').filter((l) => l.length > 0);
    await waitFor(() => exited || (lines().some((l) => l.startsWith('READ ')) && lines().some((l) => l.startsWith('HIT '))), 240_000, 'a READ and a HIT line');
    expect(exited, err.slice(-2000)).toBe(false);

    // Readable lines only on stdout: no JSON records, no base64.
    for (const l of lines()) {
      expect(l).toMatch(/^(READ|HIT) \d{4}-\d\d-\d\dT/);
      expect(l.length).toBeLessThan(400);
    }
    const read = lines().find((l) => l.startsWith('READ '))!;
    expect(read).toMatch(/^READ \S+ \| demo-cam \| [A-Z0-9]+( \([A-Z]{2}\))? \| conf [01]\.\d\d, agreement \d\.\d\d, \d+ frames/);
    expect(lines().find((l) => l.startsWith('HIT '))).toContain('VERIFY IMAGE + STATE, CONFIRM VIA CLETS');

    // The ports it was given: health on the HTTP port, and the embedded broker's port in its note.
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(health.status).toBe(200);
    expect(err).toContain(`127.0.0.1:${mqttPort}`);
    // Its state (config, device keys, the signed demo list, console users) in the directory given.
    const config = JSON.parse(readFileSync(join(stateDir, 'demo-config.json'), 'utf8')) as { stateDir: string; http: { port: number } };
    expect(config).toMatchObject({ stateDir, http: { port: httpPort } });
    expect(readdirSync(stateDir)).toEqual(expect.arrayContaining(['demo-config.json', 'keys', 'hotlists']));
    // The signed sample list was made in a temporary directory that is gone again.
    expect(filesUnder(tmp).filter((f) => f.endsWith('.hotlist'))).toEqual([]);

    child.kill('SIGTERM');
    await waitFor(() => exited, 15_000, 'the demo to stop');
  }, 300_000);
});
