// `node dist/scripts/bench-store.js` (meant as `npm run bench -- store`): the LMDB ring store at a
// 30-day volume. Reports insert rate, the purge of one day's reads while a simulated pipeline keeps
// writing, the MQTT outbox's hit-enqueue latency during a day's purge (outbox in an environment of
// its own, as before issue 21, and in the state environment, alternately), plate lookups over the
// whole store, RSS, and the file size over simulated days (space is reused, so the file stops
// growing once purges run). It reports; it never gates.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { defaultConfig } from '../src/config/defaults.js';
import type { Read } from '../src/pipeline/read.js';
import { newReadId } from '../src/pipeline/read-id.js';
import { openStateDatabaseFor, storePath } from '../src/state/database.js';
import { DeviceKeys } from '../src/state/device-keys.js';
import { ReadStore } from '../src/store/read-store.js';
import { Outbox, type OutboxDatabase } from '../src/mqtt/outbox.js';
import { openLegacyOutbox } from '../src/mqtt/outbox-migration.js';

const DAY_MS = 86_400_000;
const MB = 1024 * 1024;

/** Targets from issue 7. */
export const STORE_TARGETS = { insertPerS: 2000, purgeDayMs: 1000, lookupMs: 50 } as const;

export interface StoreBenchOptions {
  days: number;
  perDay: number;
  imageKb: number;
  simDays: number;
  lookups: number;
  purgeBatch: number;
  /** Days purged while hits are enqueued, alternating the outbox's own environment and the state one. */
  outboxRounds: number;
  json: string;
  keep: boolean;
}

