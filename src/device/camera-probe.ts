import type { Logger } from 'pino';
import { CameraSource, cameraSourceOptions, type CaptureStatus, type Frame } from '../capture/index.js';
import type { CameraConfig } from '../config/schema.js';

export interface CameraProbe {
  frames: Frame[];
  /** Time from start to the last frame taken. */
  elapsedMs: number;
  status: CaptureStatus;
}

/**
 * Opens a camera exactly as the daemon does, takes `count` frames (skipping `skip` first ones, so
 * auto-exposure settles before a snapshot) and closes it. Never throws for a camera that does not
 * answer: the result then holds fewer frames and the capture status says why.
 */
export async function probeCamera(cam: CameraConfig, logger: Logger, opts: { count: number; skip?: number; timeoutMs: number }): Promise<CameraProbe> {
  // Built as the daemon builds it: a file not played in real time gives every frame in order, with
  // back-pressure, so `--skip N` lands on the same frame however busy the machine is.
  const source = new CameraSource(cameraSourceOptions(cam, logger, async () => undefined));
  const frames: Frame[] = [];
  const started = Date.now();
  let seen = 0;
  let elapsedMs = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, opts.timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    source.on('frame', (f) => {
      if (seen++ < (opts.skip ?? 0) || frames.length >= opts.count) return;
      frames.push(f);
      elapsedMs = Date.now() - started;
      if (frames.length >= opts.count) done();
    });
    source.on('end', done);
    source.start();
  });
  const status = source.status();
  await source.stop();
  return { frames, elapsedMs: elapsedMs || Date.now() - started, status };
}
