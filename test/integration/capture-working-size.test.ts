import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CameraSource, type CameraSourceOptions, type Frame } from '../../src/capture/index.js';
import { loadGstreamer } from '../../src/capture/gst-binding.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { PlateEngine, engineOptions, scaledLongSidesFor } from '../../src/inference/engine.js';
import { decodeImageFile, iou, resizeRgb, type RgbImage } from '../../src/inference/image.js';
import { defaultManifestPath } from '../../src/inference/manifest.js';
import { frameImage } from '../../src/pipeline/camera-pipeline.js';
import { makeH264Clip } from '../support/gst-clips.js';

// Issue 23: the capture hands the detector each frame already at its sizes (the working resolution
// and the coarse look, scaled by our addon on a pool thread) instead of the detector resizing the
// full frame with sharp. The detector must see the same pixels either way.

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const running: CameraSource[] = [];
let dir: string;
let clip: string;

function camera(opts: Omit<CameraSourceOptions, 'logger' | 'id'>): CameraSource {
  const source = new CameraSource({ id: 'cam-working', logger, ...opts });
  running.push(source);
  return source;
}

/** Every frame of a file, with back-pressure, until it ends. */
async function allFrames(opts: Omit<CameraSourceOptions, 'logger' | 'id'>): Promise<Frame[]> {
  const frames: Frame[] = [];
  const source = camera({ realtime: false, dropOldFrames: false, ...opts, consumer: async (f) => void frames.push(f) });
  const ended = new Promise<void>((resolve) => source.once('end', resolve));
  source.start();
  await ended;
  return frames;
}

