import sharp from 'sharp';
import { AlprError, EX_DATAERR } from '../errors.js';

// libvips keeps the results of recent operations (up to 50 MB) in case the same image is
// processed again; every frame here is new, so the cache only holds memory on a small board.
sharp.cache(false);

/** Packed RGB24 picture: the unit every inference stage works on. */
export interface RgbImage {
  width: number;
  height: number;
  data: Buffer;
  /**
   * Smaller copies of this picture, largest first (a camera frame's Frame.scaled, made by the capture
   * off the JS thread with the linear filter resizeRgb uses). A stage that needs the picture at one
   * of these sizes takes the copy instead of resizing (the detector's working resolution and its
   * coarse look); every other stage reads `data`.
   */
  scaled?: RgbImage[];
}

export type Box = [x: number, y: number, w: number, h: number];

/** Intersection over union of two boxes (0 when they do not touch). */
export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/** Clamps a box to the picture and rounds it to whole pixels; null if nothing is left. */
export function clampBox(box: Box, width: number, height: number): Box | null {
  const x0 = Math.max(0, Math.floor(box[0]));
  const y0 = Math.max(0, Math.floor(box[1]));
  const x1 = Math.min(width, Math.ceil(box[0] + box[2]));
  const y1 = Math.min(height, Math.ceil(box[1] + box[3]));
  if (x1 - x0 < 2 || y1 - y0 < 2) return null;
  return [x0, y0, x1 - x0, y1 - y0];
}

/**
 * The detector's box reaches the picture's edge: the plate is cut off (a vehicle entering or leaving
 * the view, or the region of interest's border) and only part of its text can be read. Not so for a
 * picture that is a plate crop (`read` on a crop, openalpr-us-crops in scenes mode).
 */
export function cutByEdge(box: Box, width: number, height: number): boolean {
  // A plate that spans half the picture is what the picture shows (a plate crop), not a plate cut off.
  if (box[2] >= width / 2 || box[3] >= height / 2) return false;
  // Within a pixel: the box's sides come from a stride-4 heat map, and a plate ending in the last
  // pixel column shows no border there.
  return box[0] < 1 || box[1] < 1 || box[0] + box[2] > width - 1 || box[1] + box[3] > height - 1;
}

export function padBox(box: Box, padX: number, padY: number): Box {
  return [box[0] - padX, box[1] - padY, box[2] + 2 * padX, box[3] + 2 * padY];
}

/** Copies a rectangle out of the picture (no resampling). */
export function cropRgb(img: RgbImage, box: Box): RgbImage {
  const [x, y, w, h] = box;
  const out = Buffer.allocUnsafe(w * h * 3);
  const stride = img.width * 3;
  for (let row = 0; row < h; row++) {
    const src = (y + row) * stride + x * 3;
    img.data.copy(out, row * w * 3, src, src + w * 3);
  }
  return { width: w, height: h, data: out };
}

/**
 * Copies `src` into `dst` with its top-left corner at (dx, dy), clipped to `dst` (either may be
 * negative or reach past it): a picture pasted into a frame, or a window cut from a picture into a
 * filled buffer.
 */
export function pasteRgb(dst: RgbImage, src: RgbImage, dx: number, dy: number): void {
  const left = Math.max(0, dx);
  const right = Math.min(dst.width, dx + src.width);
  if (right <= left) return;
  for (let y = Math.max(0, dy); y < Math.min(dst.height, dy + src.height); y++) {
    const from = ((y - dy) * src.width + (left - dx)) * 3;
    src.data.copy(dst.data, (y * dst.width + left) * 3, from, from + (right - left) * 3);
  }
}

/** The picture at this size: itself, or a copy of it the capture made (RgbImage.scaled); undefined when there is none. */
export function atSize(img: RgbImage, width: number, height: number): RgbImage | undefined {
  if (img.width === width && img.height === height) return img;
  return img.scaled?.find((s) => s.width === width && s.height === height);
}

export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { width, height, data };
}

export async function encodeJpeg(img: RgbImage, quality = 85): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality, mozjpeg: false }).toBuffer();
}

/** The reason an image file could not be decoded, for a clear per-file error. */
export class ImageDecodeError extends AlprError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: cannot decode image (${reason})`, file, EX_DATAERR);
  }
}

/** Decodes JPEG/PNG/WebP/etc. to RGB, applying EXIF orientation so boxes match what people see. */
export async function decodeImageFile(file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(file, { failOn: 'error' }).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
    return { width: info.width, height: info.height, data };
  } catch (err) {
    throw new ImageDecodeError(file, (err as Error).message.split('\n')[0] ?? 'unknown error');
  }
}
