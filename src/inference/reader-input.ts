import type { Box, RgbImage } from './image.js';

/** A plate to read: a box in a picture. The box may reach past the picture's edges. */
export interface PlateRegion {
  image: RgbImage;
  box: Box;
}

/** The whole picture as one region (a picture that is already a plate crop). */
export function wholeImage(image: RgbImage): PlateRegion {
  return { image, box: [0, 0, image.width, image.height] };
}

interface AxisTaps {
  /** First source index of each output sample's taps. */
  start: Int32Array;
  /** Tap count of each output sample. */
  count: Int32Array;
  /** Normalised weights, `maxTaps` per output sample. */
  weights: Float32Array;
  maxTaps: number;
  /** Lowest and highest source index any tap reads (after clamping to the picture). */
  lo: number;
  hi: number;
}

/**
 * Linear resampling weights from the span [from, from + span) of a source axis of `size` pixels
 * onto `out` samples: a triangle filter widened by the shrink factor (antialiased, as libvips,
 * Pillow and the training script's pre-blurred warp do), taps past the edge clamped to the edge
 * pixel (the training crops replicate the border the same way).
 */
function axisTaps(from: number, span: number, size: number, out: number): AxisTaps {
  const scale = span / out;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(out);
  const count = new Int32Array(out);
  const weights = new Float32Array(out * maxTaps);
  let lo = size - 1;
  let hi = 0;
  for (let o = 0; o < out; o++) {
    const centre = from + (o + 0.5) * scale - 0.5;
    const first = Math.ceil(centre - support);
    const last = Math.floor(centre + support);
    let n = 0;
    let sum = 0;
    // Taps at the same clamped index merge, so an off-picture box does not need a padded copy.
    let prevIndex = -1;
    for (let s = first; s <= last && n < maxTaps; s++) {
      const w = 1 - Math.abs(s - centre) / support;
      if (w <= 0) continue;
      const idx = Math.min(size - 1, Math.max(0, s));
      if (n > 0 && idx === prevIndex) {
        weights[o * maxTaps + n - 1]! += w;
      } else {
        if (n === 0) start[o] = idx;
        weights[o * maxTaps + n] = w;
        n++;
        prevIndex = idx;
      }
      sum += w;
    }
    if (n === 0) {
      // A sample exactly between taps of a 1:1 scale: take the nearest pixel.
      start[o] = Math.min(size - 1, Math.max(0, Math.round(centre)));
      weights[o * maxTaps] = 1;
      n = 1;
      sum = 1;
    }
    for (let k = 0; k < n; k++) weights[o * maxTaps + k]! /= sum;
    count[o] = n;
    lo = Math.min(lo, start[o]!);
    hi = Math.max(hi, start[o]! + n - 1);
  }
  return { start, count, weights, maxTaps, lo, hi };
}

/**
 * A neighbourhood of the picture, box-averaged by whole factors (fx, fy): what a plate's framings
 * are resampled from. Patch pixel (px, py) is the mean of source pixels x0 + px·fx … + fx − 1,
 * y0 + py·fy … + fy − 1, indices past the picture's edge repeating the edge pixel.
 */
export interface Patch {
  data: Float32Array;
  width: number;
  height: number;
  x0: number;
  y0: number;
  fx: number;
  fy: number;
}

/**
 * The patch every box in `boxes` (a plate's framings) can be read from at outW×outH: their union,
 * widened by the filter's reach, shrunk by the largest whole factors that leave every box at least
 * the output size. Big plates are shrunk once instead of once per framing, and each framing's own
 * filter then spans 1–2 pixels: libvips' shrink-then-reduce, to within the box filter's blur.
 */
export function patchFor(image: RgbImage, boxes: Box[], outW: number, outH: number): Patch {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let fx = Infinity;
  let fy = Infinity;
  let reachX = 1;
  let reachY = 1;
  for (const [x, y, w, h] of boxes) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x + w);
    y1 = Math.max(y1, y + h);
    fx = Math.min(fx, Math.floor(w / outW));
    fy = Math.min(fy, Math.floor(h / outH));
    reachX = Math.max(reachX, w / outW);
    reachY = Math.max(reachY, h / outH);
  }
  const left = clampIndex(Math.floor(x0 - reachX), image.width);
  const top = clampIndex(Math.floor(y0 - reachY), image.height);
  const right = clampIndex(Math.ceil(x1 + reachX), image.width);
  const bottom = clampIndex(Math.ceil(y1 + reachY), image.height);
  return shrinkPatch(image, left, top, right - left + 1, bottom - top + 1, Math.max(1, fx), Math.max(1, fy));
}

function clampIndex(i: number, size: number): number {
  return Math.min(size - 1, Math.max(0, i));
}

