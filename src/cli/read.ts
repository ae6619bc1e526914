import { extname } from 'node:path';
import { loadConfig } from '../config/load.js';
import { defaultConfig } from '../config/defaults.js';
import type { Config } from '../config/schema.js';
import type { Logger } from 'pino';
import { PlateEngine, engineOptions } from '../inference/engine.js';
import { decodeImageFile } from '../inference/image.js';
import type { Frame } from '../capture/frame.js';
import type { CameraPipeline } from '../pipeline/camera-pipeline.js';
import { observationsToPlates, toReadLinePlate } from './read-output.js';
import { createProgress } from './progress.js';

const VIDEO_EXTENSIONS = new Set(['.mp4', '.mkv', '.mov', '.avi', '.webm', '.ts', '.m4v', '.h264', '.h265', '.mjpeg']);

export interface ReadFilesOptions {
  config?: string;
  fps: number;
}

/**
 * `alpr-edge read`: models load once for all files; each file that fails is reported and skipped.
 * Returns the exit code: 0 when at least one file could be read, 1 when none could.
 */
export async function readFiles(files: string[], opts: ReadFilesOptions): Promise<number> {
  const config: Config = opts.config ? loadConfig(opts.config) : defaultConfig();
  let logger: Logger | undefined;
  // A warm-up only moves the first run's set-up cost ahead of it; a one-shot read pays it either way.
  const engine = await PlateEngine.load(engineOptions(config, { warmUp: false }));
  const progress = createProgress(files.length, 'read');
  let readable = 0;
  try {
    for (const file of files) {
      try {
        if (VIDEO_EXTENSIONS.has(extname(file).toLowerCase())) await readVideo(file, engine, config, opts.fps, (logger ??= await videoLogger()));
        else {
          const img = await decodeImageFile(file);
          const { plates } = await engine.readStill(img);
          process.stdout.write(JSON.stringify({ file, plates: observationsToPlates(plates) }) + '\n');
        }
        readable++;
      } catch (err) {
        const message = (err as Error).message;
        process.stderr.write(`read: ${message}\n`);
        process.stdout.write(JSON.stringify({ file, plates: [], error: message }) + '\n');
      }
      progress.tick();
    }
  } finally {
    progress.stop();
    await engine.close();
  }
  return readable > 0 ? 0 : 1;
}

/** pino is loaded for videos only: reading stills logs nothing (start-up, issue 23: ~20-25 ms of CPU). */
async function videoLogger(): Promise<Logger> {
  const { createLogger } = await import('../log.js');
  return createLogger(process.env['ALPR_EDGE_LOG_LEVEL'] ?? 'warn');
}

/** Every frame (up to `fps` per second of video) is analysed; one output line per vehicle pass. */
async function readVideo(file: string, engine: PlateEngine, config: Config, fps: number, logger: Logger): Promise<void> {
  // Video time from the frame count: the capture caps files at `fps` frames per video second.
  const videoMs = (f: Frame) => (f.seq * 1000) / fps;
  // Loaded for videos only: reading a still needs neither GStreamer nor the tracker (start-up, issue 23).
  const [{ playFile }, { CameraPipeline }] = await Promise.all([import('../capture/play-file.js'), import('../pipeline/camera-pipeline.js')]);
  const pipeline = new CameraPipeline(
    engine,
    { deviceId: config.deviceId, cameraId: 'file', location: config.location, tracker: config.thresholds, fineLookEvery: config.models.fineLookEveryFrames, logger: logger.child({ component: 'pipeline' }) },
    videoMs,
  );
  const emit = (reads: Awaited<ReturnType<CameraPipeline['analyse']>>) => {
    for (const r of reads) {
      const firstSeenMs = pipeline.passTimes.get(r)?.firstSeenMs ?? 0;
      process.stdout.write(JSON.stringify({ file, time: Number((firstSeenMs / 1000).toFixed(2)), plates: [toReadLinePlate({ text: r.plate, confidence: r.confidence, state: r.state, box: r.box, candidates: r.candidates })] }) + '\n');
    }
  };
  const played = await playFile(file, { fps, logger, scaledLongSides: engine.scaledLongSides, onFrame: async (frame) => emit(await pipeline.analyse(frame)) });
  emit(await pipeline.flush());
  if (played.endedEarly !== undefined) process.stderr.write(`read: ${file}: video ended early after ${played.frames} frames (${played.endedEarly})\n`);
}
