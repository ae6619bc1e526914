import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { patchFor, writePatchInput, writeReaderInput, wholeImage } from '../../src/inference/reader-input.js';
import type { Box, RgbImage } from '../../src/inference/image.js';

function image(width: number, height: number, px: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(px(x, y), (y * width + x) * 3);
  return { width, height, data };
}

/** The tensor value back as a pixel value. */
const px = (v: number) => (v + 1) * 127.5;

describe('reader input (region resampled straight into the CHW tensor)', () => {
  it('copies a picture of the input size unchanged, planar RGB, scaled to [-1, 1]', () => {
    const img = image(8, 4, (x, y) => [x * 30, y * 60, 200]);
    const out = new Float32Array(3 * 8 * 4);
    writeReaderInput(wholeImage(img), 8, 4, out, 0);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 8; x++) {
        expect(px(out[y * 8 + x]!)).toBeCloseTo(x * 30, 3);
        expect(px(out[32 + y * 8 + x]!)).toBeCloseTo(y * 60, 3);
        expect(px(out[64 + y * 8 + x]!)).toBeCloseTo(200, 3);
      }
  });

  it('averages when it shrinks (no aliasing of a 1-px checkerboard)', () => {
    const img = image(64, 16, (x, y) => ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0]));
    const out = new Float32Array(3 * 16 * 4);
    writeReaderInput(wholeImage(img), 16, 4, out, 0);
    for (const v of out) expect(px(v)).toBeGreaterThan(110), expect(px(v)).toBeLessThan(145);
  });

  it('repeats the edge pixels for a box that reaches past the picture (as the training crops do)', () => {
    const img = image(4, 4, (x) => (x < 2 ? [10, 10, 10] : [250, 250, 250]));
    const out = new Float32Array(3 * 8 * 4);
    writeReaderInput({ image: img, box: [-4, -2, 12, 8] }, 8, 4, out, 0);
    // Left third is left of the picture: the edge colour, not black.
    expect(px(out[0]!)).toBeCloseTo(10, 3);
    expect(px(out[7]!)).toBeCloseTo(250, 3);
  });

  /** Where each output sample of `box` lands on the ramp image, as (x, y) in source pixels. */
  function rampPositions(out: Float32Array, outW: number, outH: number): { x: number[]; y: number[]; xb: number[] } {
    const plane = outW * outH;
    return { x: [...out.subarray(0, plane)].map(px), y: [...out.subarray(plane, 2 * plane)].map(px), xb: [...out.subarray(2 * plane)].map((v) => 255 - px(v)) };
  }

  it('keeps a linear ramp linear whichever axis it shrinks first, exactly at whole shrink factors', () => {
    const img = image(200, 200, (x, y) => [x, y, 255 - x]);
    // Shrink x / enlarge y, then the other way round: both resampling orders are taken. The first
    // two shrink by whole factors (8, 15: box-averaged, then 1:1); the last two leave a fraction to
    // the triangle filter, whose 2–3 taps may shift a sample by up to 0.086 of an output pixel
    // (the worst case of a normalised triangle of support 1–2 on a unit grid).
    for (const [box, outW, outH, exact] of [
      [[20, 60, 128, 8], 16, 12, true],
      [[60, 20, 10, 150], 20, 10, true],
      [[20, 60, 120, 8], 16, 12, false],
      [[60, 20, 10, 140], 20, 10, false],
    ] as const) {
      const out = new Float32Array(3 * outW * outH);
      writeReaderInput({ image: img, box: [...box] }, outW, outH, out, 0);
      const got = rampPositions(out, outW, outH);
      const sx = box[2] / outW;
      const sy = box[3] / outH;
      const [tx, ty] = exact ? [0.01, 0.01] : [0.087 * Math.max(1, sx), 0.087 * Math.max(1, sy)];
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++) {
          const i = oy * outW + ox;
          const x = box[0] + (ox + 0.5) * sx - 0.5;
          const y = box[1] + (oy + 0.5) * sy - 0.5;
          expect(Math.abs(got.x[i]! - x)).toBeLessThan(tx);
          expect(Math.abs(got.y[i]! - y)).toBeLessThan(ty);
          expect(Math.abs(got.xb[i]! - x)).toBeLessThan(tx);
        }
    }
  });

  it('reads every framing of a plate from one shared patch, each landing where its own would', () => {
    const img = image(400, 300, (x, y) => [x * 0.6, y * 0.8, 128]);
    const where = (out: Float32Array, i: number) => [px(out[i]!) / 0.6, px(out[480 + i]!) / 0.8];
    const plate: Box = [101.3, 120.7, 233.1, 117.2];
    const framings: Box[] = [0.02, 0.05, 0.1, 0.3].map((m) => [plate[0] - plate[2] * m, plate[1] - plate[3] * m, plate[2] * (1 + 2 * m), plate[3] * (1 + 2 * m)]);
    const patch = patchFor(img, framings, 40, 12);
    // Shrunk once, by the whole factors the smallest framing allows.
    expect([patch.fx, patch.fy]).toEqual([Math.floor(framings[0]![2] / 40), Math.floor(framings[0]![3] / 12)]);
    for (const box of framings) {
      const shared = new Float32Array(3 * 40 * 12);
      const own = new Float32Array(3 * 40 * 12);
      writePatchInput(patch, box, 40, 12, shared, 0);
      writeReaderInput({ image: img, box }, 40, 12, own, 0);
      // Each lands within 0.086 output pixels of the ideal point, so the two within twice that.
      for (let i = 0; i < 480; i++) {
        const [ax, ay] = where(shared, i);
        const [bx, by] = where(own, i);
        expect(Math.abs(ax! - bx!)).toBeLessThan((0.173 * box[2]) / 40);
        expect(Math.abs(ay! - by!)).toBeLessThan((0.173 * box[3]) / 12);
        expect(px(shared[960 + i]!)).toBeCloseTo(128, 3);
      }
    }
  });

  it('writes at the offset it is given and nowhere else', () => {
    const img = image(10, 5, () => [100, 100, 100]);
    const out = new Float32Array(2 * 3 * 6 * 3).fill(9);
    writeReaderInput(wholeImage(img), 6, 3, out, 54);
    expect(out.subarray(0, 54).every((v) => v === 9)).toBe(true);
    expect(out.subarray(54).every((v) => Math.abs(px(v) - 100) < 1e-3)).toBe(true);
  });

  it('keeps every value inside the input range of the picture, for any box and size (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.tuple(fc.double({ min: -20, max: 40, noNaN: true }), fc.double({ min: -20, max: 30, noNaN: true }), fc.double({ min: 0.5, max: 80, noNaN: true }), fc.double({ min: 0.5, max: 60, noNaN: true })),
        fc.integer({ min: 1, max: 32 }),
        fc.integer({ min: 1, max: 12 }),
        (w, h, box, outW, outH) => {
          const img = image(w, h, (x, y) => [(x * 37 + y * 11) % 256, (x * 5) % 256, (y * 91) % 256]);
          const out = new Float32Array(3 * outW * outH);
          writeReaderInput({ image: img, box }, outW, outH, out, 0);
          return out.every((v) => v >= -1 - 1e-5 && v <= 1 + 1e-5);
        },
      ),
    );
  });
});