function shrinkPatch(image: RgbImage, x0: number, y0: number, spanW: number, spanH: number, fx: number, fy: number): Patch {
  const width = Math.ceil(spanW / fx);
  const height = Math.ceil(spanH / fy);
  const data = new Float32Array(width * height * 3);
  const src = image.data;
  const stride = image.width * 3;
  // Source byte offset of each column a block reads (edge repeated), computed once for all rows.
  const cols = new Int32Array(width * fx);
  for (let i = 0; i < cols.length; i++) cols[i] = clampIndex(x0 + i, image.width) * 3;
  const norm = 1 / (fx * fy);
  for (let py = 0; py < height; py++) {
    const row = py * width * 3;
    for (let k = 0; k < fy; k++) {
      const base = clampIndex(y0 + py * fy + k, image.height) * stride;
      for (let px = 0, c = 0, at = row; px < width; px++, at += 3) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let j = 0; j < fx; j++, c++) {
          const o = base + cols[c]!;
          r += src[o]!;
          g += src[o + 1]!;
          b += src[o + 2]!;
        }
        data[at] = data[at]! + r;
        data[at + 1] = data[at + 1]! + g;
        data[at + 2] = data[at + 2]! + b;
      }
    }
    for (let at = row, end = row + width * 3; at < end; at++) data[at] = data[at]! * norm;
  }
  return { data, width, height, x0, y0, fx, fy };
}

/** Writes one region, stretched to outW×outH, into `dst` at `offset` (see writePatchInput). */
export function writeReaderInput(region: PlateRegion, outW: number, outH: number, dst: Float32Array, offset: number): void {
  writePatchInput(patchFor(region.image, [region.box], outW, outH), region.box, outW, outH, dst, offset);
}

/**
 * Writes the picture's `box` (picture coordinates, read from the patch), stretched to outW×outH,
 * into `dst` at `offset` as the reader's input: planar RGB (CHW), value = px / 127.5 − 1.
 * Resampling straight into the tensor skips a crop copy and an image library round trip; a plate
 * is read from several framings, so this runs a few times per plate. The pass that shrinks more
 * goes first, so the second pass works on fewer values.
 */
export function writePatchInput(patch: Patch, box: Box, outW: number, outH: number, dst: Float32Array, offset: number): void {
  const xs = axisTaps((box[0] - patch.x0) / patch.fx, box[2] / patch.fx, patch.width, outW);
  const ys = axisTaps((box[1] - patch.y0) / patch.fy, box[3] / patch.fy, patch.height, outH);
  const spanW = xs.hi - xs.lo + 1;
  const spanH = ys.hi - ys.lo + 1;
  const tapsX = xs.count.reduce((a, b) => a + b, 0) / outW;
  const tapsY = ys.count.reduce((a, b) => a + b, 0) / outH;
  const verticalFirst = outH * tapsY * spanW + outH * outW * tapsX <= spanH * outW * tapsX + outH * outW * tapsY;
  const plane = outW * outH;
  const data = patch.data;
  const stride = patch.width * 3;
  if (verticalFirst) {
    // Rows first: for each output row, one weighted source row over the columns the horizontal taps read.
    const x0 = xs.lo;
    const row = new Float32Array(spanW * 3);
    for (let oy = 0; oy < outH; oy++) {
      row.fill(0);
      for (let k = 0, yn = ys.count[oy]!; k < yn; k++) {
        const w = ys.weights[oy * ys.maxTaps + k]!;
        let src = (ys.start[oy]! + k) * stride + x0 * 3;
        for (let i = 0; i < spanW * 3; i++) row[i]! += w * data[src++]!;
      }
      for (let ox = 0; ox < outW; ox++) {
        let r = 0;
        let g = 0;
        let b = 0;
        let p = (xs.start[ox]! - x0) * 3;
        for (let k = 0, xn = xs.count[ox]!; k < xn; k++) {
          const w = xs.weights[ox * xs.maxTaps + k]!;
          r += w * row[p]!;
          g += w * row[p + 1]!;
          b += w * row[p + 2]!;
          p += 3;
        }
        const at = offset + oy * outW + ox;
        dst[at] = r / 127.5 - 1;
        dst[at + plane] = g / 127.5 - 1;
        dst[at + 2 * plane] = b / 127.5 - 1;
      }
    }
    return;
  }
  // Columns first: every source row the vertical taps read, resampled to the output width.
  const y0 = ys.lo;
  const cols = new Float32Array(spanH * outW * 3);
  for (let sy = 0; sy < spanH; sy++) {
    const rowStart = (y0 + sy) * stride;
    let at = sy * outW * 3;
    for (let ox = 0; ox < outW; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let src = rowStart + xs.start[ox]! * 3;
      for (let k = 0, xn = xs.count[ox]!; k < xn; k++) {
        const w = xs.weights[ox * xs.maxTaps + k]!;
        r += w * data[src]!;
        g += w * data[src + 1]!;
        b += w * data[src + 2]!;
        src += 3;
      }
      cols[at++] = r;
      cols[at++] = g;
      cols[at++] = b;
    }
  }
  for (let oy = 0; oy < outH; oy++) {
    const base = offset + oy * outW;
    for (let ox = 0; ox < outW; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0, yn = ys.count[oy]!; k < yn; k++) {
        const w = ys.weights[oy * ys.maxTaps + k]!;
        const p = ((ys.start[oy]! - y0 + k) * outW + ox) * 3;
        r += w * cols[p]!;
        g += w * cols[p + 1]!;
        b += w * cols[p + 2]!;
      }
      dst[base + ox] = r / 127.5 - 1;
      dst[base + plane + ox] = g / 127.5 - 1;
      dst[base + 2 * plane + ox] = b / 127.5 - 1;
    }
  }
}
