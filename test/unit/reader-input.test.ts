import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeReaderInput, wholeImage } from '../../src/inference/reader-input.js';
import type { RgbImage } from '../../src/inference/image.js';

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

  it('keeps a linear ramp linear whichever axis it shrinks first', () => {
    const img = image(200, 200, (x, y) => [x, y, 255 - x]);
    // Shrink x / enlarge y, then the other way round: both resampling orders are taken.
    for (const [box, outW, outH] of [
      [[20, 60, 120, 8], 16, 12],
      [[60, 20, 10, 150], 20, 10],
    ] as const) {
      const out = new Float32Array(3 * outW * outH);
      writeReaderInput({ image: img, box: [...box] }, outW, outH, out, 0);
      const sx = box[2] / outW;
      const sy = box[3] / outH;
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++) {
          const x = box[0] + (ox + 0.5) * sx - 0.5;
          const y = box[1] + (oy + 0.5) * sy - 0.5;
          expect(px(out[oy * outW + ox]!)).toBeCloseTo(x, 2);
          expect(px(out[outW * outH + oy * outW + ox]!)).toBeCloseTo(y, 2);
          expect(px(out[2 * outW * outH + oy * outW + ox]!)).toBeCloseTo(255 - x, 2);
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
