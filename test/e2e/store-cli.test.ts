import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessLogEntry } from '../../src/access/access-log.js';
import { validateConfig } from '../../src/config/load.js';
import { LocalEntryStore } from '../../src/hotlist/local-entries.js';
import { openDeviceKeys } from '../../src/state/device-keys.js';
import { createHold } from '../../src/store/evidence-holds.js';
import { makeRead, openStoreForTest } from '../support/store-fixtures.js';

// The store and access commands as an administrator runs them over SSH: the compiled CLI in a child
// process, passwords on stdin, against a real LMDB state directory.
const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'store-cli-'));
const raw = { deviceId: 'cli-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } };
const configFile = join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify(raw));

function cli(args: string[], stdin = '') {
  return spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
}
function cliNoConfig(args: string[]) {
  return spawnSync('node', [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const ADA = 'ada password 123';
const IVAN = 'ivan password 123';

// Each test spawns the CLI several times (about a second each, far more on a busy machine).
describe('alpr-edge store and access commands', { timeout: 240_000 }, () => {
  it('P6/P8: bootstraps an administrator, who then adds an investigator; others cannot, and the refusal is logged', async () => {
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);
    const add = cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`);
    expect(add.status, add.stderr).toBe(0);
    const noAdmin = cli(['user', 'add', 'eve', '--role', 'administrator', '--training-until', '2099-12-31'], 'eve password 12\n');
    expect(noAdmin.status).toBe(64);
    expect(noAdmin.stderr).toContain('needs --as');
    const asInvestigator = cli(['user', 'add', 'eve', '--role', 'technician', '--training-until', '2099-12-31', '--as', 'ivan'], `${IVAN}\neve password 12\n`);
    expect(asInvestigator.status).toBe(77);
    expect(asInvestigator.stderr).toContain('needs role administrator');
    const { db } = openStoreForTest(validateConfig(raw));
    const denied = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action === 'cli.denied');
    expect(denied.map((e) => [e.user, e.result, e.parameters['what']])).toEqual([['ivan', 'denied', 'adding a user']]);
    await db.root.close();
    const list = cli(['user', 'list']);
    expect(list.stdout).toContain('"ivan"');
    expect(list.stdout).not.toContain('argon2');
  });

  it('P4: exports a hold to a signed bundle that verify-export accepts, and rejects once tampered', async () => {
    const config = validateConfig(raw);
    const { store, db } = openStoreForTest(config);
    const read = makeRead('6CLI001', Date.now() - 1000);
    await store.put(read);
    createHold(store, { name: 'case-9', caseNumber: '24-9', reason: 'evidence', readIds: [read.id] }, 'ivan');
    await db.root.close();
    const out = join(dir, 'usb');
    const exp = cli(['export', '--hold', 'case-9', '--out', out, '--as', 'ivan'], `${IVAN}\n`);
    expect(exp.status, exp.stderr).toBe(0);
    const fingerprint = JSON.parse(exp.stdout).publicKeyFingerprint as string;
    expect(JSON.parse(cli(['key', 'show']).stdout).signingKeyFingerprint).toBe(fingerprint);
    const ok = cliNoConfig(['verify-export', out, '--fingerprint', fingerprint]);
    expect(ok.status, ok.stdout).toBe(0);
    appendFileSync(join(out, `images/${read.id}-plate.jpg`), 'x');
    const bad = cliNoConfig(['verify-export', out, '--fingerprint', fingerprint]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('was changed');
    const wrongPw = cli(['export', '--hold', 'case-9', '--out', join(dir, 'usb2'), '--as', 'ivan'], 'not it\n');
    expect(wrongPw.status).toBe(77);
    expect(wrongPw.stderr).toContain('invalid username or password');
  });

  it('P4: holds create, list and release from the shell, over read ids or a plate query; each change (and refusal) is in the access log', async () => {
    const config = validateConfig(raw);
    const { store, db } = openStoreForTest(config);
    const a = makeRead('6HLD001', Date.now() - 3_600_000);
    const b = makeRead('6HLD001', Date.now() - 60_000);
    const c = makeRead('6HLD777', Date.now() - 30_000);
    await store.putMany([a, b, c]);
    await db.root.close();
    const byQuery = cli(['holds', 'create', 'case-h1', '--case', '24-11', '--reason', 'hit and run vehicle', '--plate', '6HLD001', '--as', 'ivan'], `${IVAN}\n`);
    expect(byQuery.status, byQuery.stderr).toBe(0);
    expect(JSON.parse(byQuery.stdout)).toMatchObject({ name: 'case-h1', caseNumber: '24-11', createdBy: 'ivan', readCount: 2, query: { plate: '6HLD001' } });
    const byIds = cli(['holds', 'create', 'case-h2', '--case', '24-12', '--reason', 'witness vehicle', '--read', c.id, '--as', 'ivan'], `${IVAN}\n`);
    expect(byIds.status, byIds.stderr).toBe(0);
    expect(JSON.parse(byIds.stdout)).toMatchObject({ name: 'case-h2', readCount: 1 });
    const empty = cli(['holds', 'create', 'case-h3', '--case', '24-13', '--reason', 'no reads named', '--as', 'ivan'], `${IVAN}\n`);
    expect(empty.status).toBe(65);
    expect(empty.stderr).toContain('readIds');
    const noCase = cli(['holds', 'create', 'case-h4', '--reason', 'x', '--read', c.id, '--as', 'ivan'], `${IVAN}\n`);
    expect(noCase.status).toBe(64);
    expect(noCase.stderr).toContain('--case');
    const list = JSON.parse(cli(['holds']).stdout) as Array<{ name: string }>;
    expect(list.map((h) => h.name)).toEqual(expect.arrayContaining(['case-h1', 'case-h2']));
    expect(JSON.parse(cli(['holds', 'list']).stdout)).toEqual(list);
    const release = cli(['holds', 'release', 'case-h1', '--reason', 'case closed', '--as', 'ada'], `${ADA}\n`);
    expect(release.status, release.stderr).toBe(0);
    expect(JSON.parse(release.stdout)).toMatchObject({ name: 'case-h1', releasedBy: 'ada' });
    const again = cli(['holds', 'release', 'case-h1', '--reason', 'case closed', '--as', 'ada'], `${ADA}\n`);
    expect(again.status).toBe(65);
    const { db: after } = openStoreForTest(config);
    const holdEntries = [...after.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action.startsWith('hold.') && String(e.parameters['hold']).startsWith('case-h'));
    expect(holdEntries.map((e) => [e.user, e.action, e.result, e.parameters['hold']])).toEqual([
      ['ivan', 'hold.create', 'ok', 'case-h1'],
      ['ivan', 'hold.create', 'ok', 'case-h2'],
      ['ivan', 'hold.create', 'refused', 'case-h3'],
      ['ada', 'hold.release', 'ok', 'case-h1'],
      ['ada', 'hold.release', 'refused', 'case-h1'],
    ]);
    expect(holdEntries[0]!.parameters).toMatchObject({ caseNumber: '24-11', reason: 'hit and run vehicle' });
    await after.root.close();
  });

  it('P11/P8: hotlist add takes its approver from the user store (an administrator, with their password); changes go to the access log', async () => {
    const entry = ['hotlist', 'add', '--plate', '7SY?12*', '--state', 'CA', '--type', 'BOLO', '--entered-by', 'ivan', '--case', '25-0099', '--synopsis', 'armed robbery, partial plate'];
    const byInvestigator = cli([...entry, '--approver', 'ivan'], `${IVAN}\n`);
    expect(byInvestigator.status).toBe(65);
    expect(byInvestigator.stderr).toContain('an administrator must approve');
    // P6/P11: the member entering the entry signs in first (their password, then the approver's).
    const unknown = cli([...entry, '--approver', 'sgt-nobody'], `${IVAN}\nx\n`);
    expect(unknown.status).toBe(65);
    expect(unknown.stderr).toContain('approvedBy');
    const wrongPassword = cli([...entry, '--approver', 'ada'], `${IVAN}\nnot her password\n`);
    expect(wrongPassword.status).toBe(77);
    expect(wrongPassword.stderr).toContain('password of the approver');
    const ok = cli([...entry, '--approver', 'ada'], `${IVAN}\n${ADA}\n`);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('(partial)');
    // P16: local.json is sealed with the device keys; opened as the daemon opens it.
    const local = [...new LocalEntryStore(raw.stateDir, openDeviceKeys(raw.stateDir)).load().entries];
    expect(local).toHaveLength(1);
    expect(local[0]!.local).toMatchObject({ enteredBy: 'ivan', approvedBy: 'ada', caseNumber: '25-0099' });
    const removed = cli(['hotlist', 'remove', '--plate', '7SY?12*', '--as', 'ada'], `${ADA}\n`);
    expect(removed.status, removed.stderr).toBe(0);
    const { db } = openStoreForTest(validateConfig(raw));
    const changes = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action === 'hotlist.change');
    // P6: the three refused attempts are on the record too.
    expect(changes.map((e) => [e.user, e.parameters['change'], e.parameters['approvedBy'] ?? null])).toEqual([
      ['ivan', 'local-refused', 'ivan'],
      ['ivan', 'local-refused', 'sgt-nobody'],
      ['ivan', 'local-refused', 'ada'],
      ['ivan', 'local-added', 'ada'],
      ['ada', 'local-removed', null],
    ]);
    await db.root.close();
  });

  it('P14: refuses an immigration-enforcement sharing request and exports only against an approved one', () => {
    const refused = cli(['share', 'request', '--agency', 'ICE ERO', '--agency-state', 'CA', '--requester', 'X', '--purpose', 'removal']);
    // Refused input: exit 65 with the reason on one line, and the refusal kept on file and logged.
    expect(refused.status, refused.stderr).toBe(65);
    const kept = JSON.parse(refused.stdout) as { id: string; status: string };
    expect(kept).toMatchObject({ status: 'refused' });
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`sharing request ${kept.id} refused: immigration enforcement is not a permitted purpose (California Values Act)`);
    expect(JSON.parse(cli(['share', 'list']).stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ id: kept.id, status: 'refused' })]));
    const pending = JSON.parse(cli(['share', 'request', '--agency', 'Fresno PD', '--agency-state', 'CA', '--requester', 'Det. Q', '--purpose', 'kidnapping 24-3']).stdout);
    const early = cli(['export', '--hold', 'case-9', '--out', join(dir, 'usb3'), '--as', 'ivan', '--share', pending.id], `${IVAN}\n`);
    expect(early.status).toBe(65);
    expect(early.stderr).toContain('not approved');
    expect(cli(['share', 'approve', pending.id, '--as', 'ada'], `${ADA}\n`).status).toBe(0);
    const exp = cli(['export', '--hold', 'case-9', '--out', join(dir, 'usb3'), '--as', 'ivan', '--share', pending.id], `${IVAN}\n`);
    expect(exp.status, exp.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'usb3', 'custody.json'), 'utf8'))[0].shareRequest).toMatchObject({ id: pending.id, agency: 'Fresno PD', approvedBy: 'ada' });
  });

  it('P9: audit verify passes, audit sample writes a signed sample, and an edited log fails verification', async () => {
    expect(cli(['audit', 'verify']).status).toBe(0);
    const out = join(dir, 'audit', 'sample.json');
    const s = cli(['audit', 'sample', '--from', '2000-01-01', '--to', '2100-01-01', '--n', '2', '--seed', 'q3', '--out', out, '--as', 'ada'], `${ADA}\n`);
    expect(s.status, s.stderr).toBe(0);
    expect(existsSync(`${out}.sig`)).toBe(true);
    const sample = JSON.parse(readFileSync(out, 'utf8'));
    expect(sample.entries).toHaveLength(2);
    expect(sample.entries.every((e: AccessLogEntry) => e.action === 'export')).toBe(true);
    expect(sample.chain.ok).toBe(true);
    const { db } = openStoreForTest(validateConfig(raw));
    const first = db.accessLog.get(1) as AccessLogEntry;
    await db.accessLog.put(1, { ...first, user: 'someone' });
    await db.root.close();
    const v = cli(['audit', 'verify']);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain('entry 1 was altered');
  });
});
