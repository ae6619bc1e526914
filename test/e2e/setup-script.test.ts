import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

// Issue 22: scripts/setup on a machine whose Node cannot run alpr-edge says so in one line, first,
// and installs nothing (exit 69, unavailable). The real script runs; only `node` is a stand-in.

const SETUP = join(import.meta.dirname, '../../scripts/setup');

function binDir(tools: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'setup-node-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync('/usr/bin/dirname', join(dir, 'dirname'));
  for (const t of ['apt-get', 'dpkg-query', 'npm', 'sudo']) {
    // What setup would run after the check: each says that it ran, so the test sees it did not.
    writeFileSync(join(dir, t), `#!/bin/sh\necho "ran ${t}" >&2\nexit 1\n`);
    chmodSync(join(dir, t), 0o755);
  }
  for (const [name, body] of Object.entries(tools)) {
    writeFileSync(join(dir, name), body);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

describe('scripts/setup checks Node first', () => {
  it('Node 18 (Debian 12\'s own): exit 69 naming the version and what to install; nothing installed', () => {
    const dir = binDir({ node: '#!/bin/sh\nif [ "$1" = "-v" ]; then echo v18.19.0; else echo 18; fi\n' });
    const r = spawnSync('/bin/bash', [SETUP], { encoding: 'utf8', env: { PATH: dir }, timeout: 60_000 });
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('Node.js v18.19.0');
    expect(r.stderr).toContain('needs Node.js 20 or newer');
    expect(r.stderr).not.toContain('ran ');
  });

  it('no node on PATH: exit 69 saying Node 20 is needed', () => {
    const dir = binDir({});
    const r = spawnSync('/bin/bash', [SETUP], { encoding: 'utf8', env: { PATH: dir }, timeout: 60_000 });
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('no `node` on PATH');
    expect(r.stderr).toContain('Node.js 20 or newer');
    expect(r.stderr).not.toContain('ran ');
  });
});
