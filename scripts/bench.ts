// `npm run bench`: how fast this machine turns a 1080p30 H.264 stream into plate reads, beside the
// product's performance targets. It reports; it never gates (exit 0 with targets missed), because
// figures depend on the machine and on whatever else it is doing. Targets live here, not in tests.
//
// Imported first: libuv sizes its thread pool on first use, and capture parks two pool threads per
// source; the benchmark should run with the pool the daemon runs with.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { playSource } from '../src/capture/play-file.js';
import type { Frame } from '../src/capture/frame.js';
import { createProgress } from '../src/cli/progress.js';
import { defaultConfig } from '../src/config/defaults.js';
import { installDir, resolveInstallPath } from '../src/config/load.js';
import { DEFAULT_DECODER_THREADS, type Config } from '../src/config/schema.js';
import { PlateEngine, engineOptions, scaledLongSidesFor, type StageTimings } from '../src/inference/engine.js';
import { readManifest, resolveModel, type ModelManifest } from '../src/inference/manifest.js';
import { createSession, ort } from '../src/inference/session.js';
import { clampBox, cropRgb, padBox } from '../src/inference/image.js';
import type { PlateRegion } from '../src/inference/reader-input.js';
import type { PlateReader } from '../src/inference/reader.js';
import { createLogger } from '../src/log.js';
import { CameraPipeline, frameImage } from '../src/pipeline/camera-pipeline.js';
import type { Read } from '../src/pipeline/read.js';
import { formatMemoryParts, sampleMemory, type MemoryParts } from './bench-memory.js';
import { measureAnalysisStages, measureCaptureStages, measureScaleToWorking, type StageCpu } from './bench-stages.js';
import { measureStartup, STARTUP_TARGETS, type StartupResults } from './bench-startup.js';
import { daemonUnitEnvironment, UNIT_FILE } from './unit-environment.js';

const SOURCE_CLIP = 'test/fixtures/demo/clip.mp4';
const SOURCE_CLIP_TRUTH = 'test/fixtures/demo/clip.json';
/** The still `alpr-edge read` is timed on for the start-up target. */
const STARTUP_IMAGE = 'test/fixtures/scenes/one-car.jpg';
const BENCH_CLIP = '.cache/bench/clip-1080p30.mp4';
const WIDTH = 1920;
const HEIGHT = 1080;
const FPS = 30;
/**
 * The precision comparison reads every 30th frame of the whole clip (32 frames): spread over all its
 * vehicles so the reader has plates to read, few enough to keep a run well under 3 minutes.
 */
const PRECISION_STRIDE = 30;
const RSS_SAMPLE_MS = 250;
const MB = 1024 * 1024;

/** The product's performance targets (from the issues), checked against each run. */
export const TARGETS = {
  endToEndFps: 25,
  /** Whole process (decode included), per analysed frame, end to end (issue 23: half of 47-58 ms). */
  cpuMsPerFrame: 25,
  peakRssMb: 250,
  detectorMs: 30,
  readerMsPerPlate: 2,
  int8Speedup: 1.5,
  ...STARTUP_TARGETS,
} as const;

export interface BenchOptions {
  frames: number;
  threads: number;
  maxSide: number | undefined;
  /** A manifest other than the configured one, e.g. to try an INT8 candidate before it ships. */
  manifest: string | undefined;
  json: string;
  /** libav decoder frame threads (cameras[].decoderThreads); 0 = one per core. */
  decoderThreads: number;
  /** Spawn `read` and `run` for the start-up targets. */
  startup: boolean;
  /**
   * The capture scales each frame to the detector's working size (Frame.working), as the daemon
   * does; false: the detector resizes the full frame with sharp, as before 2026-12-06 (A/B runs).
   */
  scaleInCapture: boolean;
  /** Run with the environment of systemd/alpr-edge.service (rerunUnderUnitEnvironment); false: the caller's, for A/B runs of those settings. */
  unitEnv: boolean;
}

export interface Stat {
  mean: number;
  p95: number;
  n: number;
}

interface FrameSample extends StageTimings {
  /** Crops the reader got in this frame (text lines for the interim detector). */
  crops: number;
  plates: number;
  /** Whole CameraPipeline.analyse, tracker and evidence JPEGs included. */
  analyseMs: number;
}

/** RSS sampled every RSS_SAMPLE_MS during a pass, with its parts at the highest sample (scripts/bench-memory.ts). */
interface RssDuring {
  mean: number;
  max: number;
  atMax?: MemoryParts;
}

interface PlayResult {
  frames: number;
  wallMs: number;
  cpuMs: number;
  rssMb: RssDuring;
  /** The decoder element decodebin picked (hardware when there is one). */
  decoder: string | undefined;
}

export interface ModelChoice {
  detector: string;
  reader: string;
}

export interface PrecisionPair {
  kind: 'detector' | 'reader';
  fp32: string;
  int8: string;
}

interface VariantTimings {
  models: ModelChoice;
  detectMs: Stat;
  readMs: Stat;
}

type PrecisionResult =
  | { measured: false; reason: string }
  | {
      measured: true;
      pairs: PrecisionPair[];
      frames: number;
      fp32: VariantTimings;
      int8: VariantTimings;
      speedup: { detector?: number; reader?: number; total: number };
      /** The networks alone (session.run on a fixed input, median ms), without the precision-independent pre- and post-processing. */
      networks: NetworkTiming[];
    };

interface NetworkTiming {
  kind: PrecisionPair['kind'];
  shape: number[];
  fp32Ms: number;
  int8Ms: number;
  speedup: number;
}

