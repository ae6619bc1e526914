import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { signAnchor } from '../../src/access/anchors.js';
import { validateConfig } from '../../src/config/load.js';
import { openStoreForTest } from '../support/store-fixtures.js';

// Issue 20 §1 (P6): `alpr-edge audit verify --anchors FILE` over SSH (the compiled CLI, a real LMDB
// state directory), against heads the device signed, as `watch` saves them.
const MAIN = 'dist/src/bin.cjs';

describe('audit verify --anchors', { timeout: 240_000 }, () => {
  it('P6: audit verify --anchors passes on the anchored log and fails naming the missing tail once the end is cut and the head rewritten', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-anchors-'));
    const raw = { deviceId: 'anchored-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw));
    const cli = (args: string[]) => spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', timeout: 60_000 });
    const anchorsFile = join(dir, 'anchors.jsonl');
    const config = validateConfig(raw);
    {
      const { db, keys } = openStoreForTest(config);
      for (let i = 0; i < 6; i++) appendAccessLog(db, { user: 'ivan', action: 'search', parameters: { reason: `r${i}` }, result: 'ok' });
      writeFileSync(anchorsFile, [signAnchor(db, 'anchored-pole', keys, Date.now() - 60_000), signAnchor(db, 'anchored-pole', keys)].map((a) => JSON.stringify({ messageId: 'x'.repeat(26), ...a })).join('\n') + '\n');
      await db.root.close();
    }
    const ok = cli(['audit', 'verify', '--anchors', anchorsFile]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, anchors: { ok: true, anchors: 2, lastMatchingSeq: 6 } });

    // Cut the last two entries and point the head at entry 4: the chain alone still verifies.
    {
      const { db } = openStoreForTest(config);
      await db.accessLog.remove(6);
      await db.accessLog.remove(5);
      const e4 = db.accessLog.get(4) as AccessLogEntry;
      await db.meta.put('access-log.head', { seq: 4, hash: e4.hash });
      await db.root.close();
    }
    expect(cli(['audit', 'verify']).status).toBe(0);
    const cut = cli(['audit', 'verify', '--anchors', anchorsFile]);
    expect(cut.status).toBe(1);
    expect(JSON.parse(cut.stdout)).toMatchObject({ ok: false, anchors: { missingTail: { anchoredSeq: 6, localHeadSeq: 4 } } });
    expect(cut.stdout).toContain('missing tail');

    writeFileSync(join(dir, 'garbage.jsonl'), '{"seq": 1}\nnot json\n');
    const garbage = cli(['audit', 'verify', '--anchors', join(dir, 'garbage.jsonl')]);
    expect(garbage.status).toBe(65);
    expect(garbage.stderr.trim()).toMatch(/^alpr-edge: .*garbage\.jsonl line 2 is not JSON/);
  });
});
