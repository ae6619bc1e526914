import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/gst.js';

// Issue 21 item 7: the commands a technician runs over SSH load only what they use. Each command
// runs in a child with a module hook (test/support/loaded-modules.mjs) that lists every module it
// loads; the test checks that list, never how long the command took.
const MAIN = 'dist/src/bin.cjs';
const HEAVY = [/\/node_modules\/onnxruntime-node\//, /\/node_modules\/sharp\//, /\/node_modules\/fastify\//];

function loadedModules(args: string[], stdin = ''): { status: number | null; stderr: string; urls: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'cli-modules-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'modules.txt');
  writeFileSync(file, '');
  const r = spawnSync('node', ['--import', './test/support/loaded-modules.mjs', MAIN, ...args], {
    encoding: 'utf8',
    input: stdin,
    timeout: 60_000,
    env: { ...process.env, LOADED_MODULES_FILE: file },
  });
  const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => line.split(' ')[1]!);
  return { status: r.status, stderr: r.stderr, urls };
}

function heavy(urls: string[]): string[] {
  return urls.filter((u) => HEAVY.some((re) => re.test(u)));
}

describe('what each CLI command loads', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-modules-state-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ deviceId: 'modules-pole', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: join(dir, 'state'), log: { level: 'warn' } }));

  it('--version loads commander and our command tables only: no native addon, no LMDB, no Ajv', () => {
    const r = loadedModules(['--version']);
    expect(r.status, r.stderr).toBe(0);
    const packages = new Set(r.urls.filter((u) => u.includes('/node_modules/')).map((u) => u.split('/node_modules/')[1]!.split('/')[0]));
    expect([...packages]).toEqual(['commander']);
    // The hook saw the entry point, so an empty list above is not a hook that saw nothing.
    expect(r.urls.some((u) => u.endsWith('/dist/src/main.js'))).toBe(true);
  });

  it('the hook does see onnxruntime and sharp when a command uses them (selftest)', () => {
    const r = loadedModules(['selftest', '--skip', 'camera', 'gpio', '--json', '-c', configFile]);
    expect(heavy(r.urls).map((u) => u.split('/node_modules/')[1]!.split('/')[0])).toEqual(expect.arrayContaining(['onnxruntime-node', 'sharp']));
  });

  it('status, user, audit and hotlist never load onnxruntime, sharp or Fastify', async () => {
    const port = await freePort();
    const commands: [string[], string][] = [
      [['status', '--url', `http://127.0.0.1:${port}`], ''],
      [['user', 'add', 'ada', '--role', 'administrator', '--training-until', '2099-12-31', '-c', configFile], 'ada password 123\n'],
      [['user', 'list', '-c', configFile], ''],
      [['audit', 'verify', '-c', configFile], ''],
      [['hotlist', 'status', '-c', configFile], ''],
      [['hotlist', 'keys', 'list', '-c', configFile], ''],
    ];
    for (const [args, stdin] of commands) {
      const r = loadedModules(args, stdin);
      // Each ran to its end (status: no daemon, exit 69), so the list covers the whole command.
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(args[0] === 'status' ? 69 : 0);
      expect(heavy(r.urls), args.join(' ')).toEqual([]);
    }
  });

  it('read of a still loads onnxruntime and sharp but not GStreamer, the capture code, the tracker, TypeBox (the config schema: precompiled), the progress bar or pino (issue 23, start-up)', () => {
    const r = loadedModules(['read', 'test/fixtures/scenes/one-car.jpg']);
    expect(r.status, r.stderr).toBe(0);
    expect(heavy(r.urls).map((u) => u.split('/node_modules/')[1]!.split('/')[0])).toEqual(expect.arrayContaining(['onnxruntime-node', 'sharp']));
    expect(r.urls.filter((u) => /\/dist\/src\/(capture|pipeline)\//.test(u) || u.includes('gst_capture'))).toEqual([]);
    expect(r.urls.filter((u) => /\/node_modules\/(@sinclair\/typebox|cli-progress|pino)\//.test(u))).toEqual([]);
  });
});
