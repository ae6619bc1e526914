import { iou, type Box, type RgbImage } from './image.js';

/**
 * What a fixed camera's detector boxes in every frame that is no plate: a sign, a pole's label, a
 * bumper sticker on a parked car. Reading it again each frame finds the same nothing and costs a
 * reader run per box per frame; a box at the same place whose pixels have not changed is skipped.
 * A plate that drives into such a box changes its pixels, so it is read; and every remembered box is
 * read again after `recheckFrames` frames in case the light changed the picture slowly.
 */
export class StaticClutter {
  private known: { box: Box; look: Float32Array; age: number }[] = [];

  constructor(
    private readonly opts: {
      /** A box overlapping a remembered one this much is at the same place. */
      sameBoxIou: number;
      /** Mean absolute difference (0-255 grey levels) of the box's coarse look below which nothing changed. */
      maxChange: number;
      /** Frames after which a remembered box is read again anyway. */
      recheckFrames: number;
    } = STATIC_CLUTTER_DEFAULTS,
  ) {}

  /** Whether this box of this frame is remembered clutter, unchanged. */
  isKnown(img: RgbImage, box: Box): boolean {
    const hit = this.known.find((k) => iou(k.box, box) >= this.opts.sameBoxIou);
    return hit !== undefined && hit.age < this.opts.recheckFrames && change(hit.look, coarseLook(img, box)) < this.opts.maxChange;
  }

  /**
   * After a frame: `read` are the boxes read and found no plate (remembered from this frame's
   * pixels), `skipped` the boxes skipped as known (kept, one frame older). Everything else is forgotten.
   */
  update(img: RgbImage, read: Box[], skipped: Box[]): void {
    const kept = skipped.flatMap((box) => {
      const k = this.known.find((c) => iou(c.box, box) >= this.opts.sameBoxIou);
      return k ? [{ ...k, age: k.age + 1 }] : [];
    });
    this.known = [...kept, ...read.map((box) => ({ box, look: coarseLook(img, box), age: 0 }))];
  }

  get size(): number {
    return this.known.length;
  }
}

/**
 * Measured on the bench clip (npm run bench): see docs/benchmarks.md. A second of video at 30 fps
 * between rechecks; 6 grey levels is above H.264's frame-to-frame noise on a still background.
 */
export const STATIC_CLUTTER_DEFAULTS = { sameBoxIou: 0.8, maxChange: 6, recheckFrames: 30 };

const LOOK_W = 8;
const LOOK_H = 4;

/** The box as 8x4 mean grey levels: cheap, and blind to a pixel of noise. */
function coarseLook(img: RgbImage, box: Box): Float32Array {
  const look = new Float32Array(LOOK_W * LOOK_H);
  const x0 = Math.max(0, Math.floor(box[0]));
  const y0 = Math.max(0, Math.floor(box[1]));
  const x1 = Math.min(img.width, Math.ceil(box[0] + box[2]));
  const y1 = Math.min(img.height, Math.ceil(box[1] + box[3]));
  if (x1 <= x0 || y1 <= y0) return look;
  const counts = new Float32Array(LOOK_W * LOOK_H);
  // Every other pixel in each direction: a quarter of the work, the same means to within noise.
  for (let y = y0; y < y1; y += 2) {
    const cy = Math.min(LOOK_H - 1, Math.floor(((y - y0) * LOOK_H) / (y1 - y0)));
    for (let x = x0; x < x1; x += 2) {
      const cx = Math.min(LOOK_W - 1, Math.floor(((x - x0) * LOOK_W) / (x1 - x0)));
      const o = (y * img.width + x) * 3;
      look[cy * LOOK_W + cx]! += (img.data[o]! + img.data[o + 1]! + img.data[o + 2]!) / 3;
      counts[cy * LOOK_W + cx]! += 1;
    }
  }
  for (let i = 0; i < look.length; i++) look[i] = counts[i]! > 0 ? look[i]! / counts[i]! : 0;
  return look;
}

function change(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
