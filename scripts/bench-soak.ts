// `npm run bench -- soak`: the daemon as it runs on a pole, for a long time. It starts
// `alpr-edge run` on a looping clip with the store, a signed hot list (holding the clip's plates, so
// hits go out) and MQTT to a local broker live, samples the process's memory every few seconds
// (RSS from /proc, JS heap and external memory from its /metrics), and reports the growth after
// warm-up and the peak beside the targets. Table on stdout; JSON, CSV and a PNG plot in
// bench-results/. It reports; it never gates. CI never runs it (60 minutes by default).
import { spawn, type ChildProcess } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { installDir } from '../src/config/load.js';
import type { HotListEntry } from '../src/hotlist/list.js';
import { HotListRepository } from '../src/hotlist/repository.js';
import { generatePublisherKeys, loadPublicKey, signHotList } from '../src/hotlist/signed-list.js';
import { API_ROOT } from '../src/mqtt/topics.js';
import { daemonUnitEnvironment } from './unit-environment.js';

const MB = 1024 * 1024;

/** Targets from issue 23: flat over hours, and the 250 MB a quad-core board can spare. */
export const SOAK_TARGETS = { slopeMbPerHour: 1, peakRssMb: 250 } as const;

export interface SoakOptions {
  minutes: number;
  /** Samples before this are warm-up (models, arenas, caches filling) and left out of the slope. */
  warmupMinutes: number;
  sampleS: number;
  clip: string;
  broker: string;
  /** Hot-list entries besides the clip's own plates. */
  entries: number;
  json: string;
  /** Extra environment for the daemon, `NAME=value` (A/B of allocator settings and the like); it overrides the unit's. */
  env: Record<string, string>;
  /** Run the daemon with the `Environment=` of systemd/alpr-edge.service, as a device runs it (default). */
  unitEnv: boolean;
}

export function parseSoakOptions(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '60' },
      'warmup-minutes': { type: 'string' },
      'sample-s': { type: 'string', default: '10' },
      clip: { type: 'string', default: 'test/fixtures/demo/clip.mp4' },
      broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      entries: { type: 'string', default: '10000' },
      json: { type: 'string', default: 'bench-results/bench-soak.json' },
      env: { type: 'string', multiple: true, default: [] },
      'no-unit-env': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  const num = (flag: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${flag} must be a number in ${min}–${max}, got ${raw}`);
    return n;
  };
  const minutes = num('--minutes', values.minutes, 0.5, 7 * 24 * 60);
  // A tenth of the run, at most 10 minutes: long enough for the arenas to fill, short enough to leave a slope.
  const warmupMinutes = values['warmup-minutes'] === undefined ? Math.min(10, minutes / 10) : num('--warmup-minutes', values['warmup-minutes'], 0, minutes);
  const u = new URL(values.broker);
  if (u.protocol !== 'mqtt:' || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) throw new Error(`--broker must be mqtt:// on 127.0.0.1 or ::1, got ${values.broker}`);
  const env: Record<string, string> = {};
  for (const kv of values.env) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(kv);
    if (!m) throw new Error(`--env wants NAME=value, got ${kv}`);
    env[m[1]!] = m[2]!;
  }
  return {
    minutes,
    warmupMinutes,
    sampleS: num('--sample-s', values['sample-s'], 1, 600),
    clip: values.clip,
    broker: values.broker,
    entries: Math.round(num('--entries', values.entries, 0, 1_000_000)),
    json: values.json,
    env,
    unitEnv: !values['no-unit-env'],
  };
}


