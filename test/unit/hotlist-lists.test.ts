import { describe, expect, it, onTestFinished } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import pino from 'pino';
import { HotListFormatError, parseHotListCsv, parseNcicExtract } from '../../src/hotlist/format.js';
import { encodeListBody, HotListRejectedError, loadPublicKey, parseListBody, verifySignedList } from '../../src/hotlist/signed-list.js';
import { HotListRepository } from '../../src/hotlist/repository.js';
import { LocalEntryError, validateLocalEntry, type UserDirectory } from '../../src/hotlist/local-entries.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { DeviceEventBus } from '../../src/device-events.js';
import type { DeviceEvent } from '../../src/hotlist/hit.js';
import { entry, makePublisher, makeRead, memoryChangeLog, tempDir, testConfig } from '../support/mqtt-harness.js';
import { waitFor } from '../support/wait-for.js';

const CSV = `# comment
plate,state,type,reason,record_number,entered,expires,fuzzy,vehicle
7abc-123,ca,SVS,"Stolen, armed",V123,2025-01-02,2025-12-31,yes,Honda Civic
7AB?12*,,SFR,partial from witness,W9,20250103,,,
`;

const NCIC = `MKE|LIC|LIS|LIY|VMA|VMO|VCO|NIC|DOE|EXP|MIS|ORI
SV|4KTR901|CA|2026|HOND|CIV|BLK|V123456789|20250104|20260104|STOLEN FROM LOT|CA0010000
SL|8XYZ321||2025||||L000000042|01/05/2025||PLATE ONLY|CA0010000
`;

