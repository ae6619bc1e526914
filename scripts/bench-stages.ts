// Where the CPU of one 1080p frame goes, stage by stage, so the next lever is visible
// (`npm run bench`; docs/benchmarks.md). Each stage runs alone, over frames held in memory or the
// clip decoded by gst-launch-1.0, and is timed with CPU time of the whole process (or child), not
// the wall clock: on a shared machine CPU time moves far less with load.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Frame } from '../src/capture/frame.js';
import { loadGstreamer } from '../src/capture/gst-binding.js';
import { defaultConfig } from '../src/config/defaults.js';
import type { CenterNetPlateDetector, DetectStage, DetectStageMeter } from '../src/inference/centernet-detector.js';
import type { PlateEngine } from '../src/inference/engine.js';
import { clampBox, cropRgb, encodeJpeg, padBox, type RgbImage } from '../src/inference/image.js';
import { StaticClutter } from '../src/inference/static-clutter.js';
import type { Read } from '../src/pipeline/read.js';
import { newReadId } from '../src/pipeline/read-id.js';
import { frameImage } from '../src/pipeline/camera-pipeline.js';
import { openStateDatabaseFor, storePath } from '../src/state/database.js';
import { DeviceKeys } from '../src/state/device-keys.js';
import { ReadStore } from '../src/store/read-store.js';

/** Timed passes over the held frames (after one untimed pass that warms caches and JIT for their sizes). */
const PASSES = 3;
/** Reads written to a temporary store to time the store's part. */
const STORE_READS = 40;

