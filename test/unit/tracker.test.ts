import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_VOTES, PlateTracker } from '../../src/pipeline/tracker.js';
import { iou } from '../../src/inference/image.js';
import { voteOnTexts } from '../../src/pipeline/vote.js';
import type { PlateObservation } from '../../src/inference/engine.js';
import type { Box } from '../../src/inference/image.js';

const opts = { minFrames: 2, minAgreement: 0.4, trackTimeoutMs: 1000, maxCandidates: 10, repeatSuppressMs: 10_000 };

function obs(text: string, box: Box, confidence = 0.9, extra: Partial<PlateObservation> = {}): PlateObservation {
  return { text, box, confidence, charConfidences: [], candidates: [{ text, confidence }], detectorScore: 0.9, ...extra };
}

describe('plate tracker', () => {
  it('turns one vehicle pass over thirty frames into one read', () => {
    const t = new PlateTracker<number>(opts);
    const out = [];
    for (let i = 0; i < 30; i++) out.push(...t.update(i * 66, [obs(i === 7 ? '7XYZ128' : '7XYZ123', [100 + i * 8, 300 + i * 3, 160, 80])], i));
    out.push(...t.flush());
    expect(out).toHaveLength(1);
    expect(out[0]!.vote.text).toBe('7XYZ123');
    expect(out[0]!.frames).toBe(30);
    expect(out[0]!.vote.candidates.map((c) => c.text)).toContain('7XYZ128');
  });

  it('holds a bounded sample of a parked car\'s frames, and the sample votes as the whole pass would', () => {
    const t = new PlateTracker<number>(opts);
    const frames = 20_000; // 22 minutes at 15 fps
    let peak = 0;
    let seed = 7;
    const all = [];
    for (let i = 0; i < frames; i++) {
      // About three frames in ten read one character wrong, the same way; the box stays put.
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const wrong = seed / 2 ** 31 < 0.3;
      const o = obs(wrong ? '7XYZ128' : '7XYZ123', [400, 300, 160, 80], wrong ? 0.7 : 0.9);
      all.push(o);
      t.update(i * 66, [o], i);
      peak = Math.max(peak, t.heldVotes);
    }
    expect(peak).toBeLessThanOrEqual(MAX_VOTES);
    expect(peak).toBeGreaterThan(MAX_VOTES / 2);
    const [pass, ...rest] = t.flush();
    expect(rest).toHaveLength(0);
    expect(pass!.frames).toBe(frames);
    expect(pass!.vote.text).toBe('7XYZ123');
    const whole = voteOnTexts(all, 10)!;
    expect(Math.abs(pass!.vote.agreement - whole.agreement)).toBeLessThan(0.03);
  });

  it('keeps two plates in the same frames apart', () => {
    const t = new PlateTracker<number>(opts);
    for (let i = 0; i < 10; i++) t.update(i * 66, [obs('4AAA111', [100 + i * 5, 300, 150, 75]), obs('8BBB222', [800 - i * 5, 320, 150, 75])], i);
    expect(t.flush().map((p) => p.vote.text).sort()).toEqual(['4AAA111', '8BBB222']);
  });

  it('gives each of a run of vehicles in the same place its own read (cuts, the next car at a stop line)', () => {
    const t = new PlateTracker<number>(opts);
    const texts = ['4AAA111', '8BBB222', '5CCC333', '7DDD444'];
    const out = [];
    // Each plate held 13 frames at 30 fps in nearly the same box, then the next one: no gap, no motion.
    texts.forEach((text, k) => {
      for (let i = 0; i < 13; i++) out.push(...t.update((k * 13 + i) * 33, [obs(text, [600 + k * 4, 500, 140, 70])], k));
    });
    out.push(...t.flush());
    expect(out.map((p) => p.vote.text)).toEqual(texts);
    expect(out.every((p) => p.frames === 13)).toBe(true);
  });

  it('keeps an unsure misread of the same plate in its pass', () => {
    const t = new PlateTracker<number>(opts);
    for (let i = 0; i < 10; i++) t.update(i * 33, [obs(i === 4 ? 'ZZZZ999' : '4AAA111', [600, 500, 140, 70], i === 4 ? 0.3 : 0.9)], i);
    const out = t.flush();
    expect(out).toHaveLength(1);
    expect(out[0]!.frames).toBe(10);
  });

  it('emits a pass once the plate has been gone for the timeout', () => {
    const t = new PlateTracker<number>(opts);
    t.update(0, [obs('5CCC333', [10, 10, 100, 50])], 0);
    t.update(66, [obs('5CCC333', [12, 10, 100, 50])], 1);
    expect(t.update(500, [], 2)).toHaveLength(0);
    expect(t.update(1100, [], 3)).toHaveLength(1);
  });

  it('bridges a few missed frames within a pass', () => {
    const t = new PlateTracker<number>(opts);
    t.update(0, [obs('6DDD444', [100, 100, 120, 60])], 0);
    t.update(66, [obs('6DDD444', [110, 102, 120, 60])], 1);
    t.update(600, [obs('6DDD444', [190, 118, 120, 60])], 9);
    expect(t.flush()).toHaveLength(1);
  });

  it('discards a single-frame glimpse (too few frames) and counts it', () => {
    const t = new PlateTracker<number>(opts);
    t.update(0, [obs('1EEE555', [10, 10, 100, 50])], 0);
    expect(t.flush()).toHaveLength(0);
    expect(t.counters.passesDiscarded).toBe(1);
  });

  it('suppresses the same plate again soon after (stop-and-go), but not much later', () => {
    const t = new PlateTracker<number>(opts);
    const pass = (start: number) => {
      t.update(start, [obs('2FFF666', [10, 10, 100, 50])], 0);
      t.update(start + 66, [obs('2FFF666', [12, 10, 100, 50])], 1);
      return t.update(start + 5000, [], 2);
    };
    expect(pass(0)).toHaveLength(1);
    expect(pass(6000)).toHaveLength(0);
    expect(t.counters.repeatsSuppressed).toBe(1);
    expect(pass(30_000)).toHaveLength(1);
  });

  it('keeps the frame of the best evidence', () => {
    const t = new PlateTracker<string>(opts);
    t.update(0, [obs('3GGG777', [10, 10, 60, 30], 0.6)], 'small');
    t.update(66, [obs('3GGG777', [12, 10, 200, 100], 0.95)], 'big');
    t.update(133, [obs('3GGG777', [14, 10, 80, 40], 0.7)], 'mid');
    expect(t.flush()[0]!.best.frame).toBe('big');
  });

  it('never emits more passes than plates it was shown (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 0, max: 600 }), fc.constantFrom('1AAA111', '2BBB222', '3CCC333')), { maxLength: 60 }), (seq) => {
        const t = new PlateTracker<number>({ ...opts, minFrames: 1 });
        let emitted = 0;
        seq.forEach(([x, y, text], i) => (emitted += t.update(i * 66, [obs(text, [x, y, 100, 50])], i).length));
        emitted += t.flush().length;
        expect(emitted).toBeLessThanOrEqual(seq.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('vote across frames', () => {
  it('lets second candidates support the right text', () => {
    const v = voteOnTexts(
      [
        { candidates: [{ text: '7ABC128', confidence: 0.5 }, { text: '7ABC123', confidence: 0.45 }] },
        { candidates: [{ text: '7ABC123', confidence: 0.9 }] },
        { candidates: [{ text: '7ABC123', confidence: 0.8 }] },
      ],
      10,
    )!;
    expect(v.text).toBe('7ABC123');
    expect(v.agreement).toBeCloseTo(2.15 / 2.65, 5);
    expect(v.confidence).toBeCloseTo(2.15 / 3, 5);
  });

  it('gives a state only when the frames agree on it', () => {
    const agree = voteOnTexts([{ candidates: [{ text: 'A1', confidence: 1 }], state: 'CA', stateConfidence: 0.9 }, { candidates: [{ text: 'A1', confidence: 1 }], state: 'CA', stateConfidence: 0.9 }], 10)!;
    expect(agree.state).toBe('CA');
    const split = voteOnTexts([{ candidates: [{ text: 'A1', confidence: 1 }], state: 'CA', stateConfidence: 0.9 }, { candidates: [{ text: 'A1', confidence: 1 }], state: 'NV', stateConfidence: 0.9 }], 10)!;
    expect(split.state).toBeNull();
  });

  it('P13: withholds a state that only one frame of a longer pass gave, however sure that frame was', () => {
    const frame = (state?: string) => ({ candidates: [{ text: 'A1', confidence: 1 }], ...(state ? { state, stateConfidence: 0.99 } : {}) });
    expect(voteOnTexts([frame(), frame(), frame(), frame('PA')], 10)!.state).toBeNull();
    expect(voteOnTexts([frame(), frame('NY'), frame(), frame('NY')], 10)!.state).toBe('NY');
    // Sure but rare: 2 of 10 frames is under the 30 % the pass must back a state with.
    expect(voteOnTexts([...Array(8)].map(() => frame()).concat([frame('PA'), frame('PA')]), 10)!.state).toBeNull();
    // A single-frame pass (a still image) keeps its one sure state.
    expect(voteOnTexts([frame('NY')], 10)!.state).toBe('NY');
  });

  it('computes box overlap', () => {
    expect(iou([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(50 / 150, 5);
    expect(iou([0, 0, 10, 10], [20, 20, 5, 5])).toBe(0);
  });
});