describe('hot-list file formats (docs/hotlists.md)', () => {
  it('parses the CSV format, normalising plates and marking wildcard entries partial (P12)', () => {
    const e = parseHotListCsv(CSV);
    expect(e).toHaveLength(2);
    expect(e[0]).toMatchObject({ plate: '7ABC123', state: 'CA', type: 'SVS', reason: 'Stolen, armed', recordNumber: 'V123', enteredAt: '2025-01-02T00:00:00.000Z', expiresAt: '2025-12-31T00:00:00.000Z', fuzzy: true, partial: false, vehicle: 'Honda Civic' });
    expect(e[1]).toMatchObject({ plate: '7AB?12*', state: null, type: 'SFR', partial: true, expiresAt: null });
  });

  it('maps NCIC / CA DOJ pipe extracts: MKE → type, LIC/LIS → plate/state, NIC, DOE, EXP, MIS, vehicle', () => {
    const e = parseNcicExtract(NCIC);
    expect(e[0]).toMatchObject({ plate: '4KTR901', state: 'CA', type: 'SVS', recordNumber: 'V123456789', enteredAt: '2025-01-04T00:00:00.000Z', expiresAt: '2026-01-04T00:00:00.000Z', reason: 'STOLEN FROM LOT', vehicle: 'HOND CIV BLK' });
    expect(e[1]).toMatchObject({ plate: '8XYZ321', state: null, type: 'SLR', enteredAt: '2025-01-05T00:00:00.000Z', expiresAt: null });
  });

  it('names the line and field of a bad record', () => {
    const bad = (text: string) => {
      try {
        parseHotListCsv(text);
      } catch (err) {
        return err as HotListFormatError;
      }
      throw new Error('accepted');
    };
    const head = 'plate,state,type,reason,record_number,entered\n';
    expect(bad(head + '7ABC123,CA,STOLEN,x,1,2025-01-01')).toMatchObject({ line: 2, field: 'type' });
    expect(bad(head + '7ABC123,CAL,SVS,x,1,2025-01-01')).toMatchObject({ line: 2, field: 'state' });
    expect(bad(head + '7ABC123,CA,SVS,x,1,2025-02-31')).toMatchObject({ line: 2, field: 'entered' });
    expect(bad(head + '**,CA,SVS,x,1,2025-01-01')).toMatchObject({ line: 2, field: 'plate' });
    expect(bad('plate,state\n')).toMatchObject({ field: 'header' });
    expect(() => parseNcicExtract('MKE|LIC|NIC|DOE\nSV|7AB?12|1|20250101')).toThrow(/plate/);
  });

  it('fuzz: 12k random and mutated CSV / NCIC inputs either parse to valid entries or fail with HotListFormatError', () => {
    const valid = [CSV, NCIC];
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.nat(400), fc.string({ maxLength: 8 }), fc.nat(6)).map(([text, at, insert, del]) => text.slice(0, at % text.length) + insert + text.slice((at % text.length) + del));
    const input = fc.oneof(fc.string({ maxLength: 300 }), mutated, fc.array(fc.constantFrom('|', ',', '"', '\n', 'SV', '7ABC123', 'CA', '2025-01-01', '?', '*', 'plate,state,type,reason,record_number,entered'), { maxLength: 40 }).map((a) => a.join('')));
    let parsed = 0;
    let runs = 0;
    fc.assert(
      fc.property(input, (text) => {
        runs++;
        for (const parse of [parseHotListCsv, parseNcicExtract]) {
          try {
            const entries = parse(text);
            parsed++;
            for (const e of entries) {
              expect(e.plate).toMatch(/^[A-Z0-9?*]{1,10}$/);
              expect(e.partial).toBe(/[?*]/.test(e.plate));
              expect(Number.isNaN(Date.parse(e.enteredAt))).toBe(false);
            }
          } catch (err) {
            if (!(err instanceof HotListFormatError)) throw err;
          }
        }
      }),
      { numRuns: 12_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(12_000);
    expect(parsed).toBeGreaterThan(0);
  });
});

describe('signed, versioned lists (P10)', () => {
  const dir = tempDir('hl-sign-');
  const pub = makePublisher(dir);
  const keys = new Map([[pub.keyId, loadPublicKey(readFileSync(pub.pubFile, 'utf8'), pub.keyId)]]);

  it('verifies a list signed by a configured key and refuses a tampered, unknown-key or oversized one', () => {
    const bytes = pub.sign('ncic', 5, [entry('7ABC123', 'CA')]);
    expect(verifySignedList(bytes, keys, 1 << 20).entries.at(0)!.plate).toBe('7ABC123');
    const raw = gunzipSync(bytes);
    const tampered = gzipSync(Buffer.from(raw.toString('utf8').replace('7ABC123', '7ABC124')));
    expect(() => verifySignedList(tampered, keys, 1 << 20)).toThrow(expect.objectContaining({ reason: 'bad-signature' }));
    const other = makePublisher(dir, 'rogue').sign('ncic', 6, []);
    expect(() => verifySignedList(other, keys, 1 << 20)).toThrow(expect.objectContaining({ reason: 'unknown-key' }));
    expect(() => verifySignedList(bytes, keys, 10)).toThrow(expect.objectContaining({ reason: 'too-large' }));
    const bomb = gzipSync(Buffer.alloc(5 << 20, 0x20));
    expect(() => verifySignedList(bomb, keys, 1 << 20)).toThrow(expect.objectContaining({ reason: 'too-large' }));
  });

  it('a signed list round-trips every entry field (tabs, newlines and backslashes in text included) into the compact table', () => {
    const entries = [
      entry('7ABC123', 'CA', { reason: 'line1\nline2\tcol \\ end', vehicle: 'Honda\tCivic', expiresAt: '2031-05-06T07:08:09.010Z', fuzzy: true }),
      entry('1AB?', null, { local: { enteredBy: 'Det. A', caseNumber: 'C-1', synopsis: 'partial\tplate', approvedBy: 'Sgt. B' } }),
    ];
    const list = verifySignedList(pub.sign('roundtrip', 1, entries), keys, 1 << 20);
    expect([...list.entries]).toEqual(entries);
    expect(list.entries.at(1)!.partial).toBe(true);
  });

  it('fuzz: 10k random and bit-flipped list files are refused with a reason, never accepted or crashing', () => {
    const good = pub.sign('ncic', 7, [entry('7ABC123', 'CA'), entry('1AB?', null)]);
    const raw = gunzipSync(good);
    const flips = fc.tuple(fc.nat(raw.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = Buffer.from(raw);
      b[i] = b[i]! ^ x;
      return Math.random() < 0.5 ? gzipSync(b) : b;
    });
    let runs = 0;
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), flips), (bytes) => {
        runs++;
        try {
          verifySignedList(bytes, keys, 1 << 20);
          // Only a flip that lands in ignorable JSON whitespace could still verify; there is none.
          throw new Error('a corrupted list was accepted');
        } catch (err) {
          expect(err).toBeInstanceOf(HotListRejectedError);
        }
      }),
      { numRuns: 10_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(10_000);
  });

  it('fuzz: 10k random and mutated list bodies (behind the signature) parse to valid entries or are refused as invalid-body, never a crash', () => {
    const good = encodeListBody({ name: 'fz', source: 's', version: 1, issuedAt: '2026-01-01T00:00:00.000Z', entries: [entry('7ABC123', 'CA', { reason: 'a\\tb', vehicle: 'V' }), entry('1AB?', null, { expiresAt: '2027-02-03T04:05:06.007Z', fuzzy: true, local: { enteredBy: 'A', caseNumber: 'C', synopsis: 'S', approvedBy: 'B' } })] }).toString('utf8');
    const mutated = fc.tuple(fc.nat(good.length - 1), fc.string({ maxLength: 6 }), fc.nat(4)).map(([at, ins, del]) => good.slice(0, at) + ins + good.slice(at + del));
    const tokens = fc.array(fc.constantFrom('\t', '\n', '\\', '7ABC123', 'CA', 'SVS', '2025-01-01', '0', '1', '?', '*', '{}', good.split('\n')[0]!), { maxLength: 40 }).map((a) => a.join(''));
    let runs = 0;
    let parsed = 0;
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), mutated, tokens), (text) => {
        runs++;
        try {
          const list = parseListBody(Buffer.from(text, 'utf8'));
          parsed++;
          for (const e of list.entries) {
            expect(e.plate).toMatch(/^[A-Z0-9?*]{1,10}$/);
            expect(e.partial).toBe(/[?*]/.test(e.plate));
            expect(Number.isNaN(Date.parse(e.enteredAt))).toBe(false);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(HotListRejectedError);
          expect((err as HotListRejectedError).reason).toBe('invalid-body');
        }
      }),
      { numRuns: 10_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(10_000);
    expect(parsed).toBeGreaterThan(0);
  });

  it('replaces a list atomically with a newer version, refuses a replayed older one, and keeps lists across restarts', () => {
    const state = tempDir('hl-repo-');
    const repo = new HotListRepository(state, keys, 1 << 20);
    repo.install(pub.sign('ncic', 10, [entry('AAA111', null)]));
    repo.install(pub.sign('ncic', 11, [entry('BBB222', null)]));
    expect(() => repo.install(pub.sign('ncic', 10, [entry('AAA111', null)]))).toThrow(expect.objectContaining({ reason: 'replay' }));
    expect(() => repo.install(pub.sign('ncic', 11, [entry('CCC333', null)]))).toThrow(expect.objectContaining({ reason: 'replay' }));
    // No temp files left behind by the atomic replace.
    expect(readdirSync(join(state, 'hotlists', 'lists'))).toEqual(['ncic.hotlist']);
    const again = new HotListRepository(state, keys, 1 << 20).loadAll();
    expect(again.lists.map((l) => [l.name, l.version, l.entries.at(0)!.plate])).toEqual([['ncic', 11, 'BBB222']]);
    // Even with the list file gone, the high-water mark still refuses the replay.
    writeFileSync(join(state, 'hotlists', 'lists', 'ncic.hotlist'), 'garbage');
    expect(new HotListRepository(state, keys, 1 << 20).loadAll().errors).toHaveLength(1);
    expect(() => new HotListRepository(state, keys, 1 << 20).install(pub.sign('ncic', 9, []))).toThrow(expect.objectContaining({ reason: 'replay' }));
  });
});

