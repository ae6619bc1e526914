import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openParameters, type AccessLogEntry } from '../../src/access/access-log.js';
import { validateConfig } from '../../src/config/load.js';
import { openTestStore } from '../support/store-fixtures.js';

// Issue 20 §1: `hotlist add` run from the shell, as over SSH (the compiled CLI, passwords on stdin, a
// real LMDB state directory). A refused local entry is on the record like an added one (P6, P11).
const MAIN = 'dist/src/bin.cjs';
const ADA = 'ada password 123';
const IVAN = 'ivan password 123';

describe('refused local hot-list entries', { timeout: 240_000 }, () => {
  it('P6/P11: a refused local entry (no case number, approver not an administrator, wrong approver password) is logged with the user, the case number and synopsis given, and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotlist-refusals-'));
    const raw = { deviceId: 'refusal-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw));
    const cli = (args: string[], stdin = '') => spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);
    expect(cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`).status).toBe(0);

    const entry = ['hotlist', 'add', '--plate', '6RFS123', '--state', 'CA', '--entered-by', 'ivan', '--synopsis', 'stolen trailer'];
    // The member entering the entry signs in first (P6), then the approver.
    const noCase = cli([...entry, '--approver', 'ada'], `${IVAN}\n${ADA}\n`);
    expect(noCase.status).toBe(65);
    const byInvestigator = cli([...entry, '--case', '25-0201', '--approver', 'ivan'], `${IVAN}\n`);
    expect(byInvestigator.status).toBe(65);
    const wrongPassword = cli([...entry, '--case', '25-0202', '--approver', 'ada'], `${IVAN}\nnot her password\n`);
    expect(wrongPassword.status).toBe(77);

    const { db, keys } = openTestStore(validateConfig(raw));
    try {
      const refused = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action === 'hotlist.change' && e.result === 'refused');
      expect(refused.map((e) => [e.user, e.parameters['change'], e.parameters['caseNumber'], e.parameters['synopsis'], e.parameters['approvedBy'], e.parameters['field']])).toEqual([
        ['ivan', 'local-refused', null, 'stolen trailer', 'ada', 'caseNumber'],
        ['ivan', 'local-refused', '25-0201', 'stolen trailer', 'ivan', 'approvedBy'],
        ['ivan', 'local-refused', '25-0202', 'stolen trailer', 'ada', 'approvedBy'],
      ]);
      expect(refused.map((e) => e.parameters['problem'])).toEqual([
        expect.stringContaining('caseNumber is required'),
        expect.stringContaining('an administrator must approve'),
        expect.stringContaining('password of the approver is wrong'),
      ]);
      // The plate asked for is on the record, sealed with the device key (P16).
      expect(openParameters(refused[0]!, keys)).toMatchObject({ plate: '6RFS123' });
    } finally {
      await db.root.close();
    }
  });
});
