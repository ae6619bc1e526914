import sharp from 'sharp';
import { pasteRgb, type Box, type RgbImage } from '../inference/image.js';

/**
 * A labelled scene re-framed so its plate has another size in the picture: how the read path does
 * on plates farther from or closer to the camera than the set's own, measured on real plates.
 * - `far`: the scene shrunk so the plate is `plateWidth` px wide, placed in a `frame` (a camera
 *   frame's size) whose background is the scene itself enlarged and blurred beyond reading.
 * - `close`: the scene cropped around the plate so it spans `share` of the width, enlarged to
 *   `width` px (a plate near a gate camera, a close-up photo).
 */
export type PlateScale = { kind: 'far'; plateWidth: number; frame: [width: number, height: number] } | { kind: 'close'; share: number; width: number };

/** Parses `far:PX[:WxH]` (default frame 1280x720) or `close:SHARE` (0 < SHARE <= 1). */
export function parsePlateScale(spec: string): PlateScale {
  const [kind, a, b] = spec.split(':');
  if (kind === 'far') {
    const plateWidth = Number(a);
    const frame = (b ?? '1280x720').split('x').map(Number);
    if (!(plateWidth >= 4) || frame.length !== 2 || !frame.every((v) => Number.isInteger(v) && v >= 64)) throw new Error(`--plate-scale ${spec}: expected far:PX[:WxH], e.g. far:40:1280x720`);
    return { kind, plateWidth, frame: frame as [number, number] };
  }
  if (kind === 'close') {
    const share = Number(a);
    if (!(share > 0 && share <= 1)) throw new Error(`--plate-scale ${spec}: expected close:SHARE with 0 < SHARE <= 1, e.g. close:0.6`);
    return { kind, share, width: 1280 };
  }
  throw new Error(`--plate-scale ${spec}: expected far:PX[:WxH] or close:SHARE`);
}

/** Background blur: no character of the enlarged scene stays readable (a 1280 px frame of a 640 px scene). */
const BACKGROUND_SIGMA = 25;

/**
 * The scene re-framed around `plate` (a box in the scene), and `map`, which takes a box of the scene
 * to the new picture's pixels (null for a box the close-up crops off, even in part).
 */
export async function rescalePlate(img: RgbImage, plate: Box, scale: PlateScale): Promise<{ image: RgbImage; map: (box: Box) => Box | null }> {
  const raw = { raw: { width: img.width, height: img.height, channels: 3 as const } };
  if (scale.kind === 'close') {
    const cw = Math.min(img.width, Math.max(8, Math.round(plate[2] / scale.share)));
    const ch = Math.min(img.height, Math.max(8, Math.round((cw * 3) / 4)));
    const x0 = clamp(Math.round(plate[0] + plate[2] / 2 - cw / 2), 0, img.width - cw);
    const y0 = clamp(Math.round(plate[1] + plate[3] / 2 - ch / 2), 0, img.height - ch);
    const s = scale.width / cw;
    const height = Math.round(ch * s);
    const data = await sharp(img.data, raw).extract({ left: x0, top: y0, width: cw, height: ch }).resize(scale.width, height, { fit: 'fill' }).raw().toBuffer();
    const map = (b: Box): Box | null => (b[0] < x0 || b[1] < y0 || b[0] + b[2] > x0 + cw || b[1] + b[3] > y0 + ch ? null : [(b[0] - x0) * s, (b[1] - y0) * s, b[2] * s, b[3] * s]);
    return { image: { width: scale.width, height, data }, map };
  }
  const [fw, fh] = scale.frame;
  const s = Math.min(scale.plateWidth / plate[2], fw / img.width, fh / img.height);
  const w = Math.max(1, Math.round(img.width * s));
  const h = Math.max(1, Math.round(img.height * s));
  const small: RgbImage = { width: w, height: h, data: await sharp(img.data, raw).resize(w, h, { fit: 'fill' }).raw().toBuffer() };
  const background: RgbImage = { width: fw, height: fh, data: await sharp(img.data, raw).resize(fw, fh, { fit: 'cover' }).blur(BACKGROUND_SIGMA).raw().toBuffer() };
  // The scene sits a little below the middle, where a lane is in a pole camera's view.
  const ox = Math.round((fw - w) / 2);
  const oy = clamp(Math.round(fh * 0.6 - h / 2), 0, fh - h);
  pasteRgb(background, small, ox, oy);
  return { image: background, map: (b) => [b[0] * s + ox, b[1] * s + oy, b[2] * s, b[3] * s] };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