interface BenchResults {
  date: string;
  /** loadAverage is taken at the start: other work on the machine (training jobs) slows every figure. */
  machine: { cpu: string; cores: number; memoryMb: number; os: string; node: string; commit: string | null; loadAverage: number[] };
  /** The unit's Environment= settings this run had (all of them unless --no-unit-env), NAME=value. */
  environment: { unit: boolean; settings: string[] };
  options: { frames: number; intraOpThreads: number; detectorMaxSide: number; decoderThreads?: number; scaleInCapture?: boolean };
  clip: { path: string; width: number; height: number; fps: number; builtThisRun: boolean };
  models: { version: string; interim: boolean; detector: string; reader: string; precision: string };
  decode: { decoder: string | null; frames: number; fps: number; msPerFrame: number; cpuPctOneCore: number; cpuPctAllCores: number; rssMb: RssDuring };
  /**
   * The reader alone on plates the end-to-end pass met, one core, nothing else running; null when
   * none. `runs`: each of READER_ALONE_RUNS passes over the same plates, CPU ms per plate; the
   * target is judged on the slowest run. `msPerPlate`: wall time over all runs (p95 over frames).
   */
  readerAlone: { plates: number; runs: number[]; cpuMsPerPlate: { min: number; median: number; max: number }; msPerPlate: Stat } | null;
  endToEnd: {
    frames: number;
    fps: number;
    msPerFrame: number;
    detectMs: Stat;
    readMsPerFrame: Stat;
    readMsPerCrop: Stat & { crops: number };
    analyseMs: Stat;
    cpuPctOneCore: number;
    cpuPctAllCores: number;
    /** CPU of the whole process (decode, analysis, every thread) per analysed frame. */
    cpuMsPerFrame: number;
    rssMb: RssDuring;
    reads: { count: number; plates: string[] };
  };
  /** CPU ms per frame by stage, each stage alone (scripts/bench-stages.ts). */
  stages: StageCpu | null;
  /** Spawned `read` of one image and `run` to its first analysed frame (scripts/bench-startup.ts); null with --no-startup. */
  startup: StartupResults | null;
  peakRssMb: number;
  /** Where the memory goes: RSS once decoding is done, and again once the models are loaded. */
  rssMbAt: { afterDecode: number; afterModelLoad: number };
  precision: PrecisionResult;
  targets: TargetCheck[];
}

export interface TargetCheck {
  name: string;
  target: string;
  value: number | null;
  unit: string;
  /** null when the figure does not apply to this run (e.g. the one-core target with more threads). */
  met: boolean | null;
  note?: string;
}

const USAGE = `usage: npm run bench -- [--frames N] [--threads N] [--max-side N] [--manifest PATH] [--json PATH]
  --frames N     frames analysed end to end (default 90)
  --threads N    onnxruntime intra-op threads per model (default 1)
  --max-side N   detector working resolution, longest side (default from config)
  --manifest P   model manifest (default models/manifest.json); FP32/INT8 pairs in it are compared
  --json PATH    where the results go (default bench-results/bench.json)
  --decoder-threads N  libav decoder frame threads, 0 = one per core (default: the config's, 0)
  --no-startup   skip the start-up pass (spawned read and run)
  --resize-in-js the detector resizes each full frame (sharp) instead of taking the capture's scaled copy
  --no-unit-env  keep this shell's environment instead of systemd/alpr-edge.service's (MALLOC_ARENA_MAX, NODE_OPTIONS)
  decode [RUNS] [THREADS]  only the decode pass, RUNS times, with THREADS decoder threads
  store | hotlist | fleet   the ring store, the hot-list matcher, a fleet over MQTT (docs/benchmarks.md)
  soak [--minutes N]  the daemon on a looping clip for N minutes (60): memory growth and peak`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      frames: { type: 'string', default: '90' },
      threads: { type: 'string', default: '1' },
      'max-side': { type: 'string' },
      manifest: { type: 'string' },
      json: { type: 'string', default: 'bench-results/bench.json' },
      'decoder-threads': { type: 'string' },
      'no-startup': { type: 'boolean', default: false },
      'resize-in-js': { type: 'boolean', default: false },
      'no-unit-env': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  return {
    frames: positiveInteger('--frames', values.frames),
    threads: positiveInteger('--threads', values.threads),
    maxSide: values['max-side'] === undefined ? undefined : positiveInteger('--max-side', values['max-side']),
    manifest: values.manifest,
    json: values.json,
    decoderThreads: values['decoder-threads'] === undefined ? DEFAULT_DECODER_THREADS : nonNegativeInteger('--decoder-threads', values['decoder-threads']),
    startup: !values['no-startup'],
    scaleInCapture: !values['resize-in-js'],
    unitEnv: !values['no-unit-env'],
  };
}

/** Set from the options before any pass runs; the config's default, so the bench decodes as the daemon does. */
let decoderThreads = DEFAULT_DECODER_THREADS;
/** Long sides of the capture's copies of each frame (Frame.scaled): the detector's sizes, as the daemon asks; undefined with --resize-in-js. */
let scaledLongSides: number[] | undefined;

function nonNegativeInteger(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} wants a whole number >= 0, got "${raw}"`);
  return n;
}

function positiveInteger(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} wants a positive integer, got "${raw}"`);
  return n;
}

