import { describe, expect, it, onTestFinished } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { AccessLogHotListChanges } from '../../src/access/hotlist-changes.js';
import { SharingRegistry } from '../../src/access/sharing.js';
import { UserDirectory } from '../../src/access/users.js';
import { DeviceEventBus } from '../../src/device-events.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import * as localEntries from '../../src/hotlist/local-entries.js';
import type { Hit } from '../../src/hotlist/hit.js';
import { HotListRejectedError } from '../../src/hotlist/signed-list.js';
import { buildHttpApp } from '../../src/http/app.js';
import { queryServices } from '../../src/app.js';
import { queryApi } from '../../src/http/api/query-api.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { storePath, type StateDatabase } from '../../src/state/database.js';
import type { Sealer } from '../../src/state/device-keys.js';
import { createHold, getHold, listHolds, releaseHold, sealHoldQueries } from '../../src/store/evidence-holds.js';
import { entry, makePublisher, makeRead as makeHitRead, testConfig as hitTestConfig, tempDir } from '../support/mqtt-harness.js';
import { makeRead, openTestStore, silent, testConfig } from '../support/store-fixtures.js';

// Issue 20 §2 (P16): nothing readable on disk. Plate text people hold evidence over, or enter on the
// device's own hot list, is sealed with the device key as reads are in the store, and hot-list
// changes are recorded only in the (sealed) access log; the raw bytes of the files are searched for
// synthetic plates that only those records hold.
const PW = 'correct horse battery';
const { LocalEntryStore } = localEntries;

/** The hot-list extension as the daemon starts it: its changes go to the store's access log. */
async function startDaemonHotLists(stateDir: string, store: { db: StateDatabase; keys: Sealer }) {
  const dir = tempDir('hl-daemon-');
  const pub = makePublisher(dir);
  const config = hitTestConfig('rest-pole', stateDir, pub.pubFile, {});
  const ext = new HotListExtension({ changeLog: new AccessLogHotListChanges(() => store) });
  const bus = new DeviceEventBus();
  const hits: Hit[] = [];
  bus.listen('hit', (h) => hits.push(h));
  await ext.start({ config, logger: pino({ level: 'silent' }), metrics: createMetrics(), events: bus });
  onTestFinished(() => ext.stop());
  return { ext, hits, pub };
}

describe('evidence-hold queries at rest', () => {
  it('P16: a hold\'s query plate is sealed in the holds table (not in the LMDB file); listing holds shows it to an authorised user', async () => {
    const config = testConfig({}, { access: { loginRateLimitPerMinute: 1000 } });
    const { db, store, keys } = openTestStore(config);
    const users = new UserDirectory(db, config.access);
    const app = buildHttpApp({ logger: silent, metrics: createMetrics(), health: () => ({ status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }) });
    await app.register(queryApi, { ...queryServices(store), users, sharing: new SharingRegistry(db, config.sharing), access: config.access });
    await app.ready();
    onTestFinished(async () => {
      await app.close();
      await db.root.close();
    });
    await users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    await users.add({ username: 'tom', role: 'technician', trainingValidUntil: '2099-12-31', password: PW }, 'cli:root');
    const token = async (username: string) => (await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username, password: PW } })).json().token as string;
    const ivan = await token('ivan');
    await store.put(makeRead('6QHLD01', Date.now() - 60_000));

    // Held by a query over the API and from the shell's code path; the second plate matches no read,
    // so if it is in the file, the hold put it there.
    const byApi = await app.inject({ method: 'POST', url: '/api/v1/holds', headers: { authorization: `Bearer ${ivan}` }, payload: { name: 'case-q1', caseNumber: '25-0401', reason: 'hit and run vehicle', query: { plate: '6QHLD01' } } });
    expect(byApi.statusCode, byApi.body).toBe(201);
    expect(byApi.json()).toMatchObject({ query: { plate: '6QHLD01' }, readCount: 1 });
    createHold(store, { name: 'case-q2', caseNumber: '25-0402', reason: 'witness vehicle', query: { plate: '6QHLD9*', match: 'partial' } }, 'ivan');

    const raw = readFileSync(join(storePath(config), 'data.mdb'));
    // The holds are in the file (their reasons are), their query plates are not.
    expect(raw.includes('hit and run vehicle')).toBe(true);
    expect(raw.includes('witness vehicle')).toBe(true);
    for (const needle of ['6QHLD01', '6QHLD9']) expect(raw.includes(needle), needle).toBe(false);
    expect(db.holds.get('case-q2')).toMatchObject({ query: { plate: { $sealed: expect.any(String), kid: keys.currentKeyId }, match: 'partial' } });

    // An investigator listing holds reads the plates; a technician gets no list at all (P8).
    const listed = await app.inject({ method: 'GET', url: '/api/v1/holds', headers: { authorization: `Bearer ${ivan}` } });
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as Array<{ name: string; query?: { plate?: string } }>).map((h) => [h.name, h.query?.plate])).toEqual([['case-q1', '6QHLD01'], ['case-q2', '6QHLD9*']]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/holds', headers: { authorization: `Bearer ${await token('tom')}` } })).statusCode).toBe(403);
    expect(getHold(store, 'case-q2')?.query).toEqual({ plate: '6QHLD9*', match: 'partial' });
    expect(releaseHold(store, 'case-q2', 'ivan', 'case closed')).toMatchObject({ releasedBy: 'ivan', query: { plate: '6QHLD9*' } });
    expect(db.holds.get('case-q2')).toMatchObject({ releasedBy: 'ivan', query: { plate: { $sealed: expect.any(String) } } });

    // A sealed plate copied onto another hold does not open there: shown as unreadable, not wrong.
    const q1 = db.holds.get('case-q1')!;
    await db.holds.put('case-q3', { ...db.holds.get('case-q2')!, name: 'case-q3', query: { plate: q1.query!.plate } });
    expect(getHold(store, 'case-q3')?.query).toEqual({ plateUnreadable: expect.stringContaining('fails authentication') });

    // A hold placed before sealing is still listed, and sealed at the next daemon start.
    await db.holds.put('case-old', { name: 'case-old', caseNumber: '24-0001', reason: 'from before', createdBy: 'ivan', createdAt: new Date().toISOString(), query: { plate: '6QHLDOLD' }, readCount: 0 });
    expect(getHold(store, 'case-old')?.query).toEqual({ plate: '6QHLDOLD' });
    expect(sealHoldQueries(store)).toBe(1);
    expect(sealHoldQueries(store)).toBe(0);
    expect(db.holds.get('case-old')).toMatchObject({ query: { plate: { $sealed: expect.any(String) } } });
    expect(listHolds(store).find((h) => h.name === 'case-old')?.query).toEqual({ plate: '6QHLDOLD' });
  });
});

