import { describe, expect, it } from 'vitest';
import { parsePlateScale, rescalePlate } from '../../src/eval/plate-scale.js';
import type { Box, RgbImage } from '../../src/inference/image.js';

/** A grey 400x300 scene with a white "plate" at 150,200 100x40 (the only white pixels). */
function scene(): { img: RgbImage; plate: Box } {
  const img: RgbImage = { width: 400, height: 300, data: Buffer.alloc(400 * 300 * 3, 90) };
  for (let y = 200; y < 240; y++) img.data.fill(255, (y * 400 + 150) * 3, (y * 400 + 250) * 3);
  return { img, plate: [150, 200, 100, 40] };
}

/** Bounding box of the pixels brighter than `min` in every channel, within `within` (default: all). */
function brightBox(img: RgbImage, min: number, within: Box = [0, 0, img.width, img.height]): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let y = Math.max(0, Math.floor(within[1])); y < Math.min(img.height, within[1] + within[3]); y++) {
    for (let x = Math.max(0, Math.floor(within[0])); x < Math.min(img.width, within[0] + within[2]); x++) {
      const o = (y * img.width + x) * 3;
      if (img.data[o]! > min && img.data[o + 1]! > min && img.data[o + 2]! > min) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x + 1);
        y1 = Math.max(y1, y + 1);
      }
    }
  }
  return [x0, y0, x1 - x0, y1 - y0];
}

describe('eval --plate-scale: labelled scenes re-framed with the plate farther or closer', () => {
  it('parses far and close specs and names the option in its errors', () => {
    expect(parsePlateScale('far:40')).toEqual({ kind: 'far', plateWidth: 40, frame: [1280, 720] });
    expect(parsePlateScale('far:60:1920x1080')).toEqual({ kind: 'far', plateWidth: 60, frame: [1920, 1080] });
    expect(parsePlateScale('close:0.6')).toEqual({ kind: 'close', share: 0.6, width: 1280 });
    for (const bad of ['far', 'far:0', 'far:40:1280', 'close:0', 'close:1.5', 'near:3']) expect(() => parsePlateScale(bad)).toThrow(/--plate-scale/);
  });

  it('far: shrinks the scene into a camera-sized frame, the plate where the mapped box says', async () => {
    const { img, plate } = scene();
    const { image, map } = await rescalePlate(img, plate, { kind: 'far', plateWidth: 40, frame: [1280, 720] });
    expect([image.width, image.height, image.data.length]).toEqual([1280, 720, 1280 * 720 * 3]);
    const mapped = map(plate)!;
    expect(mapped[2]).toBeCloseTo(40, 5);
    // Within the shrunk scene (the background around it is the scene enlarged and blurred).
    const seen = brightBox(image, 200, map([0, 0, img.width, img.height])!);
    // Resampling softens the edges by a pixel or so.
    for (let k = 0; k < 4; k++) expect(Math.abs(seen[k]! - mapped[k]!)).toBeLessThanOrEqual(1.5);
  });

  it('close: crops around the plate so it spans the asked share of a 1280 px picture; boxes cut off map to null', async () => {
    const { img, plate } = scene();
    const { image, map } = await rescalePlate(img, plate, { kind: 'close', share: 0.5, width: 1280 });
    expect(image.width).toBe(1280);
    const mapped = map(plate)!;
    expect(mapped[2] / image.width).toBeCloseTo(0.5, 2);
    const seen = brightBox(image, 200);
    for (let k = 0; k < 4; k++) expect(Math.abs(seen[k]! - mapped[k]!)).toBeLessThanOrEqual(4);
    expect(map([0, 0, 30, 20])).toBeNull();
  });
});