export function parseStoreBenchOptions(argv: string[]): StoreBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      days: { type: 'string', default: '30' },
      'per-day': { type: 'string', default: '20000' },
      'image-kb': { type: 'string', default: '30' },
      'sim-days': { type: 'string', default: '60' },
      lookups: { type: 'string', default: '200' },
      'purge-batch': { type: 'string', default: '500' },
      'outbox-rounds': { type: 'string', default: '4' },
      json: { type: 'string', default: 'bench-results/bench-store.json' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  const int = (flag: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got ${raw}`);
    return n;
  };
  const days = int('--days', values.days, 2);
  const outboxRounds = int('--outbox-rounds', values['outbox-rounds'], 0);
  // Round r purges day r + 1 of the window; day 0 went in the plain purge before them.
  if (outboxRounds > days - 1) throw new Error(`--outbox-rounds must be at most --days - 1 (${days - 1}), got ${outboxRounds}`);
  return {
    days,
    perDay: int('--per-day', values['per-day'], 10),
    imageKb: int('--image-kb', values['image-kb'], 1),
    simDays: Math.max(days, int('--sim-days', values['sim-days'], 0)),
    lookups: int('--lookups', values.lookups, 1),
    purgeBatch: int('--purge-batch', values['purge-batch'], 10),
    outboxRounds,
    json: values.json,
    keep: values.keep,
  };
}

/** Plate i as the bench writes it: 7 characters, deterministic, so lookups know what exists. */
export function benchPlate(i: number): string {
  return (i % 10) + i.toString(36).toUpperCase().padStart(6, '0').slice(-6);
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { p50: round(q(0.5)), p95: round(q(0.95)), max: round(s.at(-1) ?? 0), n: s.length };
}
const round = (x: number) => Math.round(x * 100) / 100;

export async function runStoreBench(opts: StoreBenchOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  const config = defaultConfig({ stateDir: dir, store: { retentionDays: opts.days, purgeBatchSize: opts.purgeBatch, maxBytes: 1024 ** 4 } });
  const db = openStateDatabaseFor(config);
  const keys = DeviceKeys.open(join(dir, 'keys'));
  const store = new ReadStore(db, keys, config.store, pino({ level: 'warn' }), storePath(config));
  const file = join(storePath(config), 'data.mdb');
  // Incompressible like JPEG; one buffer per size, reused (the cipher makes every stored copy unique).
  const overview = randomBytes(Math.round(opts.imageKb * 1024 * 0.85));
  const plateJpeg = randomBytes(opts.imageKb * 1024 - overview.length);
  const start = Date.now() - opts.simDays * DAY_MS;
  let counter = 0;
  const read = (atMs: number): Read => {
    const i = counter++;
    const at = new Date(atMs).toISOString();
    return {
      id: newReadId(atMs), deviceId: 'bench', cameraId: `cam${i % 2}`, plate: benchPlate(i), state: 'CA', stateConfidence: 0.9,
      confidence: 0.93, agreement: 0.8, candidates: [{ text: benchPlate(i), confidence: 0.93 }, { text: benchPlate(i + 1), confidence: 0.05 }],
      capturedAt: at, firstSeenAt: at, lastSeenAt: at, frames: 6, box: [100, 200, 120, 40],
      plateJpeg, overviewJpeg: overview, location: { latitude: 37.77, longitude: -122.41, headingDeg: 90, description: 'bench pole' }, modelVersion: 'bench',
    };
  };
  let peakRss = 0;
  let peakHeap = 0;
  // RSS includes the LMDB pages the process has touched through its memory map (file-backed, given
  // back under memory pressure); the JS heap plus buffers is what the store itself holds.
  const sampleRss = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss / MB);
    peakHeap = Math.max(peakHeap, (m.heapUsed + m.external) / MB);
  };
  const writeDay = async (day: number) => {
    const gap = DAY_MS / opts.perDay;
    for (let b = 0; b < opts.perDay; b += 200) {
      const batch = Array.from({ length: Math.min(200, opts.perDay - b) }, (_, k) => read(start + day * DAY_MS + (b + k) * gap));
      await store.putMany(batch);
    }
    sampleRss();
  };

  // 1. Fill the retention window.
  const t0 = performance.now();
  const loadAtStart = loadavg()[0]!;
  for (let d = 0; d < opts.days; d++) await writeDay(d);
  const insertS = (performance.now() - t0) / 1000;
  const total = opts.days * opts.perDay;
  const fileAfterFill = statSync(file).size;

  // 2. Lookups over the full store.
  const exact: number[] = [];
  const look: number[] = [];
  let found = 0;
  const nowFull = start + opts.days * DAY_MS - 1;
  for (let k = 0; k < opts.lookups; k++) {
    const plate = benchPlate(Math.floor(Math.random() * total));
    let t = performance.now();
    found += store.search({ plate, limit: 50 }, nowFull).reads.length;
    exact.push(performance.now() - t);
    t = performance.now();
    store.search({ plate, match: 'lookalike', limit: 50 }, nowFull);
    look.push(performance.now() - t);
  }
  const partialT = performance.now();
  const partialHits = store.search({ plate: '1*A?', match: 'partial', fromMs: nowFull - DAY_MS, toMs: nowFull, limit: 50 }, nowFull).reads.length;
  const partialOneDayMs = performance.now() - partialT;

  // 3. Purge one day's reads while a simulated pipeline writes 20 reads/s through the same store.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let pipelineWrites = 0;
  const writeLatency: number[] = [];
  let stop = false;
  const pipeline = (async () => {
    while (!stop) {
      const t = performance.now();
      await store.put(read(nowFull + DAY_MS - 1000));
      writeLatency.push(performance.now() - t);
      pipelineWrites++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const tp = performance.now();
  const cpu0 = process.cpuUsage();
  const purge = await store.purgeExpired(nowFull + DAY_MS);
  const purgeMs = performance.now() - tp;
  // CPU time of the whole process (purge plus the simulated pipeline): on a shared machine it says
  // more than the wall clock, which waits for whatever else runs.
  const purgeCpu = process.cpuUsage(cpu0);
  stop = true;
  await pipeline;
  loop.disable();

  // 3b. Issue 21: how long a hit waits to be on disk in the MQTT outbox while a day's purge runs,
  // with the outbox in an environment of its own (its own write lock, as before the move) and in the
  // state environment (behind the store's write batches and purge transactions), alternating so
  // that load on a shared machine falls on both alike. The simulated pipeline writes reads as above,
  // and a hit is enqueued every 20 ms (far more than a pole makes, for enough samples in one purge).
  const hitPayload = randomBytes(Math.round(opts.imageKb * 1024 * 1.37));
  const outboxByMode: Record<'own' | 'shared', { latencyMs: number[]; purgeMs: number[]; hits: number }> = { own: { latencyMs: [], purgeMs: [], hits: 0 }, shared: { latencyMs: [], purgeMs: [], hits: 0 } };
  for (let r = 0; r < opts.outboxRounds; r++) {
    const mode = r % 2 === 0 ? 'own' : 'shared';
    const ownDir = join(dir, 'mqtt-outbox');
    const target: OutboxDatabase = mode === 'own' ? openLegacyOutbox(ownDir) : db;
    const outbox = new Outbox(target, { maxMessages: 200_000, maxBytes: 1024 ** 3 }, keys);
    const roundNow = nowFull + (r + 2) * DAY_MS;
    let done = false;
    const writes = (async () => {
      while (!done) {
        await store.put(read(roundNow - 1000));
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const seen = outboxByMode[mode];
    const hits = (async () => {
      let n = 0;
      while (!done) {
        const t = performance.now();
        const { seq } = await outbox.enqueue('hit', 'alpr/v1/bench/hits', `hit-${r}-${n++}`, hitPayload);
        seen.latencyMs.push(performance.now() - t);
        seen.hits++;
        // Acknowledged at once, as a connected broker would: the outbox stays small.
        void outbox.ack(seq);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const t = performance.now();
    await store.purgeExpired(roundNow);
    seen.purgeMs.push(performance.now() - t);
    done = true;
    await Promise.all([writes, hits]);
    await outbox.close();
    if (mode === 'own') {
      await target.root.close();
      rmSync(ownDir, { recursive: true, force: true });
    }
  }
  const outboxSummary = (m: 'own' | 'shared') => ({ rounds: outboxByMode[m].purgeMs.length, hits: outboxByMode[m].hits, enqueueMs: stats(outboxByMode[m].latencyMs), purgeMs: outboxByMode[m].purgeMs.map(round) });

  // 4. Simulated days past the window: write a day, purge a day; the file should stop growing.
  const fileByDay: { day: number; fileMb: number; usedMb: number }[] = [{ day: opts.days, fileMb: round(fileAfterFill / MB), usedMb: round(store.usage().usedBytes / MB) }];
  for (let d = opts.days; d < opts.simDays; d++) {
    await writeDay(d);
    await store.purgeExpired(start + (d + 1) * DAY_MS);
    fileByDay.push({ day: d + 1, fileMb: round(statSync(file).size / MB), usedMb: round(store.usage().usedBytes / MB) });
  }
  await db.root.close();
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });

  const results = {
    date: new Date().toISOString(),
    // Other work on the machine makes every figure slower; the 1-minute load average tells how much.
    loadAverage: { atStart: round(loadAtStart), atEnd: round(loadavg()[0]!), cpus: cpus().length },
    options: opts,
    insert: { reads: total, seconds: round(insertS), readsPerS: Math.round(total / insertS) },
    lookup: { readsInStore: total, exactMs: stats(exact), lookAlikeMs: stats(look), meanResults: round(found / opts.lookups), partialOneDayMs: round(partialOneDayMs), partialHits },
    outboxEnqueueDuringPurge: { own: outboxSummary('own'), shared: outboxSummary('shared') },
    purgeOneDay: { purged: purge.purged, ms: round(purgeMs), cpuMs: round((purgeCpu.user + purgeCpu.system) / 1000), pipelineWrites, pipelineWriteMs: stats(writeLatency), eventLoopDelayMaxMs: round(loop.max / 1e6), eventLoopDelayP99Ms: round(loop.percentile(99) / 1e6) },
    peakRssMb: round(peakRss),
    peakHeapMb: round(peakHeap),
    fileMb: { afterFill: round(fileAfterFill / MB), byDay: fileByDay },
  };
  const targets = {
    insert: results.insert.readsPerS >= STORE_TARGETS.insertPerS,
    purgeOneDay: results.purgeOneDay.ms < STORE_TARGETS.purgeDayMs,
    lookup: results.lookup.exactMs.p95 < STORE_TARGETS.lookupMs,
    fileBounded: fileByDay.length < 3 || fileByDay.at(-1)!.fileMb <= fileByDay[0]!.fileMb * 1.2,
  };
  return { ...results, targets };
}

export async function main(): Promise<void> {
  const opts = parseStoreBenchOptions(process.argv.slice(2).filter((a) => a !== 'store'));
  const r = await runStoreBench(opts);
  const p = resolve(opts.json);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, JSON.stringify(r, null, 2) + '\n');
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
  const last = r.fileMb.byDay.at(-1)!;
  process.stdout.write([
    `store bench: ${r.insert.reads} reads (${opts.days} days × ${opts.perDay}/day, ${opts.imageKb} KB images), ${opts.simDays} simulated days; load average ${r.loadAverage.atStart} → ${r.loadAverage.atEnd} on ${r.loadAverage.cpus} CPUs`,
    `${mark(r.targets.insert)} insert          ${r.insert.readsPerS} reads/s (target ≥ ${STORE_TARGETS.insertPerS})`,
    `${mark(r.targets.purgeOneDay)} purge one day   ${r.purgeOneDay.purged} reads in ${r.purgeOneDay.ms} ms (target < ${STORE_TARGETS.purgeDayMs}; CPU ${r.purgeOneDay.cpuMs} ms); pipeline wrote ${r.purgeOneDay.pipelineWrites}, p95 ${r.purgeOneDay.pipelineWriteMs.p95} ms; event-loop delay max ${r.purgeOneDay.eventLoopDelayMaxMs} ms`,
    `${mark(r.targets.lookup)} plate lookup    exact p50 ${r.lookup.exactMs.p50} / p95 ${r.lookup.exactMs.p95} ms, look-alike p95 ${r.lookup.lookAlikeMs.p95} ms over ${r.lookup.readsInStore} reads (target < ${STORE_TARGETS.lookupMs}); partial over one day ${r.lookup.partialOneDayMs} ms`,
    ...(opts.outboxRounds > 0 ? [`     outbox enqueue  hit on disk during a day's purge: own environment p50 ${r.outboxEnqueueDuringPurge.own.enqueueMs.p50} / p95 ${r.outboxEnqueueDuringPurge.own.enqueueMs.p95} / max ${r.outboxEnqueueDuringPurge.own.enqueueMs.max} ms (${r.outboxEnqueueDuringPurge.own.hits} hits); state environment p50 ${r.outboxEnqueueDuringPurge.shared.enqueueMs.p50} / p95 ${r.outboxEnqueueDuringPurge.shared.enqueueMs.p95} / max ${r.outboxEnqueueDuringPurge.shared.enqueueMs.max} ms (${r.outboxEnqueueDuringPurge.shared.hits} hits)`] : []),
    `     memory          peak RSS ${r.peakRssMb} MB (mostly the LMDB map), JS heap + buffers ${r.peakHeapMb} MB`,
    `${mark(r.targets.fileBounded)} file size       ${r.fileMb.afterFill} MB after the window, ${last.fileMb} MB on day ${last.day} (used ${last.usedMb} MB)`,
    `results: ${opts.json}`,
  ].join('\n') + '\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`bench store: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
