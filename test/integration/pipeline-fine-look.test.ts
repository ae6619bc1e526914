import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { PlateEngine, engineOptions } from '../../src/inference/engine.js';
import { decodeImageFile, pasteRgb, resizeRgb } from '../../src/inference/image.js';
import { defaultManifestPath } from '../../src/inference/manifest.js';
import { CameraPipeline } from '../../src/pipeline/camera-pipeline.js';

// models.fineLookEveryFrames: a plate too small for the working resolution is found in the camera
// frames that get the detector's fine look, and the pass still gives exactly one read.

const config = defaultConfig();
const logger = pino({ level: 'silent' });
let engine: PlateEngine;
let far: Buffer;

beforeAll(async () => {
  engine = await PlateEngine.load(engineOptions(config, { manifestPath: defaultManifestPath(), intraOpThreads: 1 }));
  // two-cars.jpg at 0.3x in a 1920x1080 frame: its NY plate is 42 px wide, 14 px at the working resolution.
  const scene = await decodeImageFile('test/fixtures/scenes/two-cars.jpg');
  const frame = { width: 1920, height: 1080, data: Buffer.alloc(1920 * 1080 * 3, 96) };
  pasteRgb(frame, await resizeRgb(scene, 384, 216), 500, 400);
  far = frame.data;
});
afterAll(async () => engine.close());

/** Twelve frames (0.4 s at 30 fps) of the same far picture through one camera's pipeline. */
async function plates(fineLookEvery: number): Promise<string[]> {
  const pipeline = new CameraPipeline(engine, { deviceId: 'dev', cameraId: 'cam', location: config.location, tracker: config.thresholds, fineLookEvery, logger }, (f) => f.seq * 33);
  const texts: string[] = [];
  for (let seq = 0; seq < 12; seq++) {
    const frame: Frame = { cameraId: 'cam', seq, capturedAtMs: 1_700_000_000_000 + seq * 33, width: 1920, height: 1080, rgb: far };
    for (const read of await pipeline.analyse(frame)) texts.push(read.plate);
  }
  for (const read of await pipeline.flush()) texts.push(read.plate);
  return texts.sort();
}

describe('the fine look at camera frames', () => {
  it('reads a plate too small for the working resolution once, from the frames that get the fine look', async () => {
    expect(await plates(0)).toEqual(['SGK9091']);
    expect(await plates(3)).toEqual(['SGK9091', 'XHS8158']);
  });
});
