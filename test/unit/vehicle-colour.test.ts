import { describe, expect, it } from 'vitest';
import { classifyPixel, estimateVehicleColour } from '../../src/inference/vehicle-colour.js';
import type { Box, RgbImage } from '../../src/inference/image.js';

/** A frame filled with a body colour, a white plate and a black bumper strip below it. */
function car(body: [number, number, number], plate: Box): RgbImage {
  const width = 640;
  const height = 360;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inPlate = x >= plate[0] && x < plate[0] + plate[2] && y >= plate[1] && y < plate[1] + plate[3];
      const bumper = y > plate[1] + plate[3] + 10;
      const c = inPlate ? [235, 235, 235] : bumper ? [20, 20, 22] : body;
      data[i] = c[0]!;
      data[i + 1] = c[1]!;
      data[i + 2] = c[2]!;
    }
  }
  return { width, height, data };
}

describe('vehicle colour estimate (P13 descriptors)', () => {
  const plate: Box = [280, 200, 80, 40];
  it.each([
    ['red', [170, 25, 30]],
    ['blue', [30, 60, 160]],
    ['white', [225, 225, 228]],
    ['silver', [160, 162, 168]],
    ['black', [25, 25, 28]],
    ['green', [30, 110, 50]],
    ['yellow', [230, 200, 40]],
  ] as const)('names a %s body around the plate with a confidence', (name, rgb) => {
    const est = estimateVehicleColour(car([...rgb], plate), plate);
    expect(est?.colour).toBe(name);
    expect(est!.confidence).toBeGreaterThan(0.6);
    expect(est!.confidence).toBeLessThanOrEqual(1);
  });

  it('says nothing when the plate fills the frame edge and no body is visible', () => {
    const img = car([170, 25, 30], [0, 0, 640, 360]);
    expect(estimateVehicleColour(img, [0, 0, 640, 360])).toBeNull();
  });

  it('classifies the grey shades of an IR frame only as white, silver, grey or black', () => {
    for (let v = 0; v <= 255; v += 5) expect(['white', 'silver', 'grey', 'black']).toContain(classifyPixel(v, v, v));
  });
});
