import { describe, expect, it } from 'vitest';
import { SelftestRunner } from '../../src/device/selftest-runner.js';
import { FAKE_SELFTEST } from '../support/console-app.js';

// The console's self-test runs `alpr-edge selftest --json` as a child process, never in the daemon.

const script = (js: string) => [process.execPath, '-e', js];

describe('SelftestRunner', () => {
  it('answers the child\'s checks with their advice, leaving out the camera and pins the daemon holds', async () => {
    const r = await new SelftestRunner({ configFile: 'c.json', command: FAKE_SELFTEST }).run();
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.check === 'clock')).toMatchObject({ status: 'warn', next: 'enable NTP (timedatectl set-ntp true)' });
  });

  it('a second request while one runs joins it, and the newest report is kept', async () => {
    const runner = new SelftestRunner({ configFile: 'c.json', command: script(`setTimeout(() => process.stdout.write(JSON.stringify({ ok: true, checks: [{ check: 'n', status: 'pass', detail: String(process.pid), next: '' }] })), 300)`) });
    const [a, b] = [runner.run(), runner.run()];
    expect(a).toBe(b);
    const report = await a;
    expect(runner.lastReport()).toBe(report);
    expect((await runner.run()).checks[0]!.detail).not.toBe(report.checks[0]!.detail);
  });

  it('stops a child that takes longer than the limit and says so', async () => {
    const r = await new SelftestRunner({ configFile: 'c.json', command: script('setTimeout(() => {}, 60000)'), timeoutMs: 300 }).run();
    expect(r).toMatchObject({ ok: false, checks: [{ check: 'selftest', status: 'fail', detail: expect.stringContaining('did not finish') }] });
  });

  it('a child that answers no report is a failed check naming its last line, not an exception', async () => {
    const r = await new SelftestRunner({ configFile: 'c.json', command: script('console.error("config: no such file"); process.exit(78)') }).run();
    expect(r).toMatchObject({ ok: false, checks: [{ check: 'selftest', status: 'fail', detail: 'exited 78 without a report: config: no such file' }] });
  });
});
