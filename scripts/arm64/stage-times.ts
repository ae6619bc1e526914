// Per-stage times of the shipped engine on this machine, for docs/arm.md's projection: detector
// per frame and reader per plate crop, one intra-op thread (the daemon's default), on the
// fixture scenes (1280x720; the detector sees 960x544, as for a 1080p frame).
//   node dist/scripts/arm64/stage-times.js [REPEATS]
import { cpus } from 'node:os';
import { defaultConfig } from '../../src/config/defaults.js';
import { PlateEngine, engineOptions } from '../../src/inference/engine.js';
import { decodeImageFile } from '../../src/inference/image.js';

const SCENES = ['test/fixtures/scenes/one-car.jpg', 'test/fixtures/scenes/two-cars.jpg', 'test/fixtures/scenes/empty-road.jpg'];
const WARMUP = 2;
const repeats = Number(process.argv[2] ?? 10);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const config = defaultConfig();
const engine = await PlateEngine.load(engineOptions(config, { intraOpThreads: 1 }));
const detect: number[] = [];
const readPerCrop: number[] = [];
try {
  for (const file of SCENES) {
    const img = await decodeImageFile(file);
    for (let i = 0; i < WARMUP + repeats; i++) {
      const { plates, timings } = await engine.readImage(img);
      if (i < WARMUP) continue;
      detect.push(timings.detectMs);
      // The reader gets one crop per detected plate box.
      if (plates.length > 0) readPerCrop.push(timings.readMs / plates.length);
    }
  }
} finally {
  await engine.close();
}
process.stdout.write(
  JSON.stringify({
    cpu: cpus()[0]?.model,
    detector: config.models.detector,
    reader: config.models.reader,
    detectorMaxSide: config.models.detectorMaxSide,
    frames: detect.length,
    detectMsMedian: Number(median(detect).toFixed(1)),
    readMsPerPlateMedian: Number(median(readPerCrop).toFixed(1)),
  }) + '\n',
);
