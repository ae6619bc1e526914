import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VERSION } from '../../src/version.js';

// Issue 22: README and docs/ write every command as `alpr-edge …`; scripts/setup puts that command
// on PATH in a clone (scripts/link-cli). The script as setup runs it, into a scratch bin directory.
const ENTRY = resolve('dist/src/bin.cjs');

function linkCli(binDir: string, args: string[] = [], env: Record<string, string> = {}) {
  const base = { ...process.env };
  delete base['ALPR_EDGE_LINK_FORCE'];
  return spawnSync('scripts/link-cli', args, { encoding: 'utf8', env: { ...base, ALPR_EDGE_BIN_DIR: binDir, ...env }, timeout: 30_000 });
}

/** A second clone's entry point, as its own build leaves it. */
function otherClone(): string {
  const entry = join(mkdtempSync(join(tmpdir(), 'other-clone-')), 'dist', 'src', 'bin.cjs');
  mkdirSync(join(entry, '..'), { recursive: true });
  writeFileSync(entry, '#!/bin/sh\necho other clone\n');
  return entry;
}

describe('alpr-edge on PATH in a clone', () => {
  it('setup links alpr-edge to the build, idempotently, and it runs from any directory', () => {
    expect(readFileSync('scripts/setup', 'utf8')).toMatch(/^scripts\/link-cli$/m);
    const bin = mkdtempSync(join(tmpdir(), 'bin-'));
    const first = linkCli(bin);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain(`link-cli: ${bin}/alpr-edge -> ${ENTRY}`);
    expect(readlinkSync(join(bin, 'alpr-edge'))).toBe(ENTRY);
    const again = linkCli(bin);
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');

    const elsewhere = mkdtempSync(join(tmpdir(), 'cwd-'));
    const env = { ...process.env, PATH: `${bin}:${process.env['PATH']}` };
    const version = spawnSync('alpr-edge', ['--version'], { encoding: 'utf8', cwd: elsewhere, env, timeout: 60_000 });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    const help = spawnSync('alpr-edge', ['hotlist', 'keys', '--help'], { encoding: 'utf8', cwd: elsewhere, env, timeout: 60_000 });
    expect(help.stdout).toContain('Usage: alpr-edge hotlist keys');
  });

  it('leaves a file that is not its link alone (an installed package\'s command)', () => {
    const bin = mkdtempSync(join(tmpdir(), 'bin-'));
    writeFileSync(join(bin, 'alpr-edge'), '#!/bin/sh\necho packaged\n');
    const r = linkCli(bin);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('exists and is not a link (an installed package?); left alone');
    expect(readFileSync(join(bin, 'alpr-edge'), 'utf8')).toContain('packaged');
  });

  it('keeps a link into another clone, saying so in one line and how to take it over; --force or ALPR_EDGE_LINK_FORCE=1 takes it', () => {
    for (const takeOver of [['--force'], 'env'] as const) {
      const bin = mkdtempSync(join(tmpdir(), 'bin-'));
      const other = otherClone();
      symlinkSync(other, join(bin, 'alpr-edge'));
      const kept = linkCli(bin);
      expect(kept.status, kept.stderr).toBe(0);
      expect(kept.stderr.trim().split('\n')).toHaveLength(1);
      expect(kept.stderr).toContain(`link-cli: ${bin}/alpr-edge points to another clone (${other}); left alone.`);
      expect(kept.stderr).toContain('--force');
      expect(kept.stderr).toContain('ALPR_EDGE_BIN_DIR');
      expect(readlinkSync(join(bin, 'alpr-edge'))).toBe(other);
      const taken = takeOver === 'env' ? linkCli(bin, [], { ALPR_EDGE_LINK_FORCE: '1' }) : linkCli(bin, [...takeOver]);
      expect(taken.status, taken.stderr).toBe(0);
      expect(taken.stderr).toContain(`link-cli: ${bin}/alpr-edge -> ${ENTRY}`);
      expect(readlinkSync(join(bin, 'alpr-edge'))).toBe(ENTRY);
    }
  });

  it('re-points a link whose clone is gone (nothing else uses it)', () => {
    const bin = mkdtempSync(join(tmpdir(), 'bin-'));
    symlinkSync(join(tmpdir(), 'no-such-clone', 'dist', 'src', 'bin.cjs'), join(bin, 'alpr-edge'));
    const r = linkCli(bin);
    expect(r.status, r.stderr).toBe(0);
    expect(readlinkSync(join(bin, 'alpr-edge'))).toBe(ENTRY);
  });

  it('README and docs/ write commands as alpr-edge, not node dist/src/bin.cjs', () => {
    for (const file of ['README.md', 'docs/device.md', 'docs/operations.md', 'docs/hotlists.md', 'docs/mqtt-api.md']) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/^node dist\/src\/bin\.cjs /m);
    }
  });
});
