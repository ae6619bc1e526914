import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { CameraSource } from './camera-source.js';
import type { Frame } from './frame.js';

export interface PlayFileOptions {
  /** At most this many frames per second of video are delivered. */
  fps: number;
  logger: Logger;
  /** Called for every delivered frame; the next frame is decoded only once it resolves. */
  onFrame: (frame: Frame) => Promise<void>;
}

export interface PlayedFile {
  frames: number;
  /** Why decoding stopped before the end, when it did (the frames before it were delivered). */
  endedEarly?: string;
}

/**
 * Plays a video file through the same CameraSource as a live camera, as fast as the consumer
 * takes frames and without dropping any: for `read`, the pass eval and the benchmarks. Throws when
 * the file is missing or not one frame could be decoded.
 */
export async function playFile(file: string, opts: PlayFileOptions): Promise<PlayedFile> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`${file}: no such file`);
  let failure: string | undefined;
  let frames = 0;
  const source = new CameraSource({
    id: 'file',
    uri: `file://${path}`,
    fpsCap: opts.fps,
    loop: false,
    realtime: false,
    dropOldFrames: false,
    stallTimeoutMs: 30_000,
    logger: opts.logger,
    // Backpressure: the next frame is decoded only when this one is analysed, so none is skipped.
    consumer: async (frame) => {
      frames++;
      await opts.onFrame(frame);
    },
  });
  await new Promise<void>((resolveDone) => {
    source.on('status', (s) => {
      if (s.state === 'reconnecting' || s.state === 'offline') {
        failure = s.reason ?? s.state;
        void source.stop().then(() => resolveDone());
      }
    });
    source.on('end', () => resolveDone());
    source.start();
  });
  await source.stop();
  if (failure !== undefined && frames === 0) throw new Error(`${file}: cannot decode video (${failure})`);
  if (frames === 0) throw new Error(`${file}: no frames decoded`);
  return failure === undefined ? { frames } : { frames, endedEarly: failure };
}
