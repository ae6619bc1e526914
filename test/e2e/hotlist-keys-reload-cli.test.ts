import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entry, makePublisher, tempDir, waitFor } from '../support/mqtt-harness.js';

// Issue 22: a running daemon learns new publisher keys and config. The daemon is the compiled CLI's
// `run` in a child process, as systemd starts it; `hotlist keys` and `hotlist import` (an
// administrator, P11) are the CLI as run over SSH; SIGHUP is what `systemctl reload alpr-edge` sends (ExecReload).
const MAIN = 'dist/src/bin.cjs';
const ADA = 'ada password 123';

interface HotListHealth {
  status: string;
  lists: { name: string; version: number }[];
  publisherKeys: string[];
  reason?: string;
}

describe('publisher keys and config reload on a running daemon', { timeout: 240_000 }, () => {
  it('hotlist keys add, import warns the daemon does not trust the key yet, SIGHUP loads it and names settings that need a restart', async () => {
    const dir = tempDir('hotlist-keys-');
    const pub = makePublisher(dir);
    const configFile = join(dir, 'config.json');
    const stateDir = join(dir, 'state');
    writeFileSync(configFile, JSON.stringify({
      deviceId: 'keys-pole',
      location: { latitude: 37.77, longitude: -122.42, headingDeg: 90 },
      cameras: [{ id: 'cam1', uri: 'test://?width=320&height=240&fps=5' }],
      http: { port: 0 },
      log: { level: 'info' },
      stateDir,
      hotlists: { checkIntervalS: 1 },
    }));
    const cli = (args: string[], stdin = '') => spawnSync('node', [MAIN, ...args, '--config', configFile], { encoding: 'utf8', input: stdin, timeout: 60_000 });
    // P11: `hotlist import` is an administrator's act.
    expect(cli(['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31'], `${ADA}\n`).status).toBe(0);

    const child = spawn('node', [MAIN, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const logLines = () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => stderr.includes('"msg":"running"'), 90_000, `the daemon to start: ${stderr}`);
    const address = /"http":"(http:\/\/[^"]+)"/.exec(stderr)![1]!;
    const hotlist = async () => ((await (await fetch(`${address}/healthz`)).json()) as { components: { hotlist: HotListHealth } }).components.hotlist;
    expect(await hotlist()).toMatchObject({ status: 'degraded', lists: [], publisherKeys: [], reason: 'no signed hot list loaded' });

    // The key goes into the config; the running daemon does not have it yet, and the command says so.
    const added = cli(['hotlist', 'keys', 'add', '--id', pub.keyId, '--file', pub.pubFile]);
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toContain(`added publisher key ${pub.keyId} (sha256 `);
    expect(added.stdout).toContain(`the running daemon (pid ${child.pid}) trusts it after: sudo systemctl reload alpr-edge`);
    const copy = join(dir, 'publisher-keys', `${pub.keyId}.pem`);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(pub.pubFile, 'utf8'));
    const listed = cli(['hotlist', 'keys', 'list', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ keys: [{ id: pub.keyId, file: copy, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), daemonTrusts: false }], daemon: { pid: child.pid, keyIds: [] } });
    expect(cli(['hotlist', 'keys', 'add', '--id', 'again', '--file', pub.pubFile]).stderr).toContain(`this key is configured already as "${pub.keyId}"`);

    // The import succeeds (the CLI reads the new config) but warns: this daemon would not load the list.
    const listFile = join(dir, 'ncic.hotlist');
    writeFileSync(listFile, pub.sign('ncic', 5, [entry('KEY0001', 'CA')]));
    const imported = cli(['hotlist', 'import', listFile, '--as', 'ada'], `${ADA}\n`);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).toContain(`warning: the running daemon (pid ${child.pid}) does not trust key "${pub.keyId}" yet and will not load this list: sudo systemctl reload alpr-edge`);
    await waitFor(() => stderr.includes('stored hot list does not verify; not loaded'), 15_000, 'the daemon to try the new list');
    expect((await hotlist()).lists).toEqual([]);

    // One live change (maxAgeHours) and one that needs a restart (minFrames), then systemctl reload.
    const raw = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, Record<string, unknown>>;
    writeFileSync(configFile, JSON.stringify({ ...raw, thresholds: { minFrames: 3 }, hotlists: { ...raw['hotlists'], maxAgeHours: 48 } }));
    child.kill('SIGHUP');
    await waitFor(() => stderr.includes('"msg":"configuration reloaded"'), 15_000, 'the reload');
    const reloaded = logLines().find((l) => l['msg'] === 'configuration reloaded')!;
    expect(reloaded).toMatchObject({ ok: true, applied: ['hotlists.maxAgeHours', 'hotlists.publisherKeys'] });
    const restart = logLines().find((l) => String(l['msg']).startsWith('changed settings need a restart'));
    expect(restart).toMatchObject({ level: 40, settings: ['thresholds.minFrames'] });
    expect(child.exitCode).toBeNull();
    expect(await hotlist()).toMatchObject({ status: 'ok', lists: [{ name: 'ncic', version: 5 }], publisherKeys: [pub.keyId] });

    // Now the daemon trusts the key: no warning.
    writeFileSync(listFile, pub.sign('ncic', 6, [entry('KEY0001', 'CA')]));
    const again = cli(['hotlist', 'import', listFile, '--as', 'ada'], `${ADA}\n`);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('warning');
    // The daemon takes it at its next hot-list check (hotlists.checkIntervalS, 1 s here).
    await waitFor(() => logLines().some((l) => l['msg'] === 'hot lists loaded' && JSON.stringify(l['lists']).includes('"version":6')), 15_000, 'the daemon to load version 6');

    // A config the daemon would refuse at start is refused on reload too; the daemon keeps its keys.
    writeFileSync(configFile, JSON.stringify({ ...raw, hotlists: { publisherKeys: [{ id: pub.keyId, file: join(dir, 'gone.pem') }] } }));
    child.kill('SIGHUP');
    await waitFor(() => stderr.includes('configuration not reloaded'), 15_000, 'the refused reload');
    expect(logLines().find((l) => String(l['msg']).startsWith('configuration not reloaded'))!['err']).toContain('hotlists.publisherKeys.0.file');
    expect(await hotlist()).toMatchObject({ lists: [{ name: 'ncic', version: 6 }], publisherKeys: [pub.keyId] });
    writeFileSync(configFile, JSON.stringify(raw));

    // Removing the key says which stored lists stop loading, and that the daemon still has it until a reload.
    const removed = cli(['hotlist', 'keys', 'remove', '--id', pub.keyId]);
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`the running daemon (pid ${child.pid}) stops trusting it after: sudo systemctl reload alpr-edge`);
    expect(removed.stdout).toContain('stored lists no longer loaded: ncic.hotlist');
    expect(existsSync(copy)).toBe(false);
    expect(cli(['hotlist', 'keys', 'list']).stdout).toContain(`the running daemon still trusts removed key(s) ${pub.keyId}`);

    child.kill('SIGTERM');
    expect(await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))).toBe(0);
    expect(existsSync(join(stateDir, 'hotlists', 'daemon-keys.json'))).toBe(false);
  });
});
