import type { Logger } from 'pino';
import type { CameraConfig } from '../config/schema.js';
import type { CameraSourceOptions } from './camera-source.js';
import type { Frame } from './frame.js';

/**
 * A file not played in real time has no live edge to keep up with: it is analysed frame by frame
 * with back-pressure instead of dropping.
 */
export function isOfflineFile(cam: CameraConfig): boolean {
  return !cam.realtime && (cam.uri.startsWith('file://') || (cam.uri.startsWith('/') && !cam.uri.startsWith('/dev/')));
}

/**
 * One configured camera → its CameraSource options, the same for the daemon and the technician's
 * tools (selftest, snapshot). `consumer` takes each frame of an offline file before the next one
 * is pulled; live cameras ignore it. `scaledLongSides` (the detector's, `scaledLongSidesFor`) asks
 * for each frame at the detector's sizes as well; tools that do not analyse every frame leave it out.
 */
export function cameraSourceOptions(cam: CameraConfig, logger: Logger, consumer: (frame: Frame) => Promise<void>, scaledLongSides?: readonly number[]): CameraSourceOptions {
  const offline = isOfflineFile(cam);
  return {
    id: cam.id,
    uri: cam.uri,
    fpsCap: cam.fpsCap,
    width: cam.width,
    height: cam.height,
    roi: cam.roi,
    loop: cam.loop,
    realtime: cam.realtime,
    dropOldFrames: !offline,
    ...(offline ? { consumer } : {}),
    stallTimeoutMs: cam.stallTimeoutMs,
    decoderThreads: cam.decoderThreads,
    ...(scaledLongSides === undefined ? {} : { scaledLongSides }),
    reconnect: { initialDelayMs: 500, maxDelayMs: cam.reconnectMaxDelayMs, jitter: 0.2 },
    logger,
  };
}