describe('local entries (P11, P12)', () => {
  const users: UserDirectory = {
    async findUser(name) {
      if (name === 'Sgt. Admin') return { name, role: 'administrator', trainingValid: true };
      if (name === 'Lt. Lapsed') return { name, role: 'administrator', trainingValid: false };
      return name === 'Det. Jones' ? { name, role: 'investigator', trainingValid: true } : undefined;
    },
  };
  const full = { plate: '7ab?12*', enteredBy: 'Det. Jones', caseNumber: '2025-00123', synopsis: 'robbery suspect vehicle', approvedBy: 'Sgt. Admin' };

  it('accepts a complete entry approved by an administrator, marks a wildcard plate partial and sets an expiry', async () => {
    const e = await validateLocalEntry(full, users, 30, Date.parse('2025-06-01T00:00:00Z'));
    expect(e).toMatchObject({ plate: '7AB?12*', partial: true, recordNumber: '2025-00123', expiresAt: '2025-07-01T00:00:00.000Z', local: { enteredBy: 'Det. Jones', approvedBy: 'Sgt. Admin' } });
  });

  it('P11: refuses a missing member name, case number, synopsis or approver, naming the field', async () => {
    for (const field of ['enteredBy', 'caseNumber', 'synopsis', 'approvedBy'] as const) {
      await expect(validateLocalEntry({ ...full, [field]: ' ' }, users, 30)).rejects.toMatchObject({ field, name: 'LocalEntryError' });
    }
  });

  it('P11/P8: refuses an approver who is not an administrator, not a known member, or whose training expired', async () => {
    await expect(validateLocalEntry({ ...full, approvedBy: 'Det. Jones' }, users, 30)).rejects.toThrow(/role investigator; an administrator must approve/);
    await expect(validateLocalEntry({ ...full, approvedBy: 'Nobody' }, users, 30)).rejects.toBeInstanceOf(LocalEntryError);
    await expect(validateLocalEntry({ ...full, approvedBy: 'Lt. Lapsed' }, users, 30)).rejects.toMatchObject({ field: 'approvedBy', message: expect.stringContaining('training has expired') });
  });

  it('refuses an expiry beyond localEntryMaxDays or in the past', async () => {
    await expect(validateLocalEntry({ ...full, expiresAt: '2999-01-01' }, users, 30)).rejects.toMatchObject({ field: 'expiresAt' });
    await expect(validateLocalEntry({ ...full, expiresAt: '2001-01-01' }, users, 30)).rejects.toMatchObject({ field: 'expiresAt' });
  });
});

