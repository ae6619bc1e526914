import { describe, expect, it } from 'vitest';
import { LiveView, neededPlateWidthPx } from '../../src/device/live-view.js';
import type { PlateEngine } from '../../src/inference/engine.js';

type Box = [number, number, number, number];
const img = { width: 320, height: 180, data: Buffer.alloc(320 * 180 * 3, 100) };
const result = {
  boxes: [{ box: [100, 80, 60, 20] as Box, score: 0.7 }, { box: [10, 10, 20, 8] as Box, score: 0.45 }],
  plates: [{ box: [100, 80, 60, 20] as Box, text: 'QXZ482', confidence: 0.93, charConfidences: [], candidates: [], detectorScore: 0.7 }],
  timings: { detectMs: 1, readMs: 1 },
  counts: { read: 1, skippedStatic: 0 },
};

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('live view', () => {
  it('keeps frames only while someone watches, so an unwatched camera costs nothing', async () => {
    const c = clock();
    const live = new LiveView({ detectorMaxSide: 640, maxFps: 4, nowMs: c.now });
    live.offer('north', img, result);
    expect(await live.frame('north')).toBeUndefined();
    live.watch();
    live.offer('north', img, result);
    const f = await live.frame('north');
    expect(f).toMatchObject({ cameraId: 'north', seq: 1, width: 320, height: 180, detections: [{ box: [100, 80, 60, 20], score: 0.7 }, { box: [10, 10, 20, 8], score: 0.45 }], plates: [{ widthPx: 60, readConfidence: 0.93, detectorScore: 0.7 }] });
    // P8: boxes, widths and scores only; no plate text anywhere in what the console gets.
    expect(JSON.stringify({ ...f, jpeg: undefined })).not.toContain('QXZ482');
    expect(f!.jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    c.advance(6000);
    live.offer('north', img, result);
    expect(live.watched).toBe(false);
    expect(await live.frame('north')).toBeUndefined();
  });

  it('encodes at most maxFps frames a second per camera, whatever the number of viewers', async () => {
    const c = clock();
    const live = new LiveView({ detectorMaxSide: 640, maxFps: 4, nowMs: c.now });
    live.watch();
    live.offer('north', img, result);
    const a = await live.frame('north');
    c.advance(100);
    live.offer('north', img, result);
    expect((await live.frame('north'))!.seq).toBe(a!.seq);
    c.advance(200);
    const b = await live.frame('north');
    expect(b!.seq).toBe(a!.seq + 1);
    // The image request of a page that got frame `a` in its JSON still finds it.
    expect((await live.frame('north', a!.seq))!.seq).toBe(a!.seq);
  });

  it('taps an engine: the pipeline gets the engine\'s own answer, the live view a copy of the boxes', async () => {
    const live = new LiveView({ detectorMaxSide: 640, maxFps: 4 });
    const engine = { modelVersion: 'm@1', readImage: async () => result } as unknown as PlateEngine;
    const tapped = live.tapEngine('north', engine);
    expect(tapped.modelVersion).toBe('m@1');
    live.watch();
    expect(await tapped.readImage(img)).toBe(result);
    expect((await live.frame('north'))!.plates).toHaveLength(1);
  });

  it('states the plate width the models need in the frame\'s own pixels (30 px at the 640 px working size)', () => {
    expect(neededPlateWidthPx(1280, 720, 640)).toBe(60);
    expect(neededPlateWidthPx(1920, 1080, 640)).toBe(90);
    expect(neededPlateWidthPx(320, 240, 640)).toBe(30);
  });
});