/** Largest difference of any channel value between two pictures of one size. */
function maxDifference(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** What the detector did before: sharp's linear resize. */
async function sharpResized(width: number, height: number, data: Buffer, toWidth: number, toHeight: number): Promise<Buffer> {
  return (await resizeRgb({ width, height, data }, toWidth, toHeight)).data;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alpr-working-'));
  clip = join(dir, 'clip.mp4');
  await makeH264Clip(clip, { frames: 8, width: 320, height: 180 });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((source) => source.stop()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('copies of each frame scaled by the capture', () => {
  it('come with every frame at the long sides asked for, each from the one before, the same pixels as sharp gives to a grey level', async () => {
    const frames = await allFrames({ uri: clip, scaledLongSides: [128, 43] });
    expect(frames).toHaveLength(8);
    for (const frame of frames) {
      const [working, coarse] = frame.scaled ?? [];
      expect(working).toMatchObject({ width: 128, height: 72 });
      expect(coarse).toMatchObject({ width: 43, height: 24 });
      expect(working!.rgb.length).toBe(128 * 72 * 3);
      expect(maxDifference(working!.rgb, await sharpResized(320, 180, frame.rgb, 128, 72)), `frame ${frame.seq}`).toBeLessThanOrEqual(1);
      expect(maxDifference(coarse!.rgb, await sharpResized(128, 72, working!.rgb, 43, 24)), `frame ${frame.seq}`).toBeLessThanOrEqual(1);
    }
  });

  it('read frames whose RGB rows GStreamer pads to 4 bytes, at a shrink that is not a whole number', async () => {
    // 150 px rows are 450 bytes, padded to 452 in the pipeline; 150 -> 64 is a shrink of 2.34.
    const frames = await allFrames({ uri: clip, width: 150, height: 84, scaledLongSides: [64] });
    const frame = frames[3]!;
    expect([frame.width, frame.height]).toEqual([150, 84]);
    expect(frame.scaled).toHaveLength(1);
    expect(frame.scaled![0]).toMatchObject({ width: 64, height: 36 });
    expect(maxDifference(frame.scaled![0]!.rgb, await sharpResized(150, 84, frame.rgb, 64, 36))).toBeLessThanOrEqual(1);
  });

  it('come with a live camera’s frames as its consumer takes them, and only then (frames the mailbox drops are never scaled)', async () => {
    const source = camera({ uri: 'test://?pattern=ball&width=320&height=180&fps=30', scaledLongSides: [128, 43] });
    const arrived: Frame[] = [];
    source.on('frame', (frame) => arrived.push(frame));
    source.start();
    const taken: Frame[] = [];
    for await (const frame of source.frames()) {
      taken.push(frame);
      if (taken.length === 3) break;
    }
    expect(arrived.length).toBeGreaterThanOrEqual(3);
    expect(arrived.every((frame) => frame.scaled === undefined)).toBe(true);
    for (const frame of taken) {
      expect(frame.scaled?.map((s) => [s.width, s.height])).toEqual([[128, 72], [43, 24]]);
      expect(maxDifference(frame.scaled![0]!.rgb, await sharpResized(320, 180, frame.rgb, 128, 72))).toBeLessThanOrEqual(1);
    }
  });

  it('leave a live camera’s frames as they are, and its consumer going, when the addon cannot make them', async () => {
    const binding = loadGstreamer();
    const scaleRgbCopies = binding.scaleRgbCopies;
    onTestFinished(() => {
      binding.scaleRgbCopies = scaleRgbCopies;
    });
    binding.scaleRgbCopies = () => {
      throw new TypeError('binding.scaleRgbCopies is not a function');
    };
    const source = camera({ uri: 'test://?pattern=ball&width=320&height=180&fps=30', scaledLongSides: [128, 43] });
    source.start();
    const taken: Frame[] = [];
    for await (const frame of source.frames()) {
      taken.push(frame);
      if (taken.length === 2) break;
    }
    expect(taken.map((frame) => frame.scaled)).toEqual([undefined, undefined]);
  });

  it('skip a side no smaller than the picture and a shrink of 4 or more (where sharp shrinks in two steps); the next copy is made from the frame', async () => {
    expect((await allFrames({ uri: clip }))[0]!.scaled).toBeUndefined();
    expect((await allFrames({ uri: clip, scaledLongSides: [320] }))[0]!.scaled).toBeUndefined();
    expect((await allFrames({ uri: clip, scaledLongSides: [80] }))[0]!.scaled).toBeUndefined();
    const [copy] = (await allFrames({ uri: clip, scaledLongSides: [400, 81] }))[0]!.scaled ?? [];
    expect(copy).toMatchObject({ width: 81, height: 46 });
  });
});

describe('the detector on a frame scaled by the capture', () => {
  const config = defaultConfig();
  let engine: PlateEngine;
  beforeAll(async () => {
    engine = await PlateEngine.load(engineOptions(config, { manifestPath: defaultManifestPath(), intraOpThreads: 1, warmUp: false }));
  });
  afterAll(async () => engine.close());

  it('finds the same plates, read the same, as when it resizes the frame itself', async () => {
    const scene = await decodeImageFile('test/fixtures/scenes/two-cars.jpg');
    // A 1080p frame, as the bench clip is made: the scene enlarged, then copied at the detector's sizes as the capture does.
    const frame = await resizeRgb(scene, 1920, 1080);
    expect(engine.scaledLongSides).toEqual(scaledLongSidesFor(config.models.detectorMaxSide));
    const scaled: RgbImage[] = [];
    let from: RgbImage = frame;
    for (const side of engine.scaledLongSides) {
      const [w, h] = [side, Math.round((from.height * side) / from.width)];
      from = { width: w, height: h, data: loadGstreamer().scaleRgb(from.data, from.width, from.height, w, h) };
      scaled.push(from);
    }
    expect(scaled.map((s) => [s.width, s.height])).toEqual([[640, 360], [213, 120]]);
    const own = await engine.readImage(frame);
    const given = await engine.readImage({ ...frame, scaled });
    expect(given.plates.map((p) => p.text).sort()).toEqual(['SGK9091', 'XHS8158']);
    expect(given.plates.map((p) => p.text)).toEqual(own.plates.map((p) => p.text));
    expect(given.boxes).toHaveLength(own.boxes.length);
    own.boxes.forEach((b, i) => expect(iou(b.box, given.boxes[i]!.box)).toBeGreaterThan(0.95));
  });

  it('resizes the frame itself when no copy is of the size it needs', async () => {
    const frame = await resizeRgb(await decodeImageFile('test/fixtures/scenes/two-cars.jpg'), 1920, 1080);
    const wrong: RgbImage = { ...frame, scaled: [{ width: 320, height: 180, data: Buffer.alloc(320 * 180 * 3) }] };
    expect((await engine.readImage(wrong)).plates.map((p) => p.text).sort()).toEqual(['SGK9091', 'XHS8158']);
  });

  it('takes a frame as the pipeline hands it over: the capture’s copies go with it', () => {
    const rgb = Buffer.alloc(8 * 4 * 3);
    const copy = { width: 4, height: 2, rgb: Buffer.alloc(4 * 2 * 3) };
    const img = frameImage({ cameraId: 'c', seq: 0, capturedAtMs: 0, width: 8, height: 4, rgb, scaled: [copy] });
    expect(img).toEqual({ width: 8, height: 4, data: rgb, scaled: [{ width: 4, height: 2, data: copy.rgb }] });
  });
});
