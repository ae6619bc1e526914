import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

// Issue 22: a refusal of the compiled CLI that cites a rule says where the rule table is on this
// installation (docs/policy.md next to dist/), so "(P8)" can be looked up on the device itself.

describe('CLI refusals cite docs/policy.md', () => {
  it('an investigator added without a training date is refused citing P8, with the path of the rule table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-pointer-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ deviceId: 'pointer-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } }));
    const r = spawnSync('node', ['dist/src/bin.cjs', 'user', 'add', 'ivan', '--role', 'investigator', '--config', config], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('(P8)');
    expect(r.stderr).toContain(`(rules: ${resolve('docs/policy.md')})`);
  });

  it('the help names the rule table too', () => {
    const r = spawnSync('node', ['dist/src/bin.cjs', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Rule ids P1–P17 cited in help and messages: docs/policy.md');
  });
});