describe('local hot-list entries at rest', () => {
  const local = (plate: string) => entry(plate, 'CA', { type: 'BOLO', reason: 'armed robbery suspect', recordNumber: '25-0501', local: { enteredBy: 'ivan', caseNumber: '25-0501', synopsis: 'armed robbery suspect', approvedBy: 'ada' } });

  it('P16: hotlists/local.json holds no plate text; the daemon and the CLI load the sealed list, and a clear file from before is read and rewritten sealed', async () => {
    const config = testConfig();
    const { keys, db } = openTestStore(config);
    onTestFinished(() => db.root.close());
    const file = join(config.stateDir, 'hotlists', 'local.json');
    const cli = new LocalEntryStore(config.stateDir, keys);
    cli.add(local('5LCL701'));
    cli.add(local('5LCL7?2'));
    const text = readFileSync(file, 'utf8');
    for (const needle of ['5LCL7', '25-0501', 'armed robbery']) expect(text, needle).not.toContain(needle);
    expect(cli.remove('5LCL7?2', undefined)).toBe(1);
    expect(readFileSync(file, 'utf8')).not.toContain('5LCL7');

    // The CLI (another process, the same keys) and the daemon read the sealed list.
    expect(new LocalEntryStore(config.stateDir, keys).load()).toMatchObject({ name: 'local', version: 3, entries: { length: 1 } });
    const { ext, hits } = await startDaemonHotLists(config.stateDir, { db, keys });
    await ext.accept(makeHitRead('5LCL701', 'CA', 'rest-pole'));
    expect(hits.map((h) => [h.list.name, h.entry.plate, h.entry.local?.caseNumber])).toEqual([['local', '5LCL701', '25-0501']]);

    // A list written in the clear before sealing (as the previous release wrote it): still read, its
    // version kept (so the daemon does not take it for a change), and sealed by that first read.
    const before = { name: 'local', source: 'local entries', version: 7, issuedAt: new Date().toISOString(), entries: [local('5LCLOLD')], signedBy: 'local' };
    writeFileSync(file, JSON.stringify(before), { mode: 0o600 });
    const upgraded = new LocalEntryStore(config.stateDir, keys);
    expect(upgraded.fingerprint()).toBe('7');
    expect(upgraded.load()).toMatchObject({ version: 7, entries: { length: 1 } });
    expect(readFileSync(file, 'utf8')).not.toContain('5LCLOLD');
    expect(upgraded.fingerprint()).toBe('7');
    expect([...upgraded.load().entries].map((e) => e.plate)).toEqual(['5LCLOLD']);
  });
});

describe('hot-list changes at rest', () => {
  it('P16: hot-list changes are recorded only in the sealed access log: no changes.log, and no plate text in the clear under hotlists/', async () => {
    // The interim JSON-lines change log (plate text in the clear) is gone: nothing can fall back to it.
    expect(Object.keys(localEntries)).not.toContain('JsonLinesChangeLog');

    const config = testConfig();
    const { db, keys } = openTestStore(config);
    onTestFinished(() => db.root.close());
    const { ext, pub } = await startDaemonHotLists(config.stateDir, { db, keys });
    const list = pub.sign('ncic', 3, [entry('4CHG001', 'CA')]);
    ext.installSigned(list, 'mqtt:central');
    expect(() => ext.installSigned(list, 'mqtt:central')).toThrow(HotListRejectedError);
    new LocalEntryStore(config.stateDir, keys).add(entry('4CHG002', 'CA', { type: 'BOLO', local: { enteredBy: 'ivan', caseNumber: '25-0601', synopsis: 'stolen trailer', approvedBy: 'ada' } }));

    const hotlists = join(config.stateDir, 'hotlists');
    expect(existsSync(join(hotlists, 'changes.log'))).toBe(false);
    // Every file the device writes about hot lists, but for the signed lists themselves (the
    // publisher's files, kept to be verified again at every start).
    const files = readdirSync(hotlists, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && !f.name.endsWith('.hotlist'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name)).includes('4CHG00'), f.name).toBe(false);

    const changes = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry).filter((e) => e.action === 'hotlist.change');
    expect(changes.map((e) => [e.user, e.parameters['change'], e.parameters['list'], e.result])).toEqual([
      ['mqtt:central', 'list-installed', 'ncic', 'ok'],
      ['mqtt:central', 'list-refused', '(unknown)', 'refused'],
    ]);
    expect(verifyAccessLog(db, keys)).toMatchObject({ ok: true });
  });
});
