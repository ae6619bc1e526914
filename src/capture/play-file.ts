import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { CameraSource } from './camera-source.js';
import type { Frame } from './frame.js';

export interface PlayOptions {
  /** Names the source in logs. */
  id?: string;
  /** At most this many frames per second of video are delivered; every frame when absent. */
  fps?: number;
  width?: number;
  height?: number;
  decoderThreads?: number;
  /** Smaller copies of each frame at these long sides (the detector's: PlateEngine.scaledLongSides): Frame.scaled. */
  scaledLongSides?: readonly number[];
  /** No frame for this long counts as a failed capture (default 30 s). */
  stallTimeoutMs?: number;
  logger: Logger;
  /**
   * Called for every delivered frame; the next frame is decoded only once it resolves. Resolving
   * 'stop' ends the play after this frame (a frame limit, a failure the caller counts as fatal).
   */
  onFrame: (frame: Frame) => Promise<void | 'stop'>;
}

export interface PlayedSource {
  frames: number;
  /** Why decoding stopped before the end, when it did (the frames before it were delivered). */
  endedEarly?: string;
  /** The decoder the pipeline used. */
  decoder: ReturnType<CameraSource['status']>['decoder'];
}

/**
 * Plays a source (a file, GStreamer's test source) through the same CameraSource as a live camera,
 * as fast as the consumer takes frames and without dropping any: for `read`, the pass eval, the
 * benchmarks and the arm64 capture smoke. Throws when not one frame could be decoded.
 */
export async function playSource(uri: string, opts: PlayOptions): Promise<PlayedSource> {
  let failure: string | undefined;
  let frames = 0;
  let stopped = false;
  let done!: () => void;
  const ended = new Promise<void>((r) => (done = r));
  const source = new CameraSource({
    id: opts.id ?? 'file',
    uri,
    ...(opts.fps !== undefined ? { fpsCap: opts.fps } : {}),
    ...(opts.width !== undefined ? { width: opts.width } : {}),
    ...(opts.height !== undefined ? { height: opts.height } : {}),
    ...(opts.decoderThreads !== undefined ? { decoderThreads: opts.decoderThreads } : {}),
    ...(opts.scaledLongSides !== undefined ? { scaledLongSides: opts.scaledLongSides } : {}),
    loop: false,
    realtime: false,
    dropOldFrames: false,
    stallTimeoutMs: opts.stallTimeoutMs ?? 30_000,
    logger: opts.logger,
    // Backpressure: the next frame is decoded only when this one is analysed, so none is skipped.
    consumer: async (frame) => {
      if (stopped) return;
      frames++;
      if ((await opts.onFrame(frame)) === 'stop') {
        stopped = true;
        done();
      }
    },
  });
  source.on('status', (s) => {
    if (s.state === 'reconnecting' || s.state === 'offline') {
      failure ??= s.reason ?? s.state;
      done();
    }
  });
  source.on('end', () => done());
  source.start();
  try {
    await ended;
  } finally {
    stopped = true;
    await source.stop();
  }
  if (failure !== undefined && frames === 0) throw new Error(`${uri}: cannot decode video (${failure})`);
  if (frames === 0) throw new Error(`${uri}: no frames decoded`);
  const decoder = source.status().decoder;
  return failure === undefined ? { frames, decoder } : { frames, endedEarly: failure, decoder };
}

/** `playSource` for a video file; throws when the file is missing. */
export async function playFile(file: string, opts: PlayOptions): Promise<PlayedSource> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`${file}: no such file`);
  try {
    return await playSource(`file://${path}`, opts);
  } catch (err) {
    // Name the file as the user gave it, not the URI.
    throw new Error((err as Error).message.replace(`file://${path}`, file));
  }
}
