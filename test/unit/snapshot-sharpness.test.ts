import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { laplacianVariance, overlaySvg } from '../../src/device/snapshot.js';

async function checkerboard(blurSigma?: number) {
  const w = 128;
  const data = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data.fill((x >> 3) % 2 ^ (y >> 3) % 2 ? 255 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
  let img = sharp(data, { raw: { width: w, height: w, channels: 3 } });
  if (blurSigma) img = img.blur(blurSigma);
  return { width: w, height: w, data: await img.raw().toBuffer() };
}

describe('sharpness (variance of Laplacian)', () => {
  it('is zero on a flat picture and falls as the same scene is defocused', async () => {
    expect(laplacianVariance({ width: 16, height: 16, data: Buffer.alloc(16 * 16 * 3, 90) })).toBe(0);
    const crisp = laplacianVariance(await checkerboard());
    const soft = laplacianVariance(await checkerboard(1));
    const blurred = laplacianVariance(await checkerboard(3));
    expect(crisp).toBeGreaterThan(soft);
    expect(soft).toBeGreaterThan(blurred);
  });

  it('measures only inside the box it is given', async () => {
    const img = await checkerboard();
    const flat = { ...img, data: Buffer.from(img.data) };
    flat.data.fill(128, 0, 64 * 128 * 3); // top half flat
    expect(laplacianVariance(flat, [0, 0, 128, 60])).toBe(0);
    expect(laplacianVariance(flat, [0, 70, 128, 50])).toBeGreaterThan(1000);
  });
});

describe('overlay', () => {
  it('escapes text so a read cannot break the SVG', () => {
    const svg = overlaySvg({ cameraId: 'c<1>', width: 100, height: 50, capturedAt: 't', sharpness: 1, detections: [], plates: [{ box: [1, 2, 3, 4], text: 'A&B', confidence: 0.5, detectorScore: 0.9, widthPx: 3, sharpness: 2 }] });
    expect(svg).toContain('c&lt;1&gt;');
    expect(svg).toContain('A&amp;B');
    expect(svg).not.toContain('A&B');
  });
});
