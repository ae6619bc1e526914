import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import { createHold } from '../../src/store/evidence-holds.js';
import { makeRead, openStoreForTest } from '../support/store-fixtures.js';

// Issue 22, friction an administrator and an auditor met: the compiled CLI in a child process,
// passwords on stdin, against a real LMDB state directory.
const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'offline-checks-'));
const raw = { deviceId: 'check-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } };
const configFile = join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify(raw));
const ADA = 'ada password 123';
const IVAN = 'ivan password 123';

function cli(args: string[], stdin = '') {
  return spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
}
function offline(args: string[]) {
  return spawnSync('node', [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('users and offline checks from the shell', { timeout: 240_000 }, () => {
  it('P8: a technician is added without a training date; an investigator without one is refused before any password is asked', () => {
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);
    const tech = cli(['user', 'add', 'tess', '--role', 'technician', '--as', 'ada'], `${ADA}\ntess password 12\n`);
    expect(tech.status, tech.stderr).toBe(0);
    expect(JSON.parse(tech.stdout)).toMatchObject({ username: 'tess', role: 'technician', trainingValidUntil: null });
    const inv = cli(['user', 'add', 'ivan', '--role', 'investigator', '--as', 'ada'], '');
    expect(inv.status).toBe(64);
    expect(inv.stderr).toContain('--training-until YYYY-MM-DD is required for an investigator: training gates access to reads (P8)');
    expect(inv.stderr).not.toContain('password for');
    expect(cli(['user', 'add', 'ivan', '--role', 'investigator', '--training-until', '2099-12-31', '--as', 'ada'], `${ADA}\n${IVAN}\n`).status).toBe(0);
    // The technician signs in (a password change of their own) though they have no training date.
    expect(cli(['user', 'passwd', 'tess', '--as', 'tess'], 'tess password 12\ntess password 34\n').status).toBe(0);
  });

  it('P4: verify-export without a fingerprint refuses to say ok; --trust-embedded-key checks with a warning', async () => {
    const { store, db } = openStoreForTest(validateConfig(raw));
    const read = makeRead('6VFY001', Date.now() - 1000);
    await store.put(read);
    createHold(store, { name: 'case-v', caseNumber: '24-77', reason: 'evidence', readIds: [read.id] }, 'ivan');
    await db.root.close();
    const out = join(dir, 'usb');
    const exp = cli(['export', '--hold', 'case-v', '--out', out, '--as', 'ivan'], `${IVAN}\n`);
    expect(exp.status, exp.stderr).toBe(0);
    const fingerprint = JSON.parse(exp.stdout).publicKeyFingerprint as string;

    const bare = offline(['verify-export', out]);
    expect(bare.status).toBe(64);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toContain('verify-export needs --fingerprint <sha256>');
    const embedded = offline(['verify-export', out, '--trust-embedded-key']);
    expect(embedded.status, embedded.stderr).toBe(0);
    expect(embedded.stderr).toContain('warning: checked against the key embedded in the files only');
    expect(JSON.parse(embedded.stdout)).toMatchObject({ ok: true, keyChecked: 'embedded key only', publicKeyFingerprint: fingerprint });
    const pinned = offline(['verify-export', out, '--fingerprint', fingerprint]);
    expect(pinned.status, pinned.stderr).toBe(0);
    expect(pinned.stderr).toBe('');
    expect(JSON.parse(pinned.stdout)).toMatchObject({ ok: true, keyChecked: 'fingerprint' });
  });

  it('P9: audit verify-sample checks a sample offline against the device key, and finds it changed', () => {
    const file = join(dir, 'audit', 'sample.json');
    const drawn = cli(['audit', 'sample', '--from', '2000-01-01', '--to', '2100-01-01', '--n', '5', '--seed', 'audit 2026-H1', '--out', file, '--as', 'ada'], `${ADA}\n`);
    expect(drawn.status, drawn.stderr).toBe(0);
    expect(JSON.parse(drawn.stdout).drawn).toBeGreaterThan(0);
    const fingerprint = JSON.parse(cli(['key', 'show']).stdout).signingKeyFingerprint as string;

    const ok = offline(['audit', 'verify-sample', file, '--fingerprint', fingerprint]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, problems: [], deviceId: 'check-pole', drawnBy: 'ada', seed: 'audit 2026-H1', publicKeyFingerprint: fingerprint, chainOkWhenDrawn: true, keyChecked: 'fingerprint' });
    expect(offline(['audit', 'verify-sample', file]).status).toBe(64);
    const wrongKey = offline(['audit', 'verify-sample', file, '--fingerprint', '0'.repeat(64)]);
    expect(wrongKey.status).toBe(1);
    expect(JSON.parse(wrongKey.stdout).problems).toEqual([`signed by key ${fingerprint}, expected ${'0'.repeat(64)}`]);

    // One entry's user changed: the signature no longer verifies, and the entry no longer matches its hash.
    const sample = JSON.parse(readFileSync(file, 'utf8')) as { entries: { seq: number; user: string }[] };
    sample.entries[0]!.user = 'someone-else';
    writeFileSync(file, JSON.stringify(sample, null, 2) + '\n');
    const changed = offline(['audit', 'verify-sample', file, '--fingerprint', fingerprint]);
    expect(changed.status).toBe(1);
    expect(JSON.parse(changed.stdout).problems).toEqual([
      `signature in ${file}.sig does not verify: the sample was changed or signed by another key`,
      `entry ${sample.entries[0]!.seq} does not match its hash`,
    ]);
  });
});