/** Mean and nearest-rank 95th percentile. */
export function summarise(values: number[]): Stat {
  if (values.length === 0) return { mean: 0, p95: 0, n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
  return { mean, p95, n: values.length };
}

/**
 * FP32/INT8 twins in the manifest: same kind and architecture, different precision. The configured
 * model's architecture wins when a kind has several. A manifest entry without `precision` is FP32;
 * any `int8…` precision (the reader exporter writes `int8-qdq`) is INT8.
 */
export function precisionPairs(manifest: ModelManifest, configured: ModelChoice): PrecisionPair[] {
  const pairs: PrecisionPair[] = [];
  for (const kind of ['detector', 'reader'] as const) {
    const sameKind = manifest.models.filter((m) => m.kind === kind);
    const preferred = manifest.models.find((m) => m.name === configured[kind])?.architecture;
    const architectures = [...new Set([preferred, ...sameKind.map((m) => m.architecture)])];
    for (const architecture of architectures) {
      const fp32 = sameKind.find((m) => m.architecture === architecture && (m.precision ?? 'fp32') === 'fp32');
      const int8 = sameKind.find((m) => m.architecture === architecture && String(m.precision ?? '').startsWith('int8'));
      if (fp32 !== undefined && int8 !== undefined) {
        pairs.push({ kind, fp32: fp32.name, int8: int8.name });
        break;
      }
    }
  }
  return pairs;
}

/** The configured models with each paired kind swapped to the given precision. */
export function variantFor(pairs: PrecisionPair[], configured: ModelChoice, precision: 'fp32' | 'int8'): ModelChoice {
  const pick = (kind: PrecisionPair['kind']) => pairs.find((p) => p.kind === kind)?.[precision] ?? configured[kind];
  return { detector: pick('detector'), reader: pick('reader') };
}

// ---------------------------------------------------------------------------------------------
// The clip

/** The 1080p30 clip, encoded once from the bundled 720p15 demo clip; later runs reuse it. */
async function ensureClip(root: string): Promise<{ path: string; built: boolean }> {
  const path = resolve(root, BENCH_CLIP);
  if (existsSync(path) && statSync(path).size > 0) return { path, built: false };
  mkdirSync(dirname(path), { recursive: true });
  // Encoded beside the final name and renamed after, so an interrupted run never leaves a truncated clip that later runs trust.
  const partial = `${path}.partial`;
  process.stderr.write(`bench: encoding ${BENCH_CLIP} from ${SOURCE_CLIP} (once; about 30 s on 2 cores)\n`);
  const started = performance.now();
  try {
    await gstLaunch(encodeArgs(resolve(root, SOURCE_CLIP), partial));
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  renameSync(partial, path);
  process.stderr.write(`bench: clip ready in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  return { path, built: true };
}

function encodeArgs(input: string, output: string): string[] {
  return [
    'filesrc', `location=${input}`, '!', 'qtdemux', '!', 'decodebin', '!', 'videoscale', '!', 'videorate', '!',
    `video/x-raw,width=${WIDTH},height=${HEIGHT},framerate=${FPS}/1`, '!',
    'x264enc', 'speed-preset=veryfast', 'bitrate=8000', `key-int-max=${2 * FPS}`, 'threads=2', '!',
    'h264parse', '!', 'mp4mux', '!', 'filesink', `location=${output}`,
  ];
}

function gstLaunch(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('gst-launch-1.0', ['-q', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err) => fail(new Error(`cannot run gst-launch-1.0 (${err.message}); install GStreamer (scripts/setup)`)));
    child.on('close', (code) => (code === 0 ? done() : fail(new Error(`gst-launch-1.0 exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/** For the progress bar only: the encode keeps the demo clip's duration at 30 fps. */
function expectedFrames(root: string): number {
  try {
    const truth = JSON.parse(readFileSync(resolve(root, SOURCE_CLIP_TRUTH), 'utf8')) as { frames: number; fps: number };
    return Math.round((truth.frames * FPS) / truth.fps);
  } catch {
    return 900;
  }
}

// ---------------------------------------------------------------------------------------------
// Playing the clip

/**
 * Plays the clip through `playSource` exactly as the `read` CLI does (back-pressure, no drops),
 * handing each frame to `consume`, until the clip ends or `limit` frames were consumed. CPU and
 * wall time cover the whole process, GStreamer's and onnxruntime's threads included.
 */
async function playClip(clip: string, label: string, limit: number, consume: (frame: Frame) => Promise<void>, logger: Logger, expected = limit): Promise<PlayResult> {
  const progress = createProgress(Math.min(limit, expected), label);
  const rss = sampleMemory(RSS_SAMPLE_MS);
  let frames = 0;
  let failed: Error | undefined;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // Wall and CPU time end with the last frame consumed, not with the pipeline's stop after it.
  let ended = { wallMs: 0, cpuMs: 0 };
  const mark = () => {
    const cpu = process.cpuUsage(cpuBefore);
    ended = { wallMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  try {
    const played = await playSource(`file://${clip}`, {
      id: 'bench',
      width: WIDTH,
      height: HEIGHT,
      decoderThreads,
      ...(scaledLongSides === undefined ? {} : { scaledLongSides }),
      // Analysing one frame can take far longer than a camera would stay silent.
      stallTimeoutMs: 60_000,
      logger,
      onFrame: async (frame) => {
        try {
          await consume(frame);
        } catch (err) {
          // A benchmark that silently skips failing frames would report a rate for work it did not do.
          failed = err instanceof Error ? err : new Error(String(err));
          return 'stop';
        }
        frames++;
        progress.tick();
        mark();
        return frames >= limit ? 'stop' : undefined;
      },
    });
    if (failed) throw failed;
    if (played.endedEarly !== undefined) throw new Error(`${label}: capture failed: ${played.endedEarly}`);
    return { frames, wallMs: ended.wallMs, cpuMs: ended.cpuMs, rssMb: rss.stop(), decoder: played.decoder };
  } finally {
    rss.stop();
    progress.stop();
  }
}

function cpuPct(play: PlayResult): { cpuPctOneCore: number; cpuPctAllCores: number } {
  const oneCore = (100 * play.cpuMs) / play.wallMs;
  return { cpuPctOneCore: oneCore, cpuPctAllCores: oneCore / cpus().length };
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function measureDecode(clip: string, expected: number, logger: Logger): Promise<BenchResults['decode']> {
  // Everything the consumer does not do is what the camera side costs: decode, scale, RGB, unpadding.
  const play = await playClip(clip, 'decode only', Number.MAX_SAFE_INTEGER, async () => {}, logger, expected);
  if (play.frames === 0) throw new Error('decode only: the clip yielded no frames');
  if (Math.abs(play.frames - expected) > FPS) logger.warn({ frames: play.frames, expected }, 'decoded frame count differs from the demo clip at 30 fps');
  const fps = (1000 * play.frames) / play.wallMs;
  return { decoder: play.decoder ?? null, frames: play.frames, fps, msPerFrame: 1000 / fps, ...cpuPct(play), rssMb: play.rssMb };
}

function engineLoad(config: Config, models: ModelChoice, logger: Logger): Promise<PlateEngine> {
  return PlateEngine.load(engineOptions(config, { detector: models.detector, reader: models.reader, logger }));
}

/**
 * The engine times the reader per frame; per-plate cost needs the batch size, which only the
 * reader sees. Wrapping its read() leaves the engine untouched. A frame may call it more than once
 * (a closer look at an unsure plate reads again), so crops are counted until the frame takes them.
 * It also keeps the first frames' plates (each cut out with room for every framing) for timing the
 * reader on its own afterwards.
 */
function watchReader(reader: PlateReader): { take(): number; kept: PlateRegion[][] } {
  let count = 0;
  const kept: PlateRegion[][] = [];
  const read = reader.read.bind(reader);
  reader.read = (crops) => {
    count += crops.length;
    if (crops.length > 0 && kept.length < READER_ALONE_FRAMES) kept.push(crops.map(cutOut));
    return read(crops);
  };
  return {
    take: () => {
      const n = count;
      count = 0;
      return n;
    },
    kept,
  };
}

/** Frames whose plates are read again, reader alone, after the end-to-end pass. */
const READER_ALONE_FRAMES = 40;
/** Timed runs of the reader alone (after a warm-up run); the target must hold in every one. */
const READER_ALONE_RUNS = 5;

/** The region around a plate box that every framing reads from (margins up to 8 % x, 30 % y), and the box within it. */
function cutOut({ image, box }: PlateRegion): PlateRegion {
  // clampBox gives whole pixels inside the picture, which is what cropRgb needs.
  const [x, y, w, h] = clampBox(padBox(box, box[2] * 0.25, box[3] * 0.6), image.width, image.height) ?? [0, 0, image.width, image.height];
  return { image: cropRgb(image, [x, y, w, h]), box: [box[0] - x, box[1] - y, box[2], box[3]] };
}

/**
 * The reader on its own, one plate batch (one frame's plates) at a time with nothing else running:
 * the figure the reader target (one core of this machine) is about. In the pipeline it shares the
 * cores with decoding and detection, which the end-to-end per-crop figure shows.
 */
async function measureReaderAlone(reader: PlateReader, frames: PlateRegion[][]): Promise<BenchResults['readerAlone']> {
  if (frames.length === 0) return null;
  // The warm-up run: caches and JIT for these sizes.
  for (const regions of frames) await reader.read(regions);
  const plates = frames.reduce((n, r) => n + r.length, 0);
  const perPlate: number[] = [];
  const runs: number[] = [];
  let totalMs = 0;
  for (let run = 0; run < READER_ALONE_RUNS; run++) {
    const cpu = process.cpuUsage();
    for (const regions of frames) {
      const t = performance.now();
      await reader.read(regions);
      const ms = performance.now() - t;
      perPlate.push(ms / regions.length);
      totalMs += ms;
    }
    const used = process.cpuUsage(cpu);
    runs.push((used.user + used.system) / 1000 / plates);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  // The mean weighs plates equally (total time over plates); p95 is over frames' per-plate averages.
  return {
    plates,
    runs,
    cpuMsPerPlate: { min: sorted[0]!, median: sorted[sorted.length >> 1]!, max: sorted[sorted.length - 1]! },
    msPerPlate: { ...summarise(perPlate), mean: totalMs / (plates * READER_ALONE_RUNS) },
  };
}

/** Held frames for the per-stage figures: every STAGE_FRAME_STRIDE-th frame from the start of the clip. */
const STAGE_FRAMES = 24;
const STAGE_FRAME_STRIDE = 8;

/** Copies of STAGE_FRAMES frames spread over the first vehicles (each 1080p frame is 6 MB). */
async function holdFrames(clip: string, logger: Logger): Promise<Frame[]> {
  const held: Frame[] = [];
  await playClip(
    clip,
    'frames for the stage figures',
    STAGE_FRAMES * STAGE_FRAME_STRIDE,
    async (frame) => {
      if (frame.seq % STAGE_FRAME_STRIDE === 0) held.push({ ...frame, rgb: Buffer.from(frame.rgb) });
    },
    logger,
  );
  return held;
}

async function measureEndToEnd(clip: string, engine: PlateEngine, config: Config, frames: number, logger: Logger): Promise<{ result: BenchResults['endToEnd']; play: PlayResult; plates: PlateRegion[][] }> {
  const samples: FrameSample[] = [];
  const crops = watchReader(engine.reader);
  let pending: Omit<FrameSample, 'analyseMs'> | undefined;
  const pipeline = new CameraPipeline(
    engine,
    {
      deviceId: config.deviceId,
      cameraId: 'bench',
      location: config.location,
      tracker: config.thresholds,
      fineLookEvery: config.models.fineLookEveryFrames,
      logger: logger.child({ component: 'pipeline' }),
      onFrameAnalysed: (timings, plates) => (pending = { ...timings, plates, crops: crops.take() }),
    },
    // Video time: frames are analysed slower than real time, and the tracker's timeouts are in stream time.
    (f) => (f.seq * 1000) / FPS,
  );
  const reads: Read[] = [];
  const play = await playClip(
    clip,
    'end to end',
    frames,
    async (frame) => {
      const t0 = performance.now();
      reads.push(...(await pipeline.analyse(frame)));
      if (pending !== undefined) samples.push({ ...pending, analyseMs: performance.now() - t0 });
      pending = undefined;
    },
    logger,
  );
  reads.push(...(await pipeline.flush()));
  const fps = (1000 * play.frames) / play.wallMs;
  return {
    play,
    plates: crops.kept,
    result: {
      frames: play.frames,
      fps,
      msPerFrame: 1000 / fps,
      detectMs: summarise(samples.map((s) => s.detectMs)),
      readMsPerFrame: summarise(samples.map((s) => s.readMs)),
      readMsPerCrop: perCrop(samples),
      analyseMs: summarise(samples.map((s) => s.analyseMs)),
      ...cpuPct(play),
      cpuMsPerFrame: play.cpuMs / play.frames,
      rssMb: play.rssMb,
      // A synthetic clip: its made-up plates are fine to show, and they prove the engine read something.
      reads: { count: reads.length, plates: reads.map((r) => r.plate) },
    },
  };
}

/** Total reader time over total crops (frames without crops cost nothing); p95 over frames' per-crop averages. */
function perCrop(samples: FrameSample[]): Stat & { crops: number } {
  const withCrops = samples.filter((s) => s.crops > 0);
  const crops = withCrops.reduce((n, s) => n + s.crops, 0);
  const ms = withCrops.reduce((n, s) => n + s.readMs, 0);
  const p95 = summarise(withCrops.map((s) => s.readMs / s.crops)).p95;
  return { mean: crops === 0 ? 0 : ms / crops, p95, n: withCrops.length, crops };
}

/**
 * INT8 against FP32 on the same frames: both engines read each frame, alternating which goes first
 * so neither always finds the caches warm. Adding a pair to the manifest is all it takes to run it.
 */
async function comparePrecisions(clip: string, expected: number, config: Config, manifest: ModelManifest, logger: Logger): Promise<PrecisionResult> {
  const configured = { detector: config.models.detector, reader: config.models.reader };
  const pairs = precisionPairs(manifest, configured);
  if (pairs.length === 0) return { measured: false, reason: 'only FP32 interim models shipped' };
  const variants = { fp32: variantFor(pairs, configured, 'fp32'), int8: variantFor(pairs, configured, 'int8') };
  const engines = await loadBoth(config, variants, logger);
  // A pair the engine cannot run yet (a new architecture) is reported, not fatal: the rest of the run stands.
  if (typeof engines === 'string') return { measured: false, reason: `cannot load the pair (${engines})` };
  const timings = { fp32: [] as StageTimings[], int8: [] as StageTimings[] };
  try {
    let odd = false;
    await playClip(
      clip,
      'int8 vs fp32',
      Number.MAX_SAFE_INTEGER,
      async (frame) => {
        if (frame.seq % PRECISION_STRIDE !== 0) return;
        const img = frameImage(frame);
        const order = (odd = !odd) ? (['fp32', 'int8'] as const) : (['int8', 'fp32'] as const);
        for (const precision of order) timings[precision].push((await engines[precision].readImage(img)).timings);
      },
      logger,
      expected,
    );
    const summary = (p: 'fp32' | 'int8'): VariantTimings => ({ models: variants[p], detectMs: summarise(timings[p].map((t) => t.detectMs)), readMs: summarise(timings[p].map((t) => t.readMs)) });
    const fp32 = summary('fp32');
    const int8 = summary('int8');
    const has = (kind: PrecisionPair['kind']) => pairs.some((p) => p.kind === kind);
    const networks: NetworkTiming[] = [];
    for (const pair of pairs) networks.push(await timeNetworks(config, pair));
    return {
      measured: true,
      pairs,
      networks,
      frames: timings.fp32.length,
      fp32,
      int8,
      speedup: {
        ...(has('detector') ? { detector: fp32.detectMs.mean / int8.detectMs.mean } : {}),
        ...(has('reader') ? { reader: fp32.readMs.mean / int8.readMs.mean } : {}),
        total: (fp32.detectMs.mean + fp32.readMs.mean) / (int8.detectMs.mean + int8.readMs.mean),
      },
    };
  } finally {
    await Promise.all([engines.fp32.close(), engines.int8.close()]);
  }
}

/** Input of each kind as the daemon runs it: a 1080p frame at the working size, a plate's first framing. */
const NETWORK_SHAPES: Record<PrecisionPair['kind'], (config: Config) => number[]> = {
  detector: (config) => [1, 3, Math.ceil((config.models.detectorMaxSide * 9) / 16 / 32) * 32, Math.ceil(config.models.detectorMaxSide / 32) * 32],
  reader: () => [1, 3, 48, 160],
};

/** FP32 and INT8 networks of one kind on the same fixed input, alternating, median of 40 runs each. */
async function timeNetworks(config: Config, pair: PrecisionPair): Promise<NetworkTiming> {
  const shape = NETWORK_SHAPES[pair.kind](config);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5;
  const sessions = await Promise.all(
    [pair.fp32, pair.int8].map((name) => createSession(resolveModel(config.models.manifest, name).bytes, { intraOpThreads: config.models.intraOpThreads })),
  );
  try {
    const times: number[][] = [[], []];
    const input = new ort.Tensor('float32', data, shape);
    for (let i = 0; i < 45; i++) {
      for (const k of i % 2 ? [0, 1] : [1, 0]) {
        const s = sessions[k]!;
        const t = performance.now();
        await s.run({ [s.inputNames[0]!]: input });
        if (i >= 5) times[k]!.push(performance.now() - t);
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    const fp32Ms = median(times[0]!);
    const int8Ms = median(times[1]!);
    return { kind: pair.kind, shape, fp32Ms, int8Ms, speedup: fp32Ms / int8Ms };
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

async function loadBoth(config: Config, variants: Record<'fp32' | 'int8', ModelChoice>, logger: Logger): Promise<Record<'fp32' | 'int8', PlateEngine> | string> {
  let fp32: PlateEngine | undefined;
  try {
    fp32 = await engineLoad(config, variants.fp32, logger);
    return { fp32, int8: await engineLoad(config, variants.int8, logger) };
  } catch (err) {
    await fp32?.close();
    return err instanceof Error ? err.message : String(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Verdicts and report

export function checkTargets(r: Pick<BenchResults, 'endToEnd' | 'readerAlone' | 'peakRssMb' | 'precision' | 'options' | 'startup'>): TargetCheck[] {
  const oneThread = r.options.intraOpThreads === 1;
  const precision = r.precision;
  const startup = r.startup;
  const notRun = { value: null, met: null, note: 'not run (--no-startup)' };
  return [
    { name: 'end to end, every 1080p30 frame', target: `>= ${TARGETS.endToEndFps} fps`, value: r.endToEnd.fps, unit: 'fps', met: r.endToEnd.fps >= TARGETS.endToEndFps },
    { name: 'CPU per analysed 1080p frame, whole process', target: `<= ${TARGETS.cpuMsPerFrame} ms`, value: r.endToEnd.cpuMsPerFrame, unit: 'ms', met: r.endToEnd.cpuMsPerFrame <= TARGETS.cpuMsPerFrame },
    { name: 'peak RSS', target: `<= ${TARGETS.peakRssMb} MB`, value: r.peakRssMb, unit: 'MB', met: r.peakRssMb <= TARGETS.peakRssMb },
    {
      name: 'detector per 1080p frame, one core',
      target: `<= ${TARGETS.detectorMs} ms`,
      value: r.endToEnd.detectMs.mean,
      unit: 'ms',
      // The target is for one core; with more threads the figure is not comparable.
      met: oneThread ? r.endToEnd.detectMs.mean <= TARGETS.detectorMs : null,
      ...(oneThread ? {} : { note: `measured with ${r.options.intraOpThreads} threads` }),
    },
    {
      name: 'reader per plate, one core',
      target: `<= ${TARGETS.readerMsPerPlate} ms in every run`,
      // Every run, not on average: judged on the slowest of the runs.
      value: r.readerAlone?.cpuMsPerPlate.max ?? null,
      unit: 'ms',
      met: r.readerAlone && oneThread ? r.readerAlone.cpuMsPerPlate.max <= TARGETS.readerMsPerPlate : null,
      ...(r.readerAlone === null ? { note: 'nothing to read in these frames' } : oneThread ? { note: `slowest of ${r.readerAlone.runs.length} runs, CPU` } : { note: `measured with ${r.options.intraOpThreads} threads` }),
    },
    startup === null
      ? { name: 'read of one image, start to exit', target: `<= ${TARGETS.readOneImageS} s`, unit: 's', ...notRun }
      : { name: 'read of one image, start to exit', target: `<= ${TARGETS.readOneImageS} s`, value: startup.read.medianWallS, unit: 's', met: startup.read.medianWallS <= TARGETS.readOneImageS, note: `median of ${startup.read.runs.length} spawns, wall` },
    startup === null
      ? { name: 'run to first analysed frame', target: `<= ${TARGETS.runFirstFrameS} s`, unit: 's', ...notRun }
      : { name: 'run to first analysed frame', target: `<= ${TARGETS.runFirstFrameS} s`, value: startup.run.medianWallS, unit: 's', met: startup.run.medianWallS <= TARGETS.runFirstFrameS, note: `median of ${startup.run.runs.length} spawns, wall` },
    // The target is the quantisation's: each network on its own. Scaling the frame and building the
    // tensors cost the same at either precision, so the pipeline figure is reported beside it.
    precision.measured && precision.networks?.length
      ? (() => {
          const worst = Math.min(...precision.networks.map((n) => n.speedup));
          return { name: 'INT8 speed-up over FP32', target: `>= ${TARGETS.int8Speedup}x`, value: worst, unit: 'x', met: worst >= TARGETS.int8Speedup, note: 'slowest of the networks; detect + read in the pipeline alongside' };
        })()
      : { name: 'INT8 speed-up over FP32', target: `>= ${TARGETS.int8Speedup}x`, value: null, unit: 'x', met: null, note: precision.measured ? 'networks not timed' : precision.reason },
  ];
}

const f1 = (v: number) => v.toFixed(1);
const f0 = (v: number) => v.toFixed(0);
const verdict = (met: boolean | null | undefined) => (met === true ? 'met' : met === false ? 'NOT MET' : met === null ? 'n/a' : '');

type Row = [measure: string, ours: string, target?: string, status?: string];

export function reportRows(r: BenchResults): Row[] {
  const target = (name: string) => r.targets.find((t) => t.name === name);
  const withTarget = (measure: string, ours: string, name: string): Row => {
    const t = target(name);
    return [measure, ours, t?.target ?? '', verdict(t?.met) + (t?.note ? `: ${t.note}` : '')];
  };
  const e = r.endToEnd;
  const rows: Row[] = [
    [`decode only (${r.decode.decoder ?? 'H.264'} -> 1080p RGB)`, `${f1(r.decode.fps)} fps, ${f1(r.decode.msPerFrame)} ms/frame`],
    ['  CPU while decoding', `${f0(r.decode.cpuPctOneCore)} % of one core, ${f0(r.decode.cpuPctAllCores)} % of ${r.machine.cores}`],
    withTarget(`end to end (${e.frames} frames, none dropped)`, `${f1(e.fps)} fps, ${f0(e.msPerFrame)} ms/frame`, 'end to end, every 1080p30 frame'),
    withTarget('  detect per frame', `mean ${f1(e.detectMs.mean)} ms, p95 ${f1(e.detectMs.p95)}`, 'detector per 1080p frame, one core'),
    ['  read per frame', `mean ${f1(e.readMsPerFrame.mean)} ms, p95 ${f1(e.readMsPerFrame.p95)}`],
    ['  read per plate crop, sharing the cores', e.readMsPerCrop.crops > 0 ? `mean ${f1(e.readMsPerCrop.mean)} ms, p95 ${f1(e.readMsPerCrop.p95)} (${e.readMsPerCrop.crops} crops)` : 'no crops'],
    withTarget(
      'reader per plate, alone on one core',
      r.readerAlone === null
        ? 'no plates'
        : `CPU min ${r.readerAlone.cpuMsPerPlate.min.toFixed(2)} / median ${r.readerAlone.cpuMsPerPlate.median.toFixed(2)} / max ${r.readerAlone.cpuMsPerPlate.max.toFixed(2)} ms over ${r.readerAlone.runs.length} runs (${r.readerAlone.plates} plates each)`,
      'reader per plate, one core',
    ),
    ...(r.readerAlone === null ? [] : [['  wall per plate, all runs', `mean ${r.readerAlone.msPerPlate.mean.toFixed(2)} ms, p95 ${r.readerAlone.msPerPlate.p95.toFixed(2)}`] as Row]),
    ['  analyse per frame (all stages)', `mean ${f0(e.analyseMs.mean)} ms, p95 ${f0(e.analyseMs.p95)}`],
    // Decode runs on GStreamer's threads alongside analysis, so the stages overlap rather than add up.
    ['  stage means', `decode ${f1(r.decode.msPerFrame)}, detect ${f1(e.detectMs.mean)}, read ${f1(e.readMsPerFrame.mean)}, rest ${f1(Math.max(0, e.analyseMs.mean - e.detectMs.mean - e.readMsPerFrame.mean))} ms`],
    withTarget('  CPU end to end, per analysed frame', `${f1(e.cpuMsPerFrame)} ms (${f0(e.cpuPctOneCore)} % of one core, ${f0(e.cpuPctAllCores)} % of ${r.machine.cores})`, 'CPU per analysed 1080p frame, whole process'),
    ...stageRows(r.stages),
    ['  RSS during end to end', `mean ${f0(e.rssMb.mean)} MB, max ${f0(e.rssMb.max)} MB`],
    withTarget('peak RSS (whole run)', `${f0(r.peakRssMb)} MB`, 'peak RSS'),
    ['  RSS after decode, after model load', `${f0(r.rssMbAt.afterDecode)} MB, ${f0(r.rssMbAt.afterModelLoad)} MB`],
    ...memoryRows('decode only', r.decode.rssMb),
    ...memoryRows('end to end', e.rssMb),
    ['reads found', `${e.reads.count}`],
  ];
  const p = r.precision;
  if (p.measured && p.networks?.length) {
    const each = p.networks.map((n) => `${n.kind} ${n.speedup.toFixed(2)}x (${n.fp32Ms.toFixed(2)} / ${n.int8Ms.toFixed(2)} ms)`).join(', ');
    rows.push(withTarget('INT8 vs FP32, networks', each, 'INT8 speed-up over FP32'));
    rows.push(['  detect + read in the pipeline', `${p.speedup.total.toFixed(2)}x (${p.frames} frames)`]);
  } else rows.push(withTarget('INT8 vs FP32', p.measured ? `${p.speedup.total.toFixed(2)}x (${p.frames} frames)` : 'not measured', 'INT8 speed-up over FP32'));
  const su = r.startup;
  const each = (v: number[]) => v.map((x) => x.toFixed(2)).join(' / ');
  rows.push(
    withTarget('start-up: read of one image', su ? `median ${su.read.medianWallS.toFixed(2)} s (runs ${each(su.read.runs.map((x) => x.wallS))} s; CPU ${each(su.read.runs.map((x) => x.cpuS ?? NaN))} s)` : 'not run', 'read of one image, start to exit'),
    withTarget('start-up: run to first analysed frame', su ? `median ${su.run.medianWallS.toFixed(2)} s (runs ${each(su.run.runs.map((x) => x.wallS))} s; CPU ${each(su.run.runs.map((x) => x.cpuS ?? NaN))} s)` : 'not run', 'run to first analysed frame'),
  );
  if (su) rows.push(['  models loaded, http listening', `${each(su.run.runs.map((x) => x.modelsLoadedS ?? NaN))} s, ${each(su.run.runs.map((x) => x.httpListeningS ?? NaN))} s after the spawn`]);
  return rows;
}

/** Where the RSS of a pass's highest sample was (issue 23): malloc's heaps, other anonymous memory, libraries. */
function memoryRows(pass: string, rss: RssDuring): Row[] {
  return rss.atMax === undefined ? [] : [[`  RSS by part at the ${pass} max (MB)`, `${f0(rss.atMax.rssMb)}: ${formatMemoryParts(rss.atMax)}`]];
}

/** CPU ms per frame by stage, each alone; decode overlaps analysis in the pipeline, so these add up to more than the wall time. */
function stageRows(st: StageCpu | null): Row[] {
  if (st === null) return [];
  const ms = (v: number | null) => (v === null ? 'n/a' : f1(v));
  const d = st.detect;
  return [
    ['  CPU by stage, each alone (ms/frame)', `decode ${ms(st.decodeMs)}, colour conversion + scaling ${ms(st.colourAndScaleMs)}, hand-over to JS ${ms(st.handOverMs)}${st.scaleToWorkingMs === null || st.scaleToWorkingMs === undefined ? '' : `; the addon's copies at the detector's sizes ${ms(st.scaleToWorkingMs)} alone (part of the hand-over)`}`],
    ['    detect', `${f1(d.total)}: resize ${f1(d.resize)}, tensor ${f1(d.tensor)}, network ${f1(d.network)}, boxes ${f1(d.boxes)}, other ${f1(d.other)} (${st.frames} frames)`],
    ['    read', `${f1(st.readMs)} (${st.boxesPerFrame.toFixed(1)} boxes per frame)`],
    ['    per read: JPEG, store', `${f1(st.jpegMsPerRead)}, ${f1(st.storeMsPerRead)} ms`],
  ];
}

export function formatTable(rows: Row[]): string {
  const header: Row = ['measure', 'ours', 'target', 'status'];
  const all = [header, ...rows].map((r) => [r[0], r[1], r[2] ?? '', r[3] ?? '']);
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ') + '  ' + '-'.repeat(7);
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}

function report(r: BenchResults, jsonPath: string): string {
  const m = r.machine;
  return [
    `alpr-edge bench, ${r.date}, ${m.cpu} x${m.cores}, ${(m.memoryMb / 1024).toFixed(0)} GiB, node ${m.node}, ${m.commit ?? 'no git commit'}, load ${m.loadAverage.join(' ')} at start`,
    `clip ${r.clip.width}x${r.clip.height} @ ${r.clip.fps} fps H.264 (${r.clip.path}); onnxruntime ${r.options.intraOpThreads} thread(s); detector max side ${r.options.detectorMaxSide}; decoder threads ${r.options.decoderThreads ?? 'default'}; ${r.options.scaleInCapture === false ? 'frames resized for the detector in JS (--resize-in-js)' : "frames scaled to the detector's size by the capture"}`,
    `models ${r.models.version} (${r.models.precision}${r.models.interim ? ', interim' : ''})`,
    `environment ${r.environment.settings.join(' ')}${r.environment.unit ? ` (${UNIT_FILE})` : ' (--no-unit-env: this shell\'s)'}`,
    `int8 vs fp32: ${r.precision.measured ? r.precision.pairs.map((p) => `${p.kind} ${p.fp32} / ${p.int8}`).join(', ') : `n/a: ${r.precision.reason}`}`,
    '',
    formatTable(reportRows(r)),
    '',
    `json: ${jsonPath}`,
  ].join('\n');
}

function machine(root: string, loadAverage: number[]): BenchResults['machine'] {
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    // Not a checkout (an installed package): the date and machine still identify the run.
  }
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryMb: Math.round(totalmem() / MB), os: `${platform()} ${release()}`, node: process.version, commit, loadAverage };
}

function modelPrecision(manifest: ModelManifest, models: ModelChoice): string {
  const of = (name: string) => manifest.models.find((m) => m.name === name)?.precision ?? 'fp32';
  const det = of(models.detector);
  const rec = of(models.reader);
  return det === rec ? det : `detector ${det}, reader ${rec}`;
}

/**
 * The decode pass alone, RUNS times (default 3), one line each. Wall-clock fps follows the CPU
 * share other processes leave us (2 cores, shared), so each line also gives the load average and
 * CPU ms per frame: that one barely moves with load, and is the number to compare across builds.
 */
async function decodeOnly(rawRuns = '3', rawThreads?: string): Promise<void> {
  rerunUnderUnitEnvironment(installDir());
  const runs = positiveInteger('decode RUNS', rawRuns);
  if (rawThreads !== undefined) decoderThreads = nonNegativeInteger('decode THREADS', rawThreads);
  // As the daemon captures: each frame also scaled to the detector's working size.
  scaledLongSides = scaledLongSidesFor(defaultConfig().models.detectorMaxSide);
  const root = installDir();
  const logger = createLogger(process.env['ALPR_EDGE_LOG_LEVEL'] ?? 'warn', 'bench');
  const clip = await ensureClip(root);
  const expected = expectedFrames(root);
  for (let run = 1; run <= runs; run++) {
    const load = loadavg()[0]!.toFixed(2);
    const d = await measureDecode(clip.path, expected, logger);
    const cpuMsPerFrame = (d.msPerFrame * d.cpuPctOneCore) / 100;
    process.stdout.write(
      `decode run ${run}/${runs}: ${d.fps.toFixed(1)} fps, ${d.msPerFrame.toFixed(1)} ms/frame, ` +
        `CPU ${d.cpuPctOneCore.toFixed(0)} % of one core, ${cpuMsPerFrame.toFixed(1)} CPU ms/frame ` +
        `(${d.frames} frames, ${d.decoder ?? 'decoder unknown'}, ${decoderThreads || 'default'} decoder threads, load ${load})\n`,
    );
  }
}

/**
 * The bench measures the process as systemd/alpr-edge.service runs the daemon. glibc and V8 read
 * some of the unit's settings only as a process starts (MALLOC_ARENA_MAX, NODE_OPTIONS), so a bench
 * started without them runs itself again with them, stdio shared, and exits with its code.
 */
function rerunUnderUnitEnvironment(root: string): void {
  const unit = daemonUnitEnvironment(root);
  if (Object.entries(unit).every(([name, value]) => process.env[name] === value)) return;
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...unit } });
  if (child.error) throw child.error;
  process.exit(child.status ?? 1);
}

function environment(root: string, unitEnv: boolean): BenchResults['environment'] {
  const unit = daemonUnitEnvironment(root);
  return { unit: unitEnv, settings: Object.keys(unit).map((name) => `${name}=${process.env[name] ?? '(unset)'}`) };
}

async function main(): Promise<void> {
  // `npm run bench -- store`: the ring-store benchmark (30-day volume, purge, lookups).
  if (process.argv[2] === 'store') return (await import('./bench-store.js')).main();
  // `npm run bench -- hotlist`: the hot-list matcher with 1M entries (load, memory, per read).
  if (process.argv[2] === 'hotlist') return (await import('./bench-hotlist.js')).main();
  // `npm run bench -- fleet`: 200+ simulated devices publishing hits and reads through Mosquitto.
  if (process.argv[2] === 'fleet') return (await import('./bench-fleet.js')).main();
  // `npm run bench -- soak [--minutes N]`: the daemon on a looping clip for an hour; memory over time.
  if (process.argv[2] === 'soak') return (await import('./bench-soak.js')).main();
  // `npm run bench -- decode [RUNS]`: only the decode pass, repeated; for A/B runs of capture changes.
  if (process.argv[2] === 'decode') return decodeOnly(process.argv[3], process.argv[4]);
  const opts = parseOptions(process.argv.slice(2));
  if (opts.unitEnv) rerunUnderUnitEnvironment(installDir());
  decoderThreads = opts.decoderThreads;
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const root = installDir();
  const config = defaultConfig({ models: { intraOpThreads: opts.threads, ...(opts.maxSide === undefined ? {} : { detectorMaxSide: opts.maxSide }) } });
  config.models.manifest = opts.manifest === undefined ? resolveInstallPath(config.models.manifest) : resolve(opts.manifest);
  const manifest = readManifest(config.models.manifest);
  const logger = createLogger(process.env['ALPR_EDGE_LOG_LEVEL'] ?? 'warn', 'bench');
  const configured = { detector: config.models.detector, reader: config.models.reader };
  scaledLongSides = opts.scaleInCapture ? scaledLongSidesFor(config.models.detectorMaxSide) : undefined;

  const clip = await ensureClip(root);
  const expected = expectedFrames(root);
  const decode = await measureDecode(clip.path, expected, logger);
  const afterDecode = process.memoryUsage.rss() / MB;
  const engine = await engineLoad(config, configured, logger);
  const afterModelLoad = process.memoryUsage.rss() / MB;
  let e2e: Awaited<ReturnType<typeof measureEndToEnd>>;
  let readerAlone: BenchResults['readerAlone'];
  let peakRssMb: number;
  let stages: StageCpu;
  try {
    e2e = await measureEndToEnd(clip.path, engine, config, opts.frames, logger);
    readerAlone = await measureReaderAlone(engine.reader, e2e.plates);
    // Taken before the held frames of the stage figures and the precision comparison, which holds two more engines than the daemon ever does.
    peakRssMb = process.resourceUsage().maxRSS / 1024;
    const held = await holdFrames(clip.path, logger);
    const capture = await measureCaptureStages(clip.path, decode.frames, decoderThreads, (decode.msPerFrame * decode.cpuPctOneCore) / 100, { width: WIDTH, height: HEIGHT });
    stages = { ...capture, scaleToWorkingMs: measureScaleToWorking(held), ...(await measureAnalysisStages(engine, held)) };
  } finally {
    await engine.close();
  }
  const precision = await comparePrecisions(clip.path, expected, config, manifest, logger);
  const startup = opts.startup ? await measureStartup(root, resolve(root, STARTUP_IMAGE), clip.path) : null;

  const partial = {
    date: new Date().toISOString(),
    machine: machine(root, loadAtStart),
    environment: environment(root, opts.unitEnv),
    options: { frames: opts.frames, intraOpThreads: config.models.intraOpThreads, detectorMaxSide: config.models.detectorMaxSide, decoderThreads: opts.decoderThreads, scaleInCapture: opts.scaleInCapture },
    clip: { path: relative(root, clip.path), width: WIDTH, height: HEIGHT, fps: FPS, builtThisRun: clip.built },
    models: { version: engine.modelVersion, interim: engine.interim, ...configured, precision: modelPrecision(manifest, configured) },
    decode,
    endToEnd: e2e.result,
    readerAlone,
    peakRssMb,
    rssMbAt: { afterDecode, afterModelLoad },
    precision,
    stages,
    startup,
  };
  const results: BenchResults = { ...partial, targets: checkTargets(partial) };
  const jsonPath = resolve(opts.json);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  const shown = relative(process.cwd(), jsonPath);
  process.stdout.write(report(results, shown.startsWith('..') ? jsonPath : shown) + '\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    // GStreamer's bus threads can outlive a stopped pipeline in the binding; the run is over.
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
