import { describe, expect, it, onTestFinished } from 'vitest';
import { readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendAccessLog, entryHash, openParameters, sampleInquiries, verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { SharingRegistry } from '../../src/access/sharing.js';
import { UserDirectory } from '../../src/access/users.js';
import { buildHttpApp } from '../../src/http/app.js';
import { queryServices } from '../../src/app.js';
import { queryApi } from '../../src/http/api/query-api.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { ShellChangeQueue } from '../../src/hotlist/shell-changes.js';
import type { HotListChange } from '../../src/hotlist/local-entries.js';
import { storePath } from '../../src/state/database.js';
import { DAY_MS, makeRead, openTestStore, silent, testConfig } from '../support/store-fixtures.js';

// Issue 20 §1 (P16): plate text that people search for, or enter on a local hot list, is sealed with
// the device key wherever it is written (access log, shell change queue), as reads are in the store.
const PW = 'correct horse battery';

describe('plate text in the access log', () => {
  it('P16: a searched plate is sealed in the access log (not in the LMDB file), opened for an audit sample, and checked by verify', async () => {
    const config = testConfig({}, { access: { loginRateLimitPerMinute: 1000 } });
    const { db, store, keys } = openTestStore(config);
    const app = buildHttpApp({ logger: silent, metrics: createMetrics(), health: () => ({ status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }) });
    await app.register(queryApi, { ...queryServices(store), users: new UserDirectory(db, config.access), sharing: new SharingRegistry(db, config.sharing), access: config.access });
    await app.ready();
    onTestFinished(async () => {
      await app.close();
      await db.root.close();
    });
    const users = new UserDirectory(db, config.access);
    await users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    const token = (await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ivan', password: PW } })).json().token as string;
    await store.put(makeRead('4HELD01', Date.now() - 60_000));

    // Plates searched for that no read holds: if they are in the file, the log put them there.
    for (const plate of ['9SRCH77', '9LKA*7']) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/reads?plate=${encodeURIComponent(plate)}&reason=robbery+suspect&caseNumber=25-0301`, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
    }
    const raw = readFileSync(join(storePath(config), 'data.mdb'));
    // The entries are in the file (their reason is), their plates are not.
    expect(raw.includes('robbery suspect')).toBe(true);
    for (const needle of ['9SRCH77', '9LKA*7']) expect(raw.includes(needle), needle).toBe(false);

    const searches = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action === 'search');
    expect(searches.map((e) => e.parameters['plate'])).toEqual([{ $sealed: expect.any(String), kid: keys.currentKeyId }, { $sealed: expect.any(String), kid: keys.currentKeyId }]);
    // Reason and case number stay readable: they are what an auditor reviews.
    expect(searches[0]!.parameters).toMatchObject({ reason: 'robbery suspect', caseNumber: '25-0301' });

    // The administrator's audit sample shows the plates searched for; the chain verifies with the keys.
    const sample = sampleInquiries(db, { from: new Date(Date.now() - DAY_MS), to: new Date(Date.now() + DAY_MS), n: 10, seed: 's' }, keys);
    expect(sample.entries.map((e) => e.parametersInClear?.['plate'])).toEqual(['9SRCH77', '9LKA*7']);
    // The sampled entries are as they lie in the log: their hashes still check.
    expect(sample.entries.every((e) => entryHash(e) === e.hash)).toBe(true);
    expect(verifyAccessLog(db, keys)).toMatchObject({ ok: true });

    // Without the device keys nobody can write plate text into the log in the clear.
    expect(() => appendAccessLog(db, { user: 'x', action: 'search', parameters: { reason: 'r', plate: '1ABC234' }, result: 'ok' })).toThrow(/must be sealed/);

    // A sealed value moved to another entry (its hash and every later one recomputed, as someone
    // with write access to the file could) no longer opens where it lies: verify names the entry.
    const [first, second] = searches as [AccessLogEntry, AccessLogEntry];
    const moved = { ...first, parameters: { ...first.parameters, plate: second.parameters['plate'] } };
    let prev: AccessLogEntry = { ...moved, hash: entryHash(moved) };
    await db.accessLog.put(prev.seq, prev);
    for (const { value } of db.accessLog.getRange({ start: first.seq + 1 })) {
      const e = { ...(value as AccessLogEntry), prevHash: prev.hash };
      prev = { ...e, hash: entryHash(e) };
      await db.accessLog.put(e.seq, prev);
    }
    await db.meta.put('access-log.head', { seq: prev.seq, hash: prev.hash });
    expect(verifyAccessLog(db)).toMatchObject({ ok: true });
    expect(verifyAccessLog(db, keys)).toMatchObject({ ok: false, firstBadSeq: first.seq, problem: expect.stringContaining('sealed parameter plate does not open') });
    expect(openParameters(db.accessLog.get(first.seq) as AccessLogEntry, keys)).toMatchObject({ plate: { unreadable: expect.any(String) } });
  });
});

describe('hot-list changes queued from the shell', () => {
  it('P16: shell-changes.jsonl holds no plate text; the daemon side opens the lines with the device keys', () => {
    const config = testConfig();
    const { keys } = openTestStore(config);
    const change = (plate: string): HotListChange => ({ at: new Date().toISOString(), action: 'local-added', actor: 'ivan', list: 'local', version: 1, detail: { plate, caseNumber: '25-0302', approvedBy: 'ada' } });
    const cli = new ShellChangeQueue(config.stateDir, keys);
    cli.append(change('7SHL001'));
    cli.append(change('7SHL00?'));
    const file = join(config.stateDir, 'hotlists', 'shell-changes.jsonl');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('7SHL00');
    expect(text).not.toContain('25-0302');
    // A line written in the clear before sealing (an upgrade with changes waiting) is still published.
    appendFileSync(file, JSON.stringify(change('7SHL002')) + '\n');
    const daemon = new ShellChangeQueue(config.stateDir, keys);
    const { changes, unreadable } = daemon.take();
    expect(unreadable).toBe(0);
    expect(changes.map((c) => c.detail['plate'])).toEqual(['7SHL001', '7SHL00?', '7SHL002']);
  });
});
