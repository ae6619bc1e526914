import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { openStoreForTest, testConfig } from '../support/store-fixtures.js';

// A real child process writing reads and access-log entries is killed with SIGKILL at random
// moments; every write it acknowledged (printed after commit) must be there afterwards, decryptable,
// and the access-log chain must verify. Needs the compiled tree (scripts/setup runs `tsc -b`).
const CHILD = 'test/support/store-crash-child.mjs';
const KILLS = 24;

function runAndKill(stateDir: string, killAfterMs: number): Promise<{ reads: string[]; log: Map<number, string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!timer && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child ended by itself (code ${code}): ${err}`));
      const reads: string[] = [];
      const log = new Map<number, string>();
      // Only complete lines count as acknowledged: a line cut by the kill was never acknowledged.
      for (const line of out.split('\n').slice(0, -1)) {
        const [kind, ...rest] = line.split(' ');
        if (kind === 'R') reads.push(...rest);
        if (kind === 'L') log.set(Number(rest[0]), rest[1]!);
      }
      resolve({ reads, log });
    });
  });
}

// 24 child processes, each a Node start: minutes on a busy machine.
describe('store crash safety (SIGKILL)', { timeout: 300_000 }, () => {
  it(`keeps every acknowledged read and log entry across ${KILLS} kills, and the chain verifies`, async () => {
    expect(existsSync('dist/src/store/read-store.js'), 'run `node_modules/.bin/tsc -b` first').toBe(true);
    const config = testConfig();
    let totalReads = 0;
    let totalLog = 0;
    for (let k = 0; k < KILLS; k++) {
      const acked = await runAndKill(config.stateDir, 20 + Math.floor(Math.random() * 250));
      const { store, db } = openStoreForTest(config);
      for (const id of acked.reads) expect(store.get(id)?.id, `read ${id} acknowledged before kill ${k}`).toBe(id);
      for (const [seq, hash] of acked.log) expect((db.accessLog.get(seq) as AccessLogEntry | undefined)?.hash, `log entry ${seq} before kill ${k}`).toBe(hash);
      const chain = verifyAccessLog(db);
      expect(chain, `chain after kill ${k}`).toMatchObject({ ok: true });
      expect(store.search({ limit: 5 }).skippedCorrupt).toBe(0);
      totalReads += acked.reads.length;
      totalLog += acked.log.size;
      await db.root.close();
    }
    expect(totalReads).toBeGreaterThan(KILLS);
    expect(totalLog).toBeGreaterThan(KILLS);
  });
});
