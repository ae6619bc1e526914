import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import { createHold } from '../../src/store/evidence-holds.js';
import { exportHold, verifyExport } from '../../src/store/export-bundle.js';
import { makeRead, openStoreForTest } from '../support/store-fixtures.js';

// Issue 20 §2 (P16): export bundles and audit samples are evidence; no other local user may read
// them, whatever umask the shell that wrote them had. The export through the store module, the audit
// sample through the compiled CLI in a shell with umask 000, both on a real LMDB state directory.
const MAIN = 'dist/src/bin.cjs';
const ADA = 'ada password 123';

/** Mode of every file and directory under `dir` (itself included), by path relative to `dir`. */
function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = { '.': (statSync(dir).mode & 0o777).toString(8) };
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    out[relative(dir, p)] = (statSync(p).mode & 0o777).toString(8);
  }
  return out;
}

describe('evidence written to files', { timeout: 240_000 }, () => {
  it('P16: export bundles and audit samples are written 0600 (files) and 0700 (directories), also under umask 000', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-modes-'));
    const raw = { deviceId: 'modes-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw));

    // Export, in this process, under the most permissive umask.
    const previous = process.umask(0o000);
    onTestFinished(() => void process.umask(previous));
    const { store, db } = openStoreForTest(validateConfig(raw));
    const read = makeRead('5MOD001', Date.now() - 60_000);
    await store.put(read);
    createHold(store, { name: 'case-m', caseNumber: '25-0501', reason: 'evidence', readIds: [read.id] }, 'ivan');
    const out = join(dir, 'media', 'case-m');
    exportHold(store, { hold: 'case-m', outDir: out, by: 'ivan', deviceId: 'modes-pole' });
    await db.root.close();
    process.umask(previous);
    const bundle = modes(out);
    expect(Object.keys(bundle).sort()).toEqual(['.', 'custody.json', 'images', `images/${read.id}-overview.jpg`, `images/${read.id}-plate.jpg`, 'manifest.json', 'manifest.sig', 'reads.json']);
    for (const [path, mode] of Object.entries(bundle)) expect(mode, path).toBe(path === '.' || path === 'images' ? '700' : '600');
    expect(verifyExport(out).ok).toBe(true);

    // Audit sample, from a shell with umask 000, into a directory it makes and over a file that was 0644.
    const cli = (args: string[], stdin = '') => spawnSync('sh', ['-c', 'umask 000 && exec node "$0" "$@"', MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);
    const auditDir = join(dir, 'audits', '2026-h1');
    const sample = cli(['audit', 'sample', '--from', '2000-01-01', '--to', '2100-01-01', '--n', '2', '--seed', 's', '--out', join(auditDir, 'sample.json'), '--as', 'ada'], `${ADA}\n`);
    expect(sample.status, sample.stderr).toBe(0);
    writeFileSync(join(dir, 'audits', 'again.json'), 'old\n', { mode: 0o644 });
    const again = cli(['audit', 'sample', '--from', '2000-01-01', '--to', '2100-01-01', '--n', '2', '--seed', 's', '--out', join(dir, 'audits', 'again.json'), '--as', 'ada'], `${ADA}\n`);
    expect(again.status, again.stderr).toBe(0);
    expect(modes(join(dir, 'audits'))).toEqual({ '.': '700', '2026-h1': '700', '2026-h1/sample.json': '600', '2026-h1/sample.json.sig': '600', 'again.json': '600', 'again.json.sig': '600' });
  });
});
