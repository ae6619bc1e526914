// Start-up as a person or systemd meets it, measured by spawning the CLI (never in tests):
// `alpr-edge read` of one image (process start to exit) and `alpr-edge run` to its first analysed
// frame. Each is spawned RUNS times; the targets are judged on the median, and each run is kept.
// `node dist/scripts/bench-startup.js [PASSES]` runs this pass alone (npm run bench runs it too).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const STARTUP_TARGETS = { readOneImageS: 0.8, runFirstFrameS: 2 } as const;

const RUNS = 3;
/** How often /healthz is asked whether a frame was analysed: the resolution of the `run` figure. */
const POLL_MS = 20;
/** A start that takes this long has failed, whatever the machine's load. */
const GIVE_UP_MS = 60_000;
/** USER_HZ: the unit of /proc/PID/stat's times on every Linux architecture we ship for. */
const CLOCK_TICKS_PER_S = 100;

export interface StartupRun {
  wallS: number;
  /** CPU of the whole process (user + system), from bash's `times` for its child. */
  cpuS: number | null;
}

export interface RunStartup {
  /** Process start to first analysed frame (healthz polled every POLL_MS). */
  wallS: number;
  /** CPU of the daemon (user + system) up to then, from /proc; null where there is no /proc. */
  cpuS: number | null;
  /** Milestones from the daemon's own log timestamps, seconds after the spawn. */
  modelsLoadedS: number | null;
  httpListeningS: number | null;
}

export interface StartupResults {
  read: { image: string; runs: StartupRun[]; medianWallS: number };
  run: { clip: string; runs: RunStartup[]; medianWallS: number };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

/** `alpr-edge read IMAGE`, RUNS times, wall and CPU each. */
async function readOnce(root: string, image: string): Promise<StartupRun> {
  // bash's `times` prints the children's user and system time: the CLI's CPU without a stopwatch inside it.
  const cli = join(root, 'dist/src/bin.cjs');
  const started = performance.now();
  const out = await new Promise<string>((done, fail) => {
    const child = spawn('bash', ['-c', '"$0" "$1" read "$2" >/dev/null && times', process.execPath, cli, image], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(text) : fail(new Error(`read ${image} exited ${code}: ${err.trim().slice(-300)}`))));
  });
  const wallS = (performance.now() - started) / 1000;
  return { wallS, cpuS: childCpuS(out) };
}

/** The second line of `times` ("0m0.590s 0m0.150s"): the children's user and system time. */
export function childCpuS(timesOutput: string): number | null {
  const line = timesOutput.trim().split('\n')[1];
  const m = line === undefined ? null : /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line.trim());
  if (!m) return null;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

/** `alpr-edge run` on a file camera, until /healthz reports the first analysed frame; then SIGTERM. */
async function runOnce(root: string, clip: string, dir: string): Promise<RunStartup> {
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    deviceId: 'bench-startup',
    location: { latitude: 37.7793, longitude: -122.4193, headingDeg: 90, description: 'bench start-up' },
    cameras: [{ id: 'startup-cam', uri: pathToFileURL(clip).href, realtime: true }],
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    stateDir: join(dir, 'state'),
  }));
  const started = performance.now();
  const spawnedAtMs = Date.now();
  const child = spawn(process.execPath, [join(root, 'dist/src/bin.cjs'), 'run', '--config', configFile], { cwd: root, env: { ...process.env, ALPR_EDGE_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: { address?: string; modelsAt?: string; httpAt?: string; lastLine?: string } = {};
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        seen.lastLine = line;
        try {
          const e = JSON.parse(line) as { msg?: string; address?: string; time?: string };
          if (e.msg === 'models loaded and warmed up') seen.modelsAt = e.time;
          if (e.msg === 'http server listening' && e.address) {
            seen.address = e.address;
            seen.httpAt = e.time;
          }
        } catch {
          // Not a log line (a native library's own output): only kept as the last line for errors.
        }
      }
    });
  }
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`run exited before its first analysed frame: ${seen.lastLine ?? ''}`);
      if (performance.now() - started > GIVE_UP_MS) throw new Error(`run: no analysed frame within ${GIVE_UP_MS / 1000} s`);
      if (seen.address !== undefined && (await framesAnalysed(seen.address)) > 0) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const wallS = (performance.now() - started) / 1000;
    const cpuS = processCpuS(child.pid!);
    // Log times are ISO strings with milliseconds (src/log.ts).
    const since = (t: string | undefined) => (t === undefined ? null : (Date.parse(t) - spawnedAtMs) / 1000);
    return { wallS, cpuS, modelsLoadedS: since(seen.modelsAt), httpListeningS: since(seen.httpAt) };
  } finally {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(killer);
    }
  }
}

/** utime + stime of a running process (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s on Linux). */
function processCpuS(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/** Frames analysed by all cameras, from /healthz; 0 while it does not answer yet. */
function framesAnalysed(address: string): Promise<number> {
  return new Promise((done) => {
    const req = get(`${address}/healthz`, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          const report = JSON.parse(body) as { cameras?: { framesAnalysed?: number }[] };
          done((report.cameras ?? []).reduce((n, c) => n + (c.framesAnalysed ?? 0), 0));
        } catch {
          done(0);
        }
      });
    });
    req.on('error', () => done(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

export async function measureStartup(root: string, image: string, clip: string): Promise<StartupResults> {
  const reads: StartupRun[] = [];
  for (let i = 0; i < RUNS; i++) reads.push(await readOnce(root, image));
  const runs: RunStartup[] = [];
  // One state directory for all runs, as a device restarts on its existing store: only the first
  // run creates it (the median is a restart's figure).
  const dir = mkdtempSync(join(tmpdir(), 'alpr-bench-startup-'));
  try {
    for (let i = 0; i < RUNS; i++) runs.push(await runOnce(root, clip, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    read: { image, runs: reads, medianWallS: median(reads.map((r) => r.wallS)) },
    run: { clip, runs, medianWallS: median(runs.map((r) => r.wallS)) },
  };
}

/** One pass's figures on one line: wall medians against the targets, each spawn's wall and CPU. */
export function startupLine(r: StartupResults): string {
  const verdict = (v: number, target: number) => `${v.toFixed(2)} s ${v <= target ? 'met' : 'NOT MET'} (<= ${target} s)`;
  const spawns = (runs: { wallS: number; cpuS: number | null }[]) => runs.map((x) => `${x.wallS.toFixed(2)}/${x.cpuS?.toFixed(2) ?? '?'}`).join(' ');
  return `read ${verdict(r.read.medianWallS, STARTUP_TARGETS.readOneImageS)} [wall/CPU s: ${spawns(r.read.runs)}]; ` +
    `run to first frame ${verdict(r.run.medianWallS, STARTUP_TARGETS.runFirstFrameS)} [${spawns(r.run.runs)}]`;
}

// The start-up pass alone, PASSES times (default 1), one line each with the load average: enough to
// see the spread on a shared machine and to alternate builds (A, B, A, B) without the whole bench.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const clip = join(root, '.cache/bench/clip-1080p30.mp4');
  if (!existsSync(clip)) {
    process.stderr.write(`bench-startup: ${clip} is missing; npm run bench encodes it on its first run\n`);
    process.exit(69);
  }
  const passes = Number(process.argv[2] ?? 1);
  for (let i = 0; i < passes; i++) {
    const load = loadavg()[0]!.toFixed(1);
    process.stdout.write(`load ${load}: ${startupLine(await measureStartup(root, join(root, 'test/fixtures/scenes/one-car.jpg'), clip))}\n`);
  }
}
