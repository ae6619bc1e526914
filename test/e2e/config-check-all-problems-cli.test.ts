import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

// Issue 22: `config check` names every problem in one pass (schema, then what run checks at start),
// exit 78; a JSON mistake is placed by line and column. The compiled CLI in a child process.

const MAIN = 'dist/src/bin.cjs';
const base = { deviceId: 'check-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], log: { level: 'warn' } };

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-all-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function check(file: string) {
  return spawnSync('node', [MAIN, 'config', 'check', file], { encoding: 'utf8', timeout: 120_000 });
}

describe('config check lists every problem', { timeout: 240_000 }, () => {
  it('schema problems: all of them, one per line, exit 78', () => {
    const dir = tempDir();
    const file = join(dir, 'schema.json');
    writeFileSync(file, JSON.stringify({ ...base, stateDir: join(dir, 'state'), http: { port: 'eighty' }, store: { retentionDays: 0 }, mqtt: { urll: 'mqtts://x' } }));
    const r = check(file);
    expect(r.status).toBe(78);
    expect(r.stdout).not.toContain('valid');
    expect(r.stderr).toContain(`${file}: 3 problems:`);
    expect(r.stderr).toContain('  http.port must be integer');
    expect(r.stderr).toContain('  store.retentionDays must be >= 0.001');
    expect(r.stderr).toContain('  mqtt.urll is not a known setting');
  });

  it('what run checks at start: a plain broker, an unreadable publisher key and an immigration agency, all named, exit 78', () => {
    const dir = tempDir();
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({
      ...base, stateDir: join(dir, 'state'),
      mqtt: { url: 'mqtt://broker.example:1883' },
      hotlists: { publisherKeys: [{ id: 'agency', file: join(dir, 'no-such-key.pem') }] },
      sharing: { allowedAgencies: [{ name: 'U.S. Immigration and Customs Enforcement', state: 'DC' }] },
    }));
    const r = check(file);
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [3-9] problems:`));
    expect(r.stderr).toContain('  hotlists.publisherKeys.0.file: cannot read');
    expect(r.stderr).toContain('mqtt.allowPlainText is false');
    expect(r.stderr).toContain('sharing.allowedAgencies.0.name');
  });

  it('a JSON mistake: line and column, exit 78', () => {
    const dir = tempDir();
    const file = join(dir, 'syntax.json');
    writeFileSync(file, `{\n  "deviceId": "check-pole",\n  "cameras": [{ "id": "c1", "uri": "test://" },]\n}\n`);
    const r = check(file);
    expect(r.status).toBe(78);
    expect(r.stderr.trim()).toBe(`alpr-edge: ${file}: not valid JSON at line 3, column 48: expected a value, found ']' (a comma before ']' is not allowed in JSON)`);
  });
});
