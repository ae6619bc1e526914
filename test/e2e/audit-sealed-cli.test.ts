import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { validateConfig } from '../../src/config/load.js';
import { openStoreForTest } from '../support/store-fixtures.js';

// Issue 20 §1 (P9, P16): plate text searched for is sealed in the access log, and the audit commands
// an administrator runs over SSH still show it to them (the compiled CLI, a real LMDB state directory).
const MAIN = 'dist/src/bin.cjs';
const ADA = 'ada password 123';

describe('audit commands on a log with sealed plate text', { timeout: 240_000 }, () => {
  it('P9/P16: audit sample and audit verify --as show an administrator the plate searched for; nothing else prints it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-sealed-'));
    const raw = { deviceId: 'audit-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw));
    const cli = (args: string[], stdin = '') => spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);

    // A search as the query API logs it, with the device keys.
    const config = validateConfig(raw);
    let seq: number;
    {
      const { db, keys } = openStoreForTest(config);
      seq = appendAccessLog(db, { user: 'ivan', action: 'search', parameters: { reason: 'hit and run', caseNumber: '25-0401', plate: '8AUD123', results: 0 }, result: 'ok' }, keys).seq;
      await db.root.close();
    }

    const out = join(dir, 'audit', 'sample.json');
    const sample = cli(['audit', 'sample', '--from', '2000-01-01', '--to', '2100-01-01', '--n', '5', '--seed', 's1', '--out', out, '--as', 'ada'], `${ADA}\n`);
    expect(sample.status, sample.stderr).toBe(0);
    const drawn = JSON.parse(readFileSync(out, 'utf8')) as { entries: Array<AccessLogEntry & { parametersInClear?: Record<string, unknown> }> };
    expect(drawn.entries.map((e) => [e.seq, e.parameters['plate'] !== '8AUD123', e.parametersInClear?.['plate']])).toEqual([[seq, true, '8AUD123']]);

    const intact = cli(['audit', 'verify']);
    expect(intact.status, intact.stderr).toBe(0);
    expect(intact.stdout).not.toContain('8AUD123');

    // An edited search entry: verify names it; an administrator sees what it searched for.
    {
      const { db } = openStoreForTest(config);
      const e = db.accessLog.get(seq) as AccessLogEntry;
      await db.accessLog.put(seq, { ...e, user: 'someone-else' });
      await db.root.close();
    }
    const plain = cli(['audit', 'verify']);
    expect(plain.status).toBe(1);
    expect(plain.stdout).toContain(`entry ${seq} was altered`);
    expect(plain.stdout).not.toContain('8AUD123');
    const shown = cli(['audit', 'verify', '--as', 'ada'], `${ADA}\n`);
    expect(shown.status).toBe(1);
    const report = JSON.parse(shown.stdout) as { firstBadSeq: number; firstBadEntry: AccessLogEntry & { parametersInClear: Record<string, unknown> } };
    expect(report.firstBadSeq).toBe(seq);
    expect(report.firstBadEntry).toMatchObject({ seq, user: 'someone-else', parametersInClear: { plate: '8AUD123', caseNumber: '25-0401' } });
  });
});
