import sharp from 'sharp';
import type { PlateEngine } from '../inference/engine.js';
import type { Box, RgbImage } from '../inference/image.js';
import { laplacianVariance } from './snapshot.js';

/** One camera's latest analysed frame as the live view shows it: no plate text (P8). */
export interface LiveFrame {
  cameraId: string;
  /** Counts frames handed to the live view since start; the JPEG URL names it. */
  seq: number;
  capturedAt: string;
  width: number;
  height: number;
  /** Variance of the Laplacian of the whole frame (as `snapshot` computes it); higher is sharper. */
  sharpness: number;
  /** Every detector box at or above `thresholds.detection`. */
  detections: { box: Box; score: number }[];
  /** Boxes the reader took for plates: their width against what the models need, and their sharpness. */
  plates: { box: Box; widthPx: number; sharpness: number; detectorScore: number; readConfidence: number }[];
  /** Plate width (px in this frame) the models read well at (docs/models.md, plate size). */
  neededPlateWidthPx: number;
  jpeg: Buffer;
}

/** What the console's live routes need from the cameras (src/device/live-view.ts). */
export interface LiveFrameSource {
  /** Someone is watching: keep frames for a few seconds. */
  watch(): void;
  /**
   * The newest frame of a camera (encoded at most `liveMaxFps` times a second, and only while
   * watched), or none yet; with `seq`, that frame while it is still kept, else the newest.
   */
  frame(cameraId: string, seq?: number): Promise<LiveFrame | undefined>;
}

// The console's live view (docs/console.md): what `snapshot` shows, for every camera, several times
// a second, from the frames the pipeline analyses anyway. The cost to the pipeline is one reference
// kept per analysed frame while someone watches, and nothing at all otherwise; the JPEG and the
// sharpness figures are made on request, at most `maxFps` times a second per camera, in sharp's
// thread pool. No plate text ever leaves here: technicians aim with it (P8).

/**
 * Plate width (px at the detector's working resolution, `models.detectorMaxSide`) the models read
 * well at: 60 px in 1280×720 and 90 px in 1920×1080 were read right 92 % of the time, 40 px in
 * 1280×720 60 % (docs/models.md, plate size). Both are 30 px at a 640 px working resolution.
 */
export const READABLE_PLATE_PX_AT_WORKING_SIZE = 30;

/** A viewer's last request keeps frames coming for this long. */
const WATCH_MS = 5000;
/** The frame-wide sharpness (a pass over every pixel) is recomputed at most this often. */
const FRAME_SHARPNESS_EVERY_MS = 1000;
/** The live JPEG's width at most: enough to judge aim and focus, a quarter of 1080p's pixels. */
const MAX_JPEG_WIDTH = 1280;

type ReadImageResult = Awaited<ReturnType<PlateEngine['readImage']>>;

interface Offered {
  img: RgbImage;
  atMs: number;
  result: Pick<ReadImageResult, 'boxes' | 'plates'>;
}

interface CameraLive {
  offered?: Offered;
  seq: number;
  encodedAtMs: number;
  /** The last two encoded frames, so a page's image request finds the frame its JSON named. */
  kept: Promise<LiveFrame>[];
  frameSharpness?: { atMs: number; value: number };
}

export interface LiveViewOptions {
  /** `models.detectorMaxSide`: the working resolution the needed plate width is stated at. */
  detectorMaxSide: number;
  /** `http.console.liveMaxFps`. */
  maxFps: number;
  nowMs?: () => number;
}

export class LiveView implements LiveFrameSource {
  private readonly cameras = new Map<string, CameraLive>();
  private watchedUntilMs = 0;
  private readonly now: () => number;

  constructor(private readonly opts: LiveViewOptions) {
    this.now = opts.nowMs ?? Date.now;
  }

