import { describe, expect, it } from 'vitest';
import { decodeCenterNet } from '../../src/inference/centernet-detector.js';

const spec = { stride: 8, threshold: 0.3, nmsIou: 0.3 };

/** Heat (logits) and box maps for a gw x gh grid with plates at the given cells. */
function maps(gw: number, gh: number, plates: { x: number; y: number; logit: number; dx?: number; dy?: number; w: number; h: number }[]) {
  const plane = gw * gh;
  const heat = new Float32Array(plane).fill(-8);
  const box = new Float32Array(4 * plane);
  for (const p of plates) {
    const i = p.y * gw + p.x;
    heat[i] = p.logit;
    box[i] = p.dx ?? 0.5;
    box[plane + i] = p.dy ?? 0.5;
    box[2 * plane + i] = Math.log(p.w / 8);
    box[3 * plane + i] = Math.log(p.h / 8);
  }
  return { heat, box };
}

describe('CenterNet plate decoding (the rule the export measured recall with)', () => {
  it('turns a heat peak into a box in input pixels, centred on the cell plus its offset', () => {
    const { heat, box } = maps(20, 10, [{ x: 5, y: 4, logit: 2, dx: 0.25, dy: 0.75, w: 64, h: 32 }]);
    const out = decodeCenterNet(heat, box, 20, 10, spec);
    expect(out).toHaveLength(1);
    const [x, y, w, h] = out[0]!.box;
    expect(x + w / 2).toBeCloseTo((5 + 0.25) * 8, 4);
    expect(y + h / 2).toBeCloseTo((4 + 0.75) * 8, 4);
    expect(w).toBeCloseTo(64, 3);
    expect(h).toBeCloseTo(32, 3);
    expect(out[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 5);
  });

  it('keeps only local maxima above the threshold, best first', () => {
    const { heat, box } = maps(20, 10, [
      { x: 2, y: 2, logit: 1, w: 24, h: 12 },
      { x: 3, y: 2, logit: 0.5, w: 24, h: 12 }, // neighbour of a stronger peak: not a plate of its own
      { x: 15, y: 7, logit: 3, w: 40, h: 20 },
      { x: 10, y: 1, logit: -1.5, w: 40, h: 20 }, // p = 0.18 < 0.3
    ]);
    const out = decodeCenterNet(heat, box, 20, 10, spec);
    expect(out.map((b) => Math.round(b.box[0] + b.box[2] / 2))).toEqual([124, 20]);
  });

  it('merges two peaks that describe the same wide plate', () => {
    const { heat, box } = maps(30, 10, [
      { x: 10, y: 5, logit: 2, w: 200, h: 50 },
      { x: 12, y: 5, logit: 1.5, w: 200, h: 50 },
    ]);
    expect(decodeCenterNet(heat, box, 30, 10, spec)).toHaveLength(1);
  });

  it('bounds absurd size regressions instead of returning infinite boxes', () => {
    const { heat, box } = maps(4, 4, [{ x: 1, y: 1, logit: 2, w: 8, h: 8 }]);
    box[2 * 16 + 5] = 1e6;
    const out = decodeCenterNet(heat, box, 4, 4, spec);
    expect(Number.isFinite(out[0]!.box[2])).toBe(true);
    expect(out[0]!.box[2]).toBeLessThanOrEqual(Math.exp(6) * 8 + 1e-6);
  });
});