/** One look at the daemon's memory. MB throughout; heap figures absent when /metrics did not answer. */
export interface MemorySample {
  /** Seconds since the daemon was started. */
  t: number;
  rssMb: number;
  /** Anonymous memory (heap, native allocations, frames): what a leak grows. */
  anonMb: number;
  /** File-backed pages (libraries, models, the LMDB map): given back under memory pressure. */
  fileMb: number;
  /** Pages of the store's LMDB file mapped in: they grow with the store until retention wraps, and the kernel evicts them first. */
  storeMapMb: number;
  /** RSS less the store's map: the memory the daemon holds. Targets are judged on it. */
  daemonMb: number;
  heapUsedMb?: number;
  heapTotalMb?: number;
  externalMb?: number;
  /** CPU seconds the daemon has used so far. */
  cpuS: number;
  reads?: number;
  framesAnalysed?: number;
}

/** VmRSS, RssAnon, RssFile (+ RssShmem) of /proc/PID/status, in MB. */
export function parseProcStatus(text: string): { rssMb: number; anonMb: number; fileMb: number; hwmMb: number } {
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: (kb('RssFile') + (kb('RssShmem') || 0)) / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Resident MB of the mappings of files whose path ends with `suffix`, from /proc/PID/smaps. */
export function mappedFileMb(smaps: string, suffix: string): number {
  let kb = 0;
  let inFile = false;
  for (const line of smaps.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) inFile = header[1]!.endsWith(suffix);
    else if (inFile && line.startsWith('Rss:')) kb += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return kb / 1024;
}

/** The sum of a metric's samples in Prometheus text (all label sets), or undefined when absent. */
export function metricValue(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}

/**
 * Least-squares slope of y over x (per unit of x), the residual spread, and the slope's standard
 * error: frames in flight swing RSS by ±20 MB, so a short run's slope is known only to ± 2 SE.
 * NaN with fewer than 2 points (3 for the standard error).
 */
export function linearSlope(points: Array<[number, number]>): { slope: number; intercept: number; residualSd: number; slopeSe: number } {
  const n = points.length;
  if (n < 2) return { slope: NaN, intercept: NaN, residualSd: NaN, slopeSe: NaN };
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  const intercept = my - slope * mx;
  const sse = points.reduce((s, [x, y]) => s + (y - (intercept + slope * x)) ** 2, 0);
  const residualSd = Math.sqrt(sse / n);
  const slopeSe = n > 2 && sxx > 0 ? Math.sqrt(sse / (n - 2) / sxx) : NaN;
  return { slope, intercept, residualSd, slopeSe };
}

/**
 * A slope meets the target only when it is below it by more than 2 standard errors, and misses it
 * only when above by as much; in between the run was too short to tell (minutes against ±20 MB swings).
 */
export function slopeVerdict(slope: number, se: number, target: number): 'met' | 'not met' | 'inconclusive' {
  if (!Number.isFinite(slope) || !Number.isFinite(se)) return 'inconclusive';
  if (slope + 2 * se < target) return 'met';
  if (slope - 2 * se > target) return 'not met';
  return 'inconclusive';
}

type Series = 'daemonMb' | 'rssMb' | 'anonMb' | 'fileMb' | 'storeMapMb' | 'heapUsedMb' | 'externalMb';
const SERIES: Series[] = ['daemonMb', 'rssMb', 'anonMb', 'fileMb', 'storeMapMb', 'heapUsedMb', 'externalMb'];

export interface SoakAnalysis {
  samples: number;
  afterWarmup: number;
  /** MB per hour after warm-up, per series, and its standard error. */
  slopeMbPerHour: Partial<Record<Series, number>>;
  slopeSeMbPerHour: Partial<Record<Series, number>>;
  /** Mean of the last minute minus mean of the first minute after warm-up, per series. */
  growthMb: Partial<Record<Series, number>>;
  peakRssMb: number;
  peakDaemonMb: number;
  /** Samples in the first and the last minute after warm-up (the growth figures' means). */
  edges: { first: number; last: number };
}

export function analyseSamples(samples: MemorySample[], warmupS: number): SoakAnalysis {
  const after = samples.filter((s) => s.t >= warmupS);
  const slopeMbPerHour: SoakAnalysis['slopeMbPerHour'] = {};
  const slopeSeMbPerHour: SoakAnalysis['slopeSeMbPerHour'] = {};
  const growthMb: SoakAnalysis['growthMb'] = {};
  const t0 = after[0]?.t ?? 0;
  const t1 = after.at(-1)?.t ?? 0;
  const first = after.filter((s) => s.t < t0 + 60);
  const last = after.filter((s) => s.t > t1 - 60);
  for (const key of SERIES) {
    const pts = after.filter((s) => s[key] !== undefined).map((s) => [s.t / 3600, s[key]!] as [number, number]);
    if (pts.length >= 2) {
      const fit = linearSlope(pts);
      slopeMbPerHour[key] = fit.slope;
      if (Number.isFinite(fit.slopeSe)) slopeSeMbPerHour[key] = fit.slopeSe;
    }
    const mean = (xs: MemorySample[]) => {
      const v = xs.map((s) => s[key]).filter((x): x is number => x !== undefined);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
    };
    if (first.length && last.length) growthMb[key] = mean(last) - mean(first);
  }
  return { samples: samples.length, afterWarmup: after.length, slopeMbPerHour, slopeSeMbPerHour, growthMb, peakRssMb: Math.max(0, ...samples.map((s) => s.rssMb)), peakDaemonMb: Math.max(0, ...samples.map((s) => s.daemonMb)), edges: { first: first.length, last: last.length } };
}

/** RSS, anonymous memory, JS heap and external memory over time, as an SVG (rendered to PNG). */
export function plotSvg(samples: MemorySample[], warmupS: number, title: string): string {
  const W = 960;
  const H = 480;
  const L = 64;
  const R = 150;
  const T = 40;
  const B = 48;
  const tMax = Math.max(60, ...samples.map((s) => s.t));
  const yMax = Math.max(SOAK_TARGETS.peakRssMb * 1.1, ...samples.map((s) => s.rssMb)) * 1.05;
  const x = (t: number) => L + (t / tMax) * (W - L - R);
  const y = (mb: number) => T + (1 - mb / yMax) * (H - T - B);
  const lines: Array<[Series, string, string]> = [
    ['rssMb', '#e6a09a', 'RSS'],
    ['daemonMb', '#c0392b', 'RSS less store map'],
    ['anonMb', '#e67e22', 'anonymous'],
    ['heapUsedMb', '#2980b9', 'JS heap used'],
    ['externalMb', '#27ae60', 'external'],
  ];
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  out.push(`<text x="${L}" y="22" font-size="14">${title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`);
  const yStep = yMax > 400 ? 100 : 50;
  for (let mb = 0; mb <= yMax; mb += yStep) out.push(`<line x1="${L}" x2="${W - R}" y1="${y(mb)}" y2="${y(mb)}" stroke="#eee"/><text x="${L - 6}" y="${y(mb) + 4}" text-anchor="end">${mb}</text>`);
  const tStepMin = [1, 2, 5, 10, 15, 30, 60, 120, 240].find((m) => tMax / 60 / m <= 12) ?? 480;
  for (let m = 0; m * 60 <= tMax; m += tStepMin) out.push(`<line x1="${x(m * 60)}" x2="${x(m * 60)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${x(m * 60)}" y="${H - B + 16}" text-anchor="middle">${m}</text>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">minutes</text><text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">MB</text>`);
  out.push(`<line x1="${L}" x2="${W - R}" y1="${y(SOAK_TARGETS.peakRssMb)}" y2="${y(SOAK_TARGETS.peakRssMb)}" stroke="#c0392b" stroke-dasharray="6 4"/><text x="${W - R + 6}" y="${y(SOAK_TARGETS.peakRssMb) + 4}" fill="#c0392b">${SOAK_TARGETS.peakRssMb} MB target</text>`);
  if (warmupS > 0) out.push(`<rect x="${L}" y="${T}" width="${x(warmupS) - L}" height="${H - T - B}" fill="#000" fill-opacity="0.05"/><text x="${L + 4}" y="${T + 14}" fill="#777">warm-up</text>`);
  lines.forEach(([key, colour, label], i) => {
    const pts = samples.filter((s) => s[key] !== undefined).map((s) => `${x(s.t).toFixed(1)},${y(s[key]!).toFixed(1)}`);
    if (pts.length) out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    out.push(`<line x1="${W - R + 6}" x2="${W - R + 26}" y1="${T + 40 + i * 18}" y2="${T + 40 + i * 18}" stroke="${colour}" stroke-width="2"/><text x="${W - R + 30}" y="${T + 44 + i * 18}">${label}</text>`);
  });
  out.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/>`, '</svg>');
  return out.join('\n');
}

/** The clip's plates (from its truth file), so the hot list has hits to send. */
function clipPlates(clip: string): string[] {
  try {
    const truth = JSON.parse(readFileSync(clip.replace(/\.mp4$/, '.json'), 'utf8')) as { passes?: Array<{ text: string }> };
    return (truth.passes ?? []).map((p) => p.text);
  } catch {
    return [];
  }
}

function listEntries(plates: string[], filler: number): HotListEntry[] {
  const entry = (plate: string, i: number): HotListEntry => ({ plate, state: 'CA', type: 'SVS', reason: 'STOLEN VEHICLE', recordNumber: `S${100000 + i}`, enteredAt: '2026-01-01T00:00:00.000Z', expiresAt: null, partial: false, fuzzy: false });
  // Letters then digits that no clip plate folds to: filler never matches the clip.
  return [...plates.map(entry), ...Array.from({ length: filler }, (_, i) => entry('QX' + String(i).padStart(5, '0'), plates.length + i))];
}

interface DaemonCounters {
  logLines: number;
  reads: number;
  warnings: number;
  errors: number;
  lastError?: string;
  httpAddress?: string;
}

/** The daemon logs JSON lines (pino, on stderr); counts reads, warnings and errors, and finds the HTTP address. */
function watchLogs(child: ChildProcess, counters: DaemonCounters): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        counters.logLines++;
        let e: { level?: number; msg?: string; address?: string; component?: string };
        try {
          e = JSON.parse(line) as typeof e;
        } catch {
          if (line.trim()) counters.lastError = line.trim().slice(-300);
          continue;
        }
        if (e.msg === 'read') counters.reads++;
        if (e.msg === 'http server listening' && e.address) counters.httpAddress = e.address;
        if ((e.level ?? 0) >= 50) {
          counters.errors++;
          counters.lastError = `${e.component ?? ''}: ${e.msg ?? ''}`;
        } else if ((e.level ?? 0) >= 40) counters.warnings++;
      }
    });
  }
}

/** GET over a fresh connection: a kept-alive socket the daemon closed between samples would fail the request. */
function getText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function sample(pid: number, t: number, httpAddress: string | undefined, failures: string[]): Promise<MemorySample> {
  const st = parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const storeMapMb = mappedFileMb(readFileSync(`/proc/${pid}/smaps`, 'utf8'), '/data.mdb');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / 100;
  const s: MemorySample = { t, rssMb: st.rssMb, daemonMb: st.rssMb - storeMapMb, anonMb: st.anonMb, fileMb: st.fileMb, storeMapMb, cpuS };
  if (httpAddress) {
    try {
      const text = await getText(`${httpAddress}/metrics`, 8000);
      const mb = (name: string) => {
        const v = metricValue(text, name);
        return v === undefined ? undefined : v / MB;
      };
      s.heapUsedMb = mb('nodejs_heap_size_used_bytes');
      if (s.heapUsedMb === undefined) failures.push(`${Math.round(t)} s: no heap metric in ${text.length} bytes: ${text.slice(0, 120)}`);
      s.heapTotalMb = mb('nodejs_heap_size_total_bytes');
      s.externalMb = mb('nodejs_external_memory_bytes');
      s.reads = metricValue(text, 'alpr_edge_reads_total');
      s.framesAnalysed = metricValue(text, 'alpr_edge_frames_analysed_total');
    } catch (err) {
      // A slow answer under load: this sample has RSS only.
      failures.push(`${Math.round(t)} s: ${(err as Error).message}`);
    }
  }
  return s;
}

const round = (x: number, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

export async function runSoak(opts: SoakOptions) {
  const root = installDir();
  const dir = mkdtempSync(join(tmpdir(), 'alpr-bench-soak-'));
  const run = `soak-${process.pid}`;
  const clip = resolve(root, opts.clip);
  // A signed list with the clip's plates and filler, installed as `hotlist import` installs it.
  const keys = generatePublisherKeys();
  const pubFile = join(dir, 'soak.pub.pem');
  writeFileSync(pubFile, keys.publicKeyPem);
  const plates = clipPlates(clip);
  const signed = signHotList({ name: 'soak', source: 'bench soak (synthetic)', version: 1, issuedAt: new Date().toISOString(), entries: listEntries(plates, opts.entries) }, keys.privateKeyPem, 'soak');
  new HotListRepository(join(dir, 'state'), new Map([['soak', loadPublicKey(keys.publicKeyPem, 'soak')]]), 64 * MB).install(signed);
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    deviceId: run,
    location: { latitude: 37.7793, longitude: -122.4193, headingDeg: 90, description: 'bench soak' },
    cameras: [{ id: 'soak-cam', uri: pathToFileURL(clip).href, loop: true, realtime: true }],
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    stateDir: join(dir, 'state'),
    hotlists: { publisherKeys: [{ id: 'soak', file: pubFile }] },
    mqtt: { url: opts.broker, allowPlainText: true, publishReads: true },
  }, null, 2));

  // A consumer on the broker: the hits and reads the daemon sends, so MQTT is known to be live.
  const consumer = mqtt.connect(opts.broker, { clientId: `${run}-consumer`, reconnectPeriod: 1000 });
  const received = { hits: 0, reads: 0, other: 0 };
  consumer.on('message', (topic) => {
    if (topic.endsWith('/hits')) received.hits++;
    else if (topic.endsWith('/reads')) received.reads++;
    else received.other++;
  });
  consumer.subscribe(`${API_ROOT}/${run}/#`, { qos: 1 });

  const loadAtStart = loadavg()[0]!;
  const started = Date.now();
  // As the device runs it: the unit's environment (NODE_ENV, the allocator's arenas), then --env.
  const daemonEnv = { ...(opts.unitEnv ? daemonUnitEnvironment(root) : {}), ...opts.env };
  const child = spawn(process.execPath, [join(root, 'dist/src/bin.cjs'), 'run', '--config', configFile], { cwd: root, env: { ...process.env, ...daemonEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const counters: DaemonCounters = { logLines: 0, reads: 0, warnings: 0, errors: 0 };
  watchLogs(child, counters);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stopping = false;
  child.on('exit', (code, signal) => {
    if (!stopping) exited = { code, signal };
  });

  const samples: MemorySample[] = [];
  const metricsFailures: string[] = [];
  const endAt = started + opts.minutes * 60_000;
  const progress = (s: MemorySample) =>
    process.stderr.write(`soak ${(s.t / 60).toFixed(1)}/${opts.minutes} min: RSS ${s.rssMb.toFixed(0)} MB (less store map ${s.daemonMb.toFixed(0)}, anon ${s.anonMb.toFixed(0)}), heap ${s.heapUsedMb?.toFixed(0) ?? '?'} MB, external ${s.externalMb?.toFixed(0) ?? '?'} MB, reads ${s.reads ?? counters.reads}, hits received ${received.hits}\n`);
  let hwmMb = 0;
  try {
    while (Date.now() < endAt && !exited) {
      const next = started + (samples.length + 1) * opts.sampleS * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(next, endAt) - Date.now())));
      if (exited) break;
      const s = await sample(child.pid!, (Date.now() - started) / 1000, counters.httpAddress, metricsFailures);
      samples.push(s);
      hwmMb = Math.max(hwmMb, parseProcStatus(readFileSync(`/proc/${child.pid}/status`, 'utf8')).hwmMb);
      if (samples.length % Math.max(1, Math.round(60 / opts.sampleS)) === 0) progress(s);
    }
  } finally {
    if (!exited) {
      stopping = true;
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 15_000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
        if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(t);
          r();
        }
      });
    }
    consumer.end(true);
  }
  rmSync(dir, { recursive: true, force: true });
  if (exited && samples.length === 0) throw new Error(`the daemon exited at once (code ${exited.code}, signal ${exited.signal}): ${counters.lastError ?? 'no output'}`);

  const warmupS = opts.warmupMinutes * 60;
  const analysis = analyseSamples(samples, warmupS);
  const last = samples.at(-1)!;
  const lastCounted = [...samples].reverse().find((s) => s.framesAnalysed !== undefined);
  const results = {
    date: new Date().toISOString(),
    loadAverage: { atStart: round(loadAtStart, 2), atEnd: round(loadavg()[0]!, 2), cpus: cpus().length },
    options: opts,
    daemonEnv,
    daemon: {
      minutes: round(last.t / 60, 2),
      exitedEarly: exited ? { code: exited.code, signal: exited.signal, lastError: counters.lastError } : null,
      reads: lastCounted?.reads ?? counters.reads,
      framesAnalysed: lastCounted?.framesAnalysed,
      cpuPercentOfOneCore: round((last.cpuS / last.t) * 100),
      warnings: counters.warnings,
      errors: counters.errors,
      lastError: counters.lastError ?? null,
      metricsFailures,
    },
    mqtt: { hitsReceived: received.hits, readsReceived: received.reads, listPlates: plates.length, listEntries: plates.length + opts.entries },
    analysis: { ...analysis, peakRssMb: round(Math.max(analysis.peakRssMb, hwmMb)), sampledPeakRssMb: round(analysis.peakRssMb), peakDaemonMb: round(analysis.peakDaemonMb), slopeMbPerHour: Object.fromEntries(Object.entries(analysis.slopeMbPerHour).map(([k, v]) => [k, round(v, 2)])), slopeSeMbPerHour: Object.fromEntries(Object.entries(analysis.slopeSeMbPerHour).map(([k, v]) => [k, round(v, 2)])), growthMb: Object.fromEntries(Object.entries(analysis.growthMb).map(([k, v]) => [k, round(v, 1)])) },
    samples: samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? round(v, 2) : v]))) as unknown as MemorySample[],
  };
  // Judged without the store's map: those pages are the LMDB file, growing with the store until
  // retention wraps (days), and the first the kernel takes back; what a leak grows is the rest.
  const slope = results.analysis.slopeMbPerHour['daemonMb'] ?? NaN;
  const se = results.analysis.slopeSeMbPerHour['daemonMb'] ?? NaN;
  const targets = {
    slope: { verdict: slopeVerdict(slope, se, SOAK_TARGETS.slopeMbPerHour), value: slope, target: `< ${SOAK_TARGETS.slopeMbPerHour} MB/h` },
    peak: { met: results.analysis.peakDaemonMb <= SOAK_TARGETS.peakRssMb, value: results.analysis.peakDaemonMb, target: `<= ${SOAK_TARGETS.peakRssMb} MB` },
  };
  return { ...results, targets, warmupS };
}