describe('hot-list extension', () => {
  async function start(maxAgeHours = 24) {
    const dir = tempDir('hl-ext-');
    const pub = makePublisher(dir);
    const config = testConfig('unit-pole', dir, pub.pubFile, {}, { maxAgeHours, checkIntervalS: 1 });
    const ext = new HotListExtension({ changeLog: memoryChangeLog() });
    const events: DeviceEvent[] = [];
    const bus = new DeviceEventBus();
    bus.subscribe((e) => events.push(e));
    await ext.start({ config, logger: pino({ level: 'silent' }), metrics: createMetrics(), events: bus });
    // Stopped however the test ends, so a failed assertion leaves no check timer running.
    onTestFinished(() => ext.stop());
    return { ext, pub, events, dir, bus };
  }

  it('P10: a list older than maxAgeHours turns health degraded and raises a hotlist-stale event; a fresh version clears it', async () => {
    const { ext, pub, events } = await start(24);
    expect(ext.health()).toMatchObject({ status: 'degraded', reason: 'no signed hot list loaded' });
    ext.installSigned(pub.sign('ncic', 1, [entry('7ABC123', null)], new Date(Date.now() - 25 * 3_600_000).toISOString()), 'test');
    expect(ext.health()).toMatchObject({ status: 'degraded', stale: ['ncic'] });
    expect(events.map((e) => e.type)).toEqual(['hotlist-installed', 'hotlist-stale']);
    ext.installSigned(pub.sign('ncic', 2, [entry('7ABC123', null)]), 'test');
    expect(ext.health().status).toBe('ok');
    expect(events.map((e) => e.type)).toContain('hotlist-fresh');
  });

  it('P10: a stale list retired from the shell ends its alarm, and a stale list of that name later raises its own', async () => {
    const { ext, pub, events, dir } = await start(24);
    const old = () => new Date(Date.now() - 25 * 3_600_000).toISOString();
    ext.installSigned(pub.sign('ncic', 1, [entry('7ABC123', null)], old()), 'test');
    expect(events.filter((e) => e.type === 'hotlist-stale')).toHaveLength(1);
    // `alpr-edge hotlist retire` runs in another process on the same state directory.
    const keys = new Map([[pub.keyId, loadPublicKey(readFileSync(pub.pubFile, 'utf8'), pub.keyId)]]);
    new HotListRepository(dir, keys, 1 << 20).retire('ncic');
    await waitFor('the extension to drop the retired list', () => !ext.summaries().some((s) => s.name === 'ncic'));
    ext.installSigned(pub.sign('ncic', 2, [entry('7ABC123', null)], old()), 'test');
    await waitFor('a second hotlist-stale event', () => events.filter((e) => e.type === 'hotlist-stale').length === 2);
  });

  it('a refused list keeps the current one and says why; hits carry the list, entry and match kind', async () => {
    const { ext, pub, events, bus } = await start();
    ext.installSigned(pub.sign('ncic', 3, [entry('7ABC123', 'CA')]), 'test');
    expect(() => ext.installSigned(pub.sign('ncic', 2, []), 'test')).toThrow(/replay/);
    expect(() => ext.installSigned(Buffer.from('not a list'), 'test')).toThrow(HotListRejectedError);
    expect(events.filter((e) => e.type === 'hotlist-refused').map((e) => e.detail['reason'])).toEqual(['replay', 'malformed']);
    const hits: unknown[] = [];
    bus.listen('hit', (h) => hits.push(h));
    await ext.accept(makeRead('7ABC123', 'CA', 'unit-pole'));
    expect(hits).toMatchObject([{ list: { name: 'ncic', version: 3 }, entry: { plate: '7ABC123', type: 'SVS' }, kind: 'exact', requiresVerification: true }]);
  });

  it('picks up a list installed by `alpr-edge hotlist import` (another process) within checkIntervalS', async () => {
    const { ext, pub, dir } = await start();
    const keys = new Map([[pub.keyId, loadPublicKey(readFileSync(pub.pubFile, 'utf8'), pub.keyId)]]);
    new HotListRepository(dir, keys, 1 << 20).install(pub.sign('cli-list', 1, [entry('9CLI999', null)]));
    await waitFor('the extension to load the list another process installed', () => ext.summaries().some((s) => s.name === 'cli-list'));
  });
});
