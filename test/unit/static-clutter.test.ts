import { describe, expect, it } from 'vitest';
import { StaticClutter } from '../../src/inference/static-clutter.js';
import type { Box, RgbImage } from '../../src/inference/image.js';

function frame(fill: number): RgbImage {
  return { width: 320, height: 240, data: Buffer.alloc(320 * 240 * 3, fill) };
}

/** Paints a box of the frame a flat grey level. */
function paint(img: RgbImage, [x, y, w, h]: Box, level: number): RgbImage {
  const data = Buffer.from(img.data);
  for (let r = y; r < y + h; r++) data.fill(level, (r * img.width + x) * 3, (r * img.width + x + w) * 3);
  return { ...img, data };
}

describe('static clutter: a fixed camera does not re-read an unchanged non-plate box', () => {
  const sign: Box = [100, 50, 60, 20];

  it('knows a box it was told was no plate while its pixels stay the same, at about the same place', () => {
    const clutter = new StaticClutter();
    const img = paint(frame(80), sign, 200);
    expect(clutter.isKnown(img, sign)).toBe(false);
    clutter.update(img, [sign], []);
    expect(clutter.isKnown(img, sign)).toBe(true);
    // The detector's box wobbles by a pixel or two from frame to frame.
    expect(clutter.isKnown(paint(frame(81), sign, 202), [101, 51, 60, 20])).toBe(true);
    // Elsewhere, it knows nothing.
    expect(clutter.isKnown(img, [200, 150, 60, 20])).toBe(false);
  });

  it('reads the box again when something drives into it, or after recheckFrames frames anyway', () => {
    const clutter = new StaticClutter({ sameBoxIou: 0.8, maxChange: 6, recheckFrames: 3 });
    const img = paint(frame(80), sign, 200);
    clutter.update(img, [sign], []);
    // A plate (dark characters on white) in the same place changes the coarse look.
    const plate = paint(paint(img, [110, 55, 10, 10], 20), [130, 55, 10, 10], 20);
    expect(clutter.isKnown(plate, sign)).toBe(false);
    // Unchanged, it is skipped for 3 frames, then read again.
    const seen: boolean[] = [];
    for (let f = 0; f < 4; f++) {
      const known = clutter.isKnown(img, sign);
      seen.push(known);
      clutter.update(img, known ? [] : [sign], known ? [sign] : []);
    }
    expect(seen).toEqual([true, true, true, false]);
  });

  it('forgets a box the detector no longer finds', () => {
    const clutter = new StaticClutter();
    const img = paint(frame(80), sign, 200);
    clutter.update(img, [sign], []);
    clutter.update(img, [], []);
    expect(clutter.size).toBe(0);
    expect(clutter.isKnown(img, sign)).toBe(false);
  });
});