/** CPU ms per frame (per read for JPEG and store), by stage. */
export interface StageCpu {
  frames: number;
  /** gst-launch-1.0 on the whole clip: H.264 decode alone, then decode + scale + RGB conversion. */
  decodeMs: number | null;
  colourAndScaleMs: number | null;
  /**
   * The rest of the capture side: the appsink pull, the frame's Node Buffers and bookkeeping, and
   * (unless --resize-in-js) the addon's scaling of the frame to the detector's working size.
   */
  handOverMs: number | null;
  /** Part of the hand-over, timed alone: the addon's copies of one frame at the detector's sizes (its scaleRgb on the held frames); null with --resize-in-js. */
  scaleToWorkingMs: number | null;
  detect: Record<DetectStage | 'other' | 'total', number>;
  /** Reader (every framing of every box, the closer looks at unsure plates included) per frame. */
  readMs: number;
  /** Boxes read per frame in this pass (the camera's static-clutter memory on, as in the pipeline). */
  boxesPerFrame: number;
  /** Per read: the plate crop (q92) and the overview (q80), as CameraPipeline makes them. */
  jpegMsPerRead: number;
  /** Per read: ReadStore.putMany in batches of 10 (sealing, indexes, LMDB commit). */
  storeMsPerRead: number;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

/** `step` with its CPU time added to `into[key]`; async steps are timed to their settlement. */
function timed<T>(into: Record<string, number>, key: string, step: () => T): T {
  const before = process.cpuUsage();
  const out = step();
  if (out instanceof Promise) return out.finally(() => (into[key] = (into[key] ?? 0) + cpuMs(before))) as T;
  into[key] = (into[key] ?? 0) + cpuMs(before);
  return out;
}

/**
 * CPU of `gst-launch-1.0` decoding the clip with the capture's decoder settings: to fakesink in the
 * decoder's own format, and through the capture's videoscale ! videoconvert to packed RGB. Its
 * CPU comes from bash's `times` for the child, divided by the clip's frames.
 */
async function gstCpuMsPerFrame(clip: string, frames: number, decoderThreads: number, toRgb: boolean, size: { width: number; height: number }): Promise<number | null> {
  const threads = decoderThreads > 0 ? ` max-threads=${decoderThreads}` : '';
  const convert = toRgb ? ` ! videoscale ! videoconvert ! video/x-raw,format=RGB,width=${size.width},height=${size.height}` : '';
  const launch = `gst-launch-1.0 -q filesrc location="$0" ! qtdemux ! h264parse ! avdec_h264${threads}${convert} ! fakesink sync=false`;
  const out = await new Promise<string | null>((done) => {
    const child = spawn('bash', ['-c', `${launch} >/dev/null && times`, clip], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', () => done(null));
    child.on('close', (code) => done(code === 0 ? text : null));
  });
  const line = out?.trim().split('\n')[1];
  const m = line === undefined ? null : /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line.trim());
  if (!m) return null;
  return ((Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000) / frames;
}

/** The capture side split: decode, colour conversion and scaling, hand-over (from the decode-only pass's CPU per frame). */
export async function measureCaptureStages(clip: string, frames: number, decoderThreads: number, cameraSourceCpuMsPerFrame: number, size: { width: number; height: number }): Promise<Pick<StageCpu, 'decodeMs' | 'colourAndScaleMs' | 'handOverMs'>> {
  const decodeMs = await gstCpuMsPerFrame(clip, frames, decoderThreads, false, size);
  const rgbMs = await gstCpuMsPerFrame(clip, frames, decoderThreads, true, size);
  return {
    decodeMs,
    colourAndScaleMs: decodeMs !== null && rgbMs !== null ? Math.max(0, rgbMs - decodeMs) : null,
    handOverMs: rgbMs !== null ? Math.max(0, cameraSourceCpuMsPerFrame - rgbMs) : null,
  };
}

/**
 * CPU of the addon's copies of one frame at the detector's sizes (what its pull does on a pool
 * thread for every frame: the working resolution from the frame, the coarse look from that), timed
 * on the held frames on this thread; null when they carry no copies.
 */
export function measureScaleToWorking(held: Frame[]): number | null {
  const sized = held.filter((f) => f.scaled !== undefined);
  if (sized.length === 0) return null;
  const { scaleRgb } = loadGstreamer();
  const copies = (f: Frame) => {
    let from = { width: f.width, height: f.height, data: f.rgb };
    for (const s of f.scaled!) from = { width: s.width, height: s.height, data: scaleRgb(from.data, from.width, from.height, s.width, s.height) };
  };
  const run = () => sized.forEach(copies);
  run();
  const before = process.cpuUsage();
  for (let pass = 0; pass < PASSES; pass++) run();
  return cpuMs(before) / (PASSES * sized.length);
}

/**
 * Detect (its steps metered through the detector), read, JPEG and store on frames held in memory,
 * nothing else running. The engine must be the CenterNet detector's (the steps are its own).
 */
export async function measureAnalysisStages(engine: PlateEngine, held: Frame[]): Promise<Omit<StageCpu, 'decodeMs' | 'colourAndScaleMs' | 'handOverMs' | 'scaleToWorkingMs'>> {
  const detector = engine.detector as CenterNetPlateDetector;
  const steps: Record<string, number> = {};
  let metering = false;
  const meter: DetectStageMeter = (stage, step) => (metering ? timed(steps, stage, step) : step());
  detector.setStageMeter(meter);
  // With the capture's scaled copy when the frames came with one, as CameraPipeline hands them over.
  const images: RgbImage[] = held.map(frameImage);

  // Detect alone: its steps, and the whole call for what the steps leave out.
  const whole: Record<string, number> = {};
  for (let pass = 0; pass <= PASSES; pass++) {
    metering = pass > 0;
    for (const img of images) {
      if (metering) await timed(whole, 'detect', () => detector.detect(img));
      else await detector.detect(img);
    }
  }
  metering = false;
  const perFrame = (ms: number | undefined) => (ms ?? 0) / (PASSES * images.length);
  const detect = {
    resize: perFrame(steps['resize']),
    tensor: perFrame(steps['tensor']),
    network: perFrame(steps['network']),
    boxes: perFrame(steps['boxes']),
    total: perFrame(whole['detect']),
    other: 0,
  };
  detect.other = Math.max(0, detect.total - detect.resize - detect.tensor - detect.network - detect.boxes);

  // Read: the engine's readImage as the pipeline calls it (a camera's clutter memory, frames in
  // order), timing only the reader and the detector's closer looks inside it.
  const reading: Record<string, number> = {};
  let boxes = 0;
  const read = engine.reader.read.bind(engine.reader);
  const refine = detector.refine.bind(detector);
  let timing = false;
  engine.reader.read = (regions) => {
    if (timing) boxes += regions.length;
    return timing ? timed(reading, 'read', () => read(regions)) : read(regions);
  };
  detector.refine = (img, box) => (timing ? timed(reading, 'read', () => refine(img, box)) : refine(img, box));
  try {
    for (let pass = 0; pass <= PASSES; pass++) {
      timing = pass > 0;
      const clutter = new StaticClutter();
      for (const img of images) await engine.readImage(img, clutter);
    }
  } finally {
    engine.reader.read = read;
    detector.refine = refine;
  }

  // JPEG and store, per read: a plate-sized box in the middle of each held frame.
  const jpeg: Record<string, number> = {};
  const evidence: { plateJpeg: Buffer; overviewJpeg: Buffer }[] = [];
  for (let pass = 0; pass <= PASSES; pass++) {
    for (const img of images) {
      const box: [number, number, number, number] = [img.width / 2 - 60, img.height / 2 - 30, 120, 60];
      const cropBox = clampBox(padBox(box, box[2] * 0.2, box[3] * 0.8), img.width, img.height)!;
      const make = () => Promise.all([encodeJpeg(cropRgb(img, cropBox), 92), encodeJpeg(img, 80)]);
      const [plateJpeg, overviewJpeg] = pass > 0 ? await timed(jpeg, 'jpeg', make) : await make();
      if (pass === 0) evidence.push({ plateJpeg, overviewJpeg });
    }
  }
  return {
    frames: images.length,
    detect,
    readMs: perFrame(reading['read']),
    boxesPerFrame: boxes / (PASSES * images.length),
    jpegMsPerRead: perFrame(jpeg['jpeg']),
    storeMsPerRead: await storeCpuMsPerRead(evidence),
  };
}

/** ReadStore.putMany of STORE_READS reads (real JPEGs from the held frames) in batches of 10, in a temporary store. */
async function storeCpuMsPerRead(evidence: { plateJpeg: Buffer; overviewJpeg: Buffer }[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'alpr-bench-stages-'));
  const config = defaultConfig({ stateDir: dir });
  const db = openStateDatabaseFor(config);
  try {
    const store = new ReadStore(db, DeviceKeys.open(join(dir, 'keys')), config.store, pino({ level: 'warn' }), storePath(config));
    const now = Date.now();
    const reads = Array.from({ length: STORE_READS }, (_, i): Read => {
      const at = new Date(now - (STORE_READS - i) * 1000).toISOString();
      const e = evidence[i % evidence.length]!;
      return {
        id: newReadId(now - (STORE_READS - i) * 1000), deviceId: 'bench', cameraId: 'bench', plate: `BENCH${i}`, state: 'CA', stateConfidence: 0.99, confidence: 0.95, agreement: 0.9,
        candidates: [{ text: `BENCH${i}`, confidence: 0.95 }], capturedAt: at, firstSeenAt: at, lastSeenAt: at, frames: 5, box: [100, 200, 120, 40],
        plateJpeg: e.plateJpeg, overviewJpeg: e.overviewJpeg, location: { latitude: 37.77, longitude: -122.41, headingDeg: 90, description: 'bench' }, modelVersion: 'bench',
      };
    });
    // The first batch opens the store's databases; it is not counted.
    await store.putMany(reads.slice(0, 10));
    const before = process.cpuUsage();
    for (let b = 10; b < reads.length; b += 10) await store.putMany(reads.slice(b, b + 10));
    return cpuMs(before) / (reads.length - 10);
  } finally {
    await db.root.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
