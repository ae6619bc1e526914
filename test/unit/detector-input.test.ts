import { describe, expect, it } from 'vitest';
import { paddedInput, writePaddedInput } from '../../src/inference/centernet-detector.js';
import type { RgbImage } from '../../src/inference/image.js';

/** The detector's input as it was built before the lookup table: a divide per value, -1 padding. */
function dividedInput(img: RgbImage, pw: number, ph: number): Float32Array {
  const plane = pw * ph;
  const out = new Float32Array(3 * plane).fill(-1);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const src = (y * img.width + x) * 3;
      const dst = y * pw + x;
      for (let c = 0; c < 3; c++) out[c * plane + dst] = img.data[src + c]! / 127.5 - 1;
    }
  }
  return out;
}

/** A w x h picture whose bytes run through every value 0-255, offset by `seed`. */
function picture(w: number, h: number, seed: number): RgbImage {
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed) % 256;
  return { width: w, height: h, data };
}

describe('detector input tensor', () => {
  it('holds exactly the values the per-value divide gave, for every byte value, and -1 in the padding', () => {
    const img = picture(45, 23, 3);
    const got = writePaddedInput(img, 64, paddedInput(64, 32));
    expect(Array.from(got)).toEqual(Array.from(dividedInput(img, 64, 32)));
  });

  it('reused for a second picture of the same size, holds only that picture (no trace of the first, padding intact)', () => {
    const input = paddedInput(64, 32);
    writePaddedInput(picture(45, 23, 11), 64, input);
    const second = picture(45, 23, 200);
    expect(Array.from(writePaddedInput(second, 64, input))).toEqual(Array.from(dividedInput(second, 64, 32)));
  });
});