  /**
   * The engine one camera's pipeline should use: the same engine, whose readImage also hands each
   * analysed frame and its boxes to the live view. src/pipeline stays unaware of the console.
   */
  tapEngine(cameraId: string, engine: PlateEngine): PlateEngine {
    const tapped = Object.create(engine) as PlateEngine;
    tapped.readImage = async (img, clutter, fine) => {
      const result = await engine.readImage(img, clutter, fine);
      this.offer(cameraId, img, result);
      return result;
    };
    return tapped;
  }

  /** An analysed frame and what the models found in it; kept (by reference) only while watched. */
  offer(cameraId: string, img: RgbImage, result: Pick<ReadImageResult, 'boxes' | 'plates'>): void {
    const nowMs = this.now();
    if (nowMs > this.watchedUntilMs) {
      // Nobody watches: let go of the last frame's pixels.
      if (this.cameras.size > 0) this.cameras.clear();
      return;
    }
    const cam = this.camera(cameraId);
    cam.offered = { img, atMs: nowMs, result };
  }

  watch(): void {
    this.watchedUntilMs = this.now() + WATCH_MS;
  }

  get watched(): boolean {
    return this.now() <= this.watchedUntilMs;
  }

  async frame(cameraId: string, seq?: number): Promise<LiveFrame | undefined> {
    const cam = this.cameras.get(cameraId);
    if (!cam) return undefined;
    if (seq !== undefined) {
      for (const p of cam.kept) {
        const f = await p;
        if (f.seq === seq) return f;
      }
    }
    const nowMs = this.now();
    const newest = cam.kept[cam.kept.length - 1];
    const due = nowMs - cam.encodedAtMs >= 1000 / this.opts.maxFps;
    if (cam.offered && (!newest || due)) {
      const offered = cam.offered;
      cam.offered = undefined;
      cam.encodedAtMs = nowMs;
      cam.seq++;
      const p = this.encode(cameraId, cam, cam.seq, offered);
      cam.kept = [...cam.kept.slice(-1), p];
      return p;
    }
    return newest;
  }

  private camera(cameraId: string): CameraLive {
    let cam = this.cameras.get(cameraId);
    if (!cam) {
      cam = { seq: 0, encodedAtMs: 0, kept: [] };
      this.cameras.set(cameraId, cam);
    }
    return cam;
  }

  private async encode(cameraId: string, cam: CameraLive, seq: number, o: Offered): Promise<LiveFrame> {
    const { img } = o;
    const width = Math.min(MAX_JPEG_WIDTH, img.width);
    const jpeg = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .resize({ width, kernel: 'linear' })
      .jpeg({ quality: 70 })
      .toBuffer();
    if (!cam.frameSharpness || o.atMs - cam.frameSharpness.atMs >= FRAME_SHARPNESS_EVERY_MS) {
      cam.frameSharpness = { atMs: o.atMs, value: laplacianVariance(img) };
    }
    const round = (b: Box): Box => b.map(Math.round) as Box;
    return {
      cameraId,
      seq,
      capturedAt: new Date(o.atMs).toISOString(),
      width: img.width,
      height: img.height,
      sharpness: cam.frameSharpness.value,
      detections: o.result.boxes.map((d) => ({ box: round(d.box), score: d.score })),
      plates: o.result.plates.map((p) => ({
        box: round(p.box),
        widthPx: Math.round(p.box[2]),
        sharpness: laplacianVariance(img, p.box),
        detectorScore: p.detectorScore,
        readConfidence: p.confidence,
      })),
      neededPlateWidthPx: neededPlateWidthPx(img.width, img.height, this.opts.detectorMaxSide),
      jpeg: await jpeg,
    };
  }
}

/** The plate width in this frame's pixels that reaches READABLE_PLATE_PX_AT_WORKING_SIZE at the working resolution. */
export function neededPlateWidthPx(width: number, height: number, detectorMaxSide: number): number {
  const scale = Math.max(width, height) / detectorMaxSide;
  return Math.ceil(READABLE_PLATE_PX_AT_WORKING_SIZE * Math.max(1, scale));
}
