import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEntryStore } from '../../src/hotlist/local-entries.js';
import { openDeviceKeys } from '../../src/state/device-keys.js';
import { entry, makePublisher } from '../support/mqtt-harness.js';

// `hotlist status` on a fresh device (issue 22): no `local` list issued 1970-01-01, 499,031 hours
// old; the local list appears once it has had an entry. The compiled CLI, a real state directory.
const MAIN = 'dist/src/bin.cjs';

interface StatusRow { name: string; version: number; issuedAt: string; entries: number; ageHours: number }

describe('hotlist status', () => {
  it('shows no local list on a fresh device, and the local list with its real age once it has an entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotlist-status-'));
    const publisher = makePublisher(dir);
    const stateDir = join(dir, 'state');
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ deviceId: 'status-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir, log: { level: 'warn' }, hotlists: { publisherKeys: [{ id: publisher.keyId, file: publisher.pubFile }] } }));
    const status = () => {
      const r = spawnSync('node', [MAIN, 'hotlist', 'status', '--config', configFile], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return { text: r.stdout, lists: (JSON.parse(r.stdout) as { lists: StatusRow[] }).lists };
    };

    const fresh = status();
    expect(fresh.lists).toEqual([]);
    expect(fresh.text).not.toContain('1970');

    // A local entry as `hotlist add` stores it (sealed with the device keys).
    new LocalEntryStore(stateDir, openDeviceKeys(stateDir)).add(entry('7STA001', 'CA', { local: { enteredBy: 'ivan', caseNumber: 'C-1', approvedBy: 'ada', synopsis: 'test' } }));
    const after = status().lists;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ name: 'local', version: 1, entries: 1 });
    expect(after[0]!.ageHours).toBeLessThan(1);
    expect(Date.parse(after[0]!.issuedAt)).toBeGreaterThan(Date.parse('2020-01-01'));
  });
});
