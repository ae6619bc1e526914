import { describe, expect, it, onTestFinished } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessLogEntry } from '../../src/access/access-log.js';
import { SharingRegistry } from '../../src/access/sharing.js';
import { checkConfigForRun } from '../../src/cli/config-check.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { openTestStore, testConfig } from '../support/store-fixtures.js';

// Issue 20 §4: sharing requests (P14) on a real LMDB state directory, as `share request` and
// POST /api/v1/shares record them.
function registry(sharing: Record<string, unknown> = {}) {
  const config = testConfig({}, { sharing });
  const { db } = openTestStore(config);
  onTestFinished(() => db.root.close());
  const ask = (agency: string, purpose = 'armed robbery 24-77', requester = 'Det. Lee', agencyState = 'CA') => new SharingRegistry(db, config.sharing).request({ agency, agencyState, requester, purpose }, 'ivan');
  const log = () => [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry);
  return { ask, log };
}

describe('sharing requests and immigration agencies (P14)', () => {
  it('P14: an immigration agency under another name, an abbreviation or look-alike characters is refused, not left pending', () => {
    const { ask, log } = registry();
    const agencies = [
      'Enforcement and Removal Operations, San Francisco Field Office',
      'ERO San Francisco',
      'E.R.O.',
      'Homeland Security Investigations',
      'HSI Special Agent in Charge, San Diego',
      'U.S. Department of Homeland Security',
      'Dept. of Homeland Security',
      'DHS',
      'CBP',
      'U.S. Border Patrol, El Centro Sector',
      'USCIS Fraud Detection and National Security',
      'Executive Office for Immigration Review',
      'I.C.E.',
      'ＩＣＥ', // full width
      'ІСЕ', // Cyrillic І, С, Е
      'Іmmіgratіon and Customs Enforcement', // Cyrillic і
      'Imm\u200Bigration and Customs Enforcement', // zero-width space
      'Immi-gration & Customs Enforcement',
      'Ímmigratión and Customs Enforcement',
      'ɪᴄᴇ', // small capitals
      'Imm1gration and Cust0ms Enforcement',
      'Cus toms and Bor der Pro tection',
    ];
    for (const agency of agencies) {
      const r = ask(agency);
      expect(r.status, agency).toBe('refused');
      expect(r.refusal, agency).toMatch(/California Values Act/);
    }
    const purposes = ['Іmmіgration status check', 'deportaciόn', 'd e p o r t a t i o n case', 'locate ICE fugitive', 'expedited removal', 'I-247A detainer follow-up', 'visa overstay', '8 U.S.C. 1326'];
    for (const purpose of purposes) expect(ask('Task Force 7', purpose).status, purpose).toBe('refused');
    expect(ask('Regional Task Force', 'fugitive', 'SA Smith (HSI)').status).toBe('refused');
    const refusals = log().filter((e) => e.action === 'share.refuse');
    expect(refusals).toHaveLength(agencies.length + purposes.length + 1);
    expect(refusals.every((e) => e.result === 'refused')).toBe(true);
    // The refusal names what matched, for the auditor.
    expect(ask('ERO San Francisco').refusal).toContain('Enforcement and Removal Operations ("ERO")');
  });

  it('P14: ordinary requests from local agencies still go to an administrator', () => {
    const { ask } = registry();
    for (const [agency, purpose] of [
      ['Oakland PD', 'homicide 24-1001'],
      ['San José Police Department', 'ice cream truck robbery 24-9'],
      ['Fresno County Sheriff\'s Office', 'stolen Audi 200, 24-3'],
      ['Alameda County District Attorney', 'police officer assault, removal of evidence 24-12'],
      ['Office of Field Operations, Santa Rosa PD', 'carjacking'],
    ]) expect(ask(agency!, purpose).status, `${agency}: ${purpose}`).toBe('pending');
  });

  it('P14: with an MOU list set, any agency not on it is refused outright; listed ones, in their state, go to an administrator', () => {
    const { ask } = registry({ inStateOnly: false, allowedAgencies: [{ name: 'San José Police Department', state: 'CA', aliases: ['SJPD'] }, { name: 'Reno Police Department', state: 'NV' }] });
    expect(ask('San Jose Police Department').status).toBe('pending');
    expect(ask('sjpd').status).toBe('pending');
    expect(ask('Reno Police Department', 'robbery', 'Det. Y', 'NV').status).toBe('pending');
    const other = ask('Oakland PD');
    expect(other).toMatchObject({ status: 'refused', refusal: expect.stringContaining('sharing.allowedAgencies') });
    expect(ask('Reno Police Department', 'robbery', 'Det. Y', 'CA').status).toBe('refused');
    // The MOU list never lets an immigration agency in.
    expect(ask('SJPD', 'deportation').status).toBe('refused');
  });

  it('P14: config check refuses an immigration agency on the MOU list, and one inStateOnly would always refuse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sharing-config-'));
    const check = (sharing: Record<string, unknown>) => {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ deviceId: 'p', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), sharing }));
      try {
        checkConfigForRun(loadConfig(file), file);
        return undefined;
      } catch (err) {
        return err as ConfigError;
      }
    };
    expect(check({ allowedAgencies: [{ name: 'Fresno PD', state: 'CA' }] })).toBeUndefined();
    expect(check({ allowedAgencies: [{ name: 'Fresno PD', state: 'CA' }, { name: 'Task Force', state: 'CA', aliases: ['ICE ERO'] }] })).toMatchObject({ field: 'sharing.allowedAgencies.1.aliases.0' });
    expect(check({ allowedAgencies: [{ name: 'Homeland Security Investigations', state: 'CA' }] })).toMatchObject({ field: 'sharing.allowedAgencies.0.name' });
    expect(check({ allowedAgencies: [{ name: 'Reno PD', state: 'NV' }] })).toMatchObject({ field: 'sharing.allowedAgencies.0.state' });
    expect(check({ allowedAgencies: [{ name: 'Reno PD', state: 'NV' }], inStateOnly: false })).toBeUndefined();
  });
});
