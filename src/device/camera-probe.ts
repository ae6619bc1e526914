import type { Logger } from 'pino';
import { CameraSource, type CaptureStatus, type Frame } from '../capture/index.js';
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
  // A file not played in real time: every frame in order, with back-pressure, as the daemon reads
  // such files, so `--skip N` lands on the same frame however busy the machine is.
  const offline = !cam.realtime && (cam.uri.startsWith('file://') || (cam.uri.startsWith('/') && !cam.uri.startsWith('/dev/')));
  const source = new CameraSource({
    id: cam.id,
    uri: cam.uri,
    fpsCap: cam.fpsCap,
    width: cam.width,
    height: cam.height,
    roi: cam.roi,
    loop: cam.loop,
    realtime: cam.realtime,
    stallTimeoutMs: cam.stallTimeoutMs,
    reconnect: { initialDelayMs: 500, maxDelayMs: cam.reconnectMaxDelayMs, jitter: 0.2 },
    ...(offline ? { dropOldFrames: false, consumer: async () => undefined } : {}),
    logger,
  });
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
