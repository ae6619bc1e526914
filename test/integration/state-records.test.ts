import { describe, expect, it, onTestFinished } from 'vitest';
import { appendAccessLog, verifyAccessLog } from '../../src/access/access-log.js';
import { SharingRegistry } from '../../src/access/sharing.js';
import { UserDirectory } from '../../src/access/users.js';
import { EX_DATAERR } from '../../src/errors.js';
import { CorruptRecordError } from '../../src/state/records.js';
import { createHold, getHold, listHolds } from '../../src/store/evidence-holds.js';
import { openTestStore, testConfig } from '../support/store-fixtures.js';

// Issue 21 item 2: records of the state database pass one validated decoder (src/state/records.ts)
// instead of casts. A damaged record (a hand edit, a bad disk) is refused naming its sub-database and
// key, never handed on half read; the access log's check reports it as a break in the chain.

function setup() {
  const config = testConfig();
  const { db, store } = openTestStore(config);
  onTestFinished(() => db.root.close());
  return { config, db, store, users: new UserDirectory(db, config.access), sharing: new SharingRegistry(db, config.sharing) };
}

describe('state records pass one validated decoder', () => {
  it('a user record with a role no one has is refused, naming the users table and the name (exit 65), and so is the list', async () => {
    const { db, users } = setup();
    await users.add({ username: 'ivan', role: 'investigator', trainingValidUntil: '2099-01-01', password: 'correct horse battery' }, 'cli:root');
    expect(users.get('ivan')).toMatchObject({ username: 'ivan', role: 'investigator' });
    await db.users.put('ivan', { ...users.get('ivan')!, role: 'superuser' as 'administrator' });
    const err = (() => {
      try {
        users.get('ivan');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CorruptRecordError);
    expect(err).toMatchObject({ field: 'users', exitCode: EX_DATAERR, message: expect.stringMatching(/users record ivan is damaged \(\/role /) });
    expect(() => users.list()).toThrow(CorruptRecordError);
    expect(users.get('nobody')).toBeUndefined();
  });

  it('a sharing request that lost a field is refused naming the shares table and its id', async () => {
    const { db, sharing } = setup();
    const req = sharing.request({ agency: 'Example County Sheriff', agencyState: 'CA', requester: 'Det. Example', purpose: 'stolen vehicle investigation' }, 'ada');
    expect(sharing.get(req.id)).toEqual(req);
    const { purpose: _gone, ...damaged } = req;
    await db.shares.put(req.id, damaged as typeof req);
    expect(() => sharing.get(req.id)).toThrow(new RegExp(`shares record ${req.id} is damaged`));
  });

  it('an access-log entry that is not an entry breaks the chain where it lies instead of crashing the check', async () => {
    const { db } = setup();
    for (const user of ['a', 'b', 'c']) appendAccessLog(db, { user, action: 'login', parameters: {}, result: 'ok' });
    expect(verifyAccessLog(db)).toMatchObject({ ok: true, entries: 3 });
    const second = db.accessLog.get(2)!;
    await db.accessLog.put(2, { ...second, action: 'erase-history' as 'login' });
    expect(verifyAccessLog(db)).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/^entry 2 is not an access-log entry \(\/action /) });
  });

  it('a hold whose query plate is neither text nor a sealed value is refused naming the holds table, and the list with it', async () => {
    const { db, store } = setup();
    createHold(store, { name: 'case-1', caseNumber: '24-0001', reason: 'test evidence', query: { plate: '7TST001', match: 'exact' } }, 'ivan');
    expect(getHold(store, 'case-1')).toMatchObject({ name: 'case-1', query: { plate: '7TST001', match: 'exact' } });
    await db.holds.put('case-1', { ...db.holds.get('case-1')!, query: { plate: 42 as unknown as string } });
    expect(() => getHold(store, 'case-1')).toThrow(/holds record case-1 is damaged \(\/query\/plate /);
    expect(() => listHolds(store)).toThrow(CorruptRecordError);
  });
});