export async function main(): Promise<void> {
  const opts = parseSoakOptions(process.argv.slice(2).filter((a) => a !== 'soak'));
  const r = await runSoak(opts);
  const p = resolve(opts.json);
  mkdirSync(dirname(p), { recursive: true });
  const { warmupS, ...json } = r;
  writeFileSync(p, JSON.stringify(json, null, 2) + '\n');
  const base = p.replace(/\.json$/, '');
  writeFileSync(`${base}.csv`, ['t_s,rss_mb,rss_less_store_map_mb,anon_mb,file_mb,store_map_mb,heap_used_mb,heap_total_mb,external_mb,cpu_s,reads,frames_analysed', ...r.samples.map((s) => [s.t, s.rssMb, s.daemonMb, s.anonMb, s.fileMb, s.storeMapMb, s.heapUsedMb ?? '', s.heapTotalMb ?? '', s.externalMb ?? '', s.cpuS, s.reads ?? '', s.framesAnalysed ?? ''].join(','))].join('\n') + '\n');
  const title = `alpr-edge soak: ${r.daemon.minutes} min on ${opts.clip} (${r.date.slice(0, 16)}Z, load ${r.loadAverage.atStart}-${r.loadAverage.atEnd} on ${r.loadAverage.cpus} CPUs)`;
  const svg = plotSvg(r.samples, warmupS, title);
  await sharp(Buffer.from(svg)).png().toFile(`${base}.png`);
  const a = r.analysis;
  const f = (k: Series) => `${a.slopeMbPerHour[k] ?? 'n/a'} ± ${a.slopeSeMbPerHour[k] === undefined ? 'n/a' : round(2 * a.slopeSeMbPerHour[k]!, 1)} MB/h (${a.growthMb[k] ?? 'n/a'} MB from first to last minute)`;
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  const envShown = Object.entries(r.daemonEnv).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  process.stdout.write([
    `soak: daemon environment ${envShown}${opts.unitEnv ? ' (systemd/alpr-edge.service' + (Object.keys(opts.env).length ? ' + --env)' : ')') : ''}`,
    `soak: ${r.daemon.minutes} min on ${opts.clip}, warm-up ${opts.warmupMinutes} min, a sample every ${opts.sampleS} s (${a.samples}, ${a.afterWarmup} after warm-up); load average ${r.loadAverage.atStart} → ${r.loadAverage.atEnd} on ${r.loadAverage.cpus} CPUs`,
    `  daemon          ${r.daemon.reads} reads, ${r.daemon.framesAnalysed ?? '?'} frames analysed, CPU ${r.daemon.cpuPercentOfOneCore} % of one core, ${r.daemon.warnings} warnings, ${r.daemon.errors} errors${r.daemon.exitedEarly ? `; EXITED EARLY (${r.daemon.exitedEarly.code ?? r.daemon.exitedEarly.signal}: ${r.daemon.exitedEarly.lastError ?? ''})` : ''}`,
    `  MQTT            ${r.mqtt.hitsReceived} hits and ${r.mqtt.readsReceived} reads received from the broker (list: ${r.mqtt.listEntries} entries, ${r.mqtt.listPlates} of them the clip's plates)`,
    `  growth after warm-up, per hour ± 2 standard errors (and from its first to its last minute):`,
    `    RSS less the store's map  ${f('daemonMb')}   target ${r.targets.slope.target}: ${r.targets.slope.verdict === 'met' ? 'met' : r.targets.slope.verdict === 'not met' ? 'NOT MET' : 'inconclusive (run longer)'}`,
    `    anonymous                 ${f('anonMb')}`,
    `    JS heap used              ${f('heapUsedMb')}`,
    `    external                  ${f('externalMb')}`,
    `    store's map (LMDB file)   ${f('storeMapMb')}`,
    `    RSS                       ${f('rssMb')}`,
    `  peak RSS less the store's map  ${a.peakDaemonMb} MB   target ${r.targets.peak.target}: ${mark(r.targets.peak.met)}`,
    `  peak RSS                       ${a.peakRssMb} MB (VmHWM)`,
    `results: ${opts.json} (+ .csv, .png)`,
  ].join('\n') + '\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`bench soak: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
