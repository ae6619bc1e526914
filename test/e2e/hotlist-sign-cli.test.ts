import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Issue 20 §5: the publisher's `hotlist sign`, as the compiled CLI in a child process. A mistake in
// what it is given is one line naming what to fix and exit 65, never a stack trace.
const MAIN = 'dist/src/bin.cjs';
const dir = mkdtempSync(join(tmpdir(), 'hotlist-sign-'));

function cli(args: string[]) {
  return spawnSync('node', [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('alpr-edge hotlist sign', { timeout: 120_000 }, () => {
  it('P10: a list name like ../../x is refused in one line with exit 65, nothing written; other bad input likewise', () => {
    expect(cli(['hotlist', 'keygen', '--private', join(dir, 'k.pem'), '--public', join(dir, 'k.pub.pem')]).status).toBe(0);
    const csv = join(dir, 'list.csv');
    writeFileSync(csv, 'plate,state,type,reason,record_number,entered\n7ABC123,CA,SVS,stolen,V1,2025-01-01\n');
    const work = mkdtempSync(join(dir, 'out-'));
    const sign = (over: Record<string, string>) => {
      const o = { '--name': 'ca-doj-svs', '--source': 'CA DOJ SVS', '--key': join(dir, 'k.pem'), '--key-id': 'agency', '--out': join(work, 'list.hotlist'), ...over };
      return cli(['hotlist', 'sign', over['input'] ?? csv, ...Object.entries(o).filter(([k]) => k.startsWith('--')).flat()]);
    };
    const refused = [
      [sign({ '--name': '../../x' }), /name must match pattern .* \(got "\.\.\/\.\.\/x"\)/],
      [sign({ '--key': join(dir, 'list.csv') }), /key is not a PEM private key/],
      [sign({ '--key': join(dir, 'no-such.pem') }), /--key .*no-such\.pem: ENOENT/],
      [sign({ input: join(dir, 'no-such.csv') }), /input .*no-such\.csv: ENOENT/],
      [sign({ '--issued-at': 'yesterday' }), /--issued-at must be an ISO 8601 time/],
      [sign({ '--out': join(dir, 'no-such-dir', 'x.hotlist') }), /--out .*: ENOENT/],
    ] as const;
    for (const [r, says] of refused) {
      expect(r.status, r.stderr).toBe(65);
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(readdirSync(work)).toEqual([]);
    const ok = sign({});
    expect(ok.status, ok.stderr).toBe(0);
    expect(readdirSync(work)).toEqual(['list.hotlist']);
  });
});
