import type { Logger } from 'pino';
import type { Frame } from '../capture/frame.js';
import type { BoxCounts, PlateEngine, StageTimings } from '../inference/engine.js';
import { clampBox, cropRgb, encodeJpeg, padBox, type RgbImage } from '../inference/image.js';
import type { LocationConfig } from '../config/schema.js';
import { PlateTracker, type FinishedPass, type TrackerOptions } from './tracker.js';
import { newReadId } from './read-id.js';
import { estimateVehicleColour } from '../inference/vehicle-colour.js';
import { StaticClutter } from '../inference/static-clutter.js';
import type { Read } from './read.js';

export interface CameraPipelineOptions {
  deviceId: string;
  cameraId: string;
  location: LocationConfig;
  tracker: TrackerOptions;
  logger: Logger;
  /**
   * Every this many analysed frames one gets the detector's fine look (models.fineLookEveryFrames;
   * 0 or absent: none): small plates are found in those frames, and a vehicle in view for half a
   * second is still seen in several of them.
   */
  fineLookEvery?: number;
  /** Called after each analysed frame, for metrics and health. */
  onFrameAnalysed?: (timings: StageTimings, plates: number, boxes: BoxCounts) => void;
}

/** Frame time for tracking: stream time for files analysed faster than real time, else wall time. */
export type FrameClock = (frame: Frame) => number;
export const wallClock: FrameClock = (f) => f.capturedAtMs;

/**
 * One camera's frames → plates → vehicle passes → reads with evidence images. Frames are analysed
 * one at a time; the caller decides what to do with frames that arrive while one is in progress.
 */
export class CameraPipeline {
  private readonly tracker: PlateTracker<Frame>;
  /** The signs and stickers this camera's detector boxes in every frame, not read again while unchanged. */
  private readonly clutter = new StaticClutter();
  lastAnalysedAtMs: number | undefined;
  framesAnalysed = 0;
  /** Pass start and end on this pipeline's clock (video time for files), for tools that report it. */
  readonly passTimes = new WeakMap<Read, { firstSeenMs: number; lastSeenMs: number }>();

  constructor(
    private readonly engine: PlateEngine,
    private readonly opts: CameraPipelineOptions,
    private readonly clock: FrameClock = wallClock,
  ) {
    this.tracker = new PlateTracker<Frame>(opts.tracker);
  }

  get counters() {
    return this.tracker.counters;
  }

  async analyse(frame: Frame): Promise<Read[]> {
    const img = frameImage(frame);
    const every = this.opts.fineLookEvery ?? 0;
    const { plates, timings, counts } = await this.engine.readImage(img, this.clutter, every > 0 && this.framesAnalysed % every === 0);
    this.framesAnalysed++;
    this.lastAnalysedAtMs = Date.now();
    this.opts.onFrameAnalysed?.(timings, plates.length, counts);
    const passes = this.tracker.update(this.clock(frame), plates, frame);
    return this.toReads(passes);
  }

  /** Emits what is still being tracked: at the end of a file or on shutdown. */
  async flush(): Promise<Read[]> {
    return this.toReads(this.tracker.flush());
  }

  private async toReads(passes: FinishedPass<Frame>[]): Promise<Read[]> {
    const reads: Read[] = [];
    for (const p of passes) reads.push(await this.toRead(p));
    return reads;
  }

  private async toRead(p: FinishedPass<Frame>): Promise<Read> {
    const frame = p.best.frame;
    const img: RgbImage = { width: frame.width, height: frame.height, data: frame.rgb };
    const box = p.best.obs.box;
    // Generous margins: the officer verifying the plate needs the state banner and frame too (P13).
    const cropBox = clampBox(padBox(box, box[2] * 0.2, box[3] * 0.8), img.width, img.height) ?? [0, 0, img.width, img.height];
    const [plateJpeg, overviewJpeg] = await Promise.all([encodeJpeg(cropRgb(img, cropBox), 92), encodeJpeg(img, 80)]);
    const colour = estimateVehicleColour(img, box);
    // Pass times follow the frames' wall clock, also when a file is analysed faster than real time.
    const offset = frame.capturedAtMs - this.clock(frame);
    const read: Read = {
      id: newReadId(frame.capturedAtMs),
      deviceId: this.opts.deviceId,
      cameraId: this.opts.cameraId,
      plate: p.vote.text,
      state: p.vote.state,
      stateConfidence: p.vote.stateConfidence,
      confidence: round(p.vote.confidence),
      agreement: round(p.vote.agreement),
      candidates: p.vote.candidates.map((c) => ({ text: c.text, confidence: round(c.confidence) })),
      capturedAt: new Date(frame.capturedAtMs).toISOString(),
      firstSeenAt: new Date(p.firstSeenMs + offset).toISOString(),
      lastSeenAt: new Date(p.lastSeenMs + offset).toISOString(),
      frames: p.frames,
      box: box.map((v) => Math.round(v)) as Read['box'],
      plateJpeg,
      overviewJpeg,
      location: this.opts.location,
      modelVersion: this.engine.modelVersion,
      vehicle: colour ? { colour: colour.colour, colourConfidence: colour.confidence } : null,
    };
    this.passTimes.set(read, { firstSeenMs: p.firstSeenMs, lastSeenMs: p.lastSeenMs });
    this.opts.logger.info({ readId: read.id, camera: read.cameraId, frames: read.frames, confidence: read.confidence, state: read.state }, 'read');
    this.opts.logger.debug({ readId: read.id, plate: read.plate, candidates: read.candidates }, 'read text');
    return read;
  }
}

/**
 * A frame as the engine takes it; the smaller copies the capture made at the detector's sizes
 * (CameraSourceOptions.scaledLongSides) go with it, so the detector does not resize the frame again.
 */
export function frameImage(frame: Frame): RgbImage {
  const img: RgbImage = { width: frame.width, height: frame.height, data: frame.rgb };
  if (frame.scaled !== undefined) img.scaled = frame.scaled.map((s) => ({ width: s.width, height: s.height, data: s.rgb }));
  return img;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
