import { describe, expect, it } from 'vitest';
import { countFalsePlates, formatRate, rate, scoreDetector, scorePlate, summarise, wilsonInterval } from '../../src/eval/metrics.js';
import { loadLabelledSet, splitOf } from '../../src/eval/labelled-set.js';

const p = (text: string, box: [number, number, number, number], state: string | null = null, cands: string[] = [text]) => ({ text, state, box, candidates: cands.map((t) => ({ text: t })) });

describe('evaluation metrics', () => {
  it('matches a labelled plate to the overlapping read and scores it', () => {
    const o = scorePlate({ text: '7ABC123', region: 'us-ca', box: [100, 100, 100, 50] }, [p('7ABC128', [105, 100, 100, 50], 'CA', ['7ABC128', '7ABC123']), p('9ZZZ999', [500, 500, 80, 40])]);
    expect(o).toMatchObject({ detected03: true, detected05: true, top1: false, topN: true, stateGiven: true, stateRight: true, us: true });
    expect(o.charAccuracy).toBeCloseTo(6 / 7, 5);
    expect(o.substitutions).toEqual([['3', '8']]);
    // The failure names character pairs and ranks, never the plate text.
    expect(o.failure).toEqual({ kind: 'misread', iou: 0.9, length: [7, 7], substitutions: ['3>8'], rightAt: 1 });
  });

  it('does not credit a read that misses the labelled box', () => {
    const o = scorePlate({ text: '7ABC123', box: [0, 0, 50, 20] }, [p('7ABC123', [300, 300, 50, 20])]);
    expect(o.detected03).toBe(false);
    expect(o.top1).toBe(false);
    expect(o.failure).toEqual({ kind: 'missed', iou: 0, length: [0, 7], substitutions: [], rightAt: -1 });
    expect(scorePlate({ text: '7ABC123', box: [0, 0, 50, 20] }, [p('7ABC123', [0, 0, 50, 20])]).failure).toBeUndefined();
  });

  it('summarises a set: recall, exact rates, state coverage and accuracy, confusions, false plates', () => {
    const a = scorePlate({ text: 'AB12', region: 'us-tx', box: [0, 0, 10, 10] }, [p('AB12', [0, 0, 10, 10], 'TX')]);
    const b = scorePlate({ text: 'CD34', region: 'us-tx', box: [0, 0, 10, 10] }, [p('CD84', [0, 0, 10, 10], 'NM')]);
    const c = scorePlate({ text: 'EF56', region: 'eu', box: [0, 0, 10, 10] }, []);
    const d = scorePlate({ text: 'GH78', region: 'eu', box: [0, 0, 10, 10] }, [p('GH78', [0, 0, 10, 10], 'MA')]);
    const s = summarise([a, b, c, d], 3, 2, 300);
    // Every rate carries its count.
    expect(s.top1).toMatchObject({ k: 2, n: 4, value: 0.5 });
    expect(s.topN).toMatchObject({ k: 2, n: 4 });
    expect(s.detectionRecall05).toMatchObject({ k: 3, n: 4, value: 0.75 });
    // Characters: 4 + 3 + 0 + 4 of 16.
    expect(s.charAccuracy).toMatchObject({ k: 11, n: 16 });
    // A US state on a European plate is a wrong state, counted apart from US plates.
    expect(s.foreignStateRate).toMatchObject({ k: 1, n: 2, value: 0.5 });
    expect(s.stateCoverage).toMatchObject({ k: 2, n: 2, value: 1 });
    expect(s.stateAccuracy).toMatchObject({ k: 1, n: 2, value: 0.5 });
    expect(s.confusions).toEqual([{ truth: '3', read: '8', count: 1 }]);
    expect(s.falsePlates).toBe(2);
    expect(s.falsePlatesPerImage).toBeCloseTo(2 / 3, 5);
    expect(s.msPerImage).toBe(100);
    expect(countFalsePlates([[0, 0, 10, 10]], [p('X1', [0, 0, 10, 10]), p('Y2', [50, 50, 10, 10])])).toBe(1);
    expect(s.detector).toBeNull();
  });

  it('scores the detector alone: plates boxed at IoU >= 0.5, boxes on no plate', () => {
    const truth: [number, number, number, number][] = [[0, 0, 100, 40], [200, 0, 100, 40]];
    // The first plate boxed well; the second only at IoU 0.4 (neither found nor false); one box on nothing.
    const d = scoreDetector(truth, [[2, 1, 100, 40], [200, 0, 40, 40], [500, 500, 80, 30]]);
    expect(d).toEqual({ plates: 2, found: 1, falseBoxes: 1 });
    const s = summarise([], 2, 0, 0, { plates: 4, found: 3, falseBoxes: 5 });
    expect(s.detector).toEqual({ recall05: rate(3, 4), falseBoxes: 5, falseBoxesPerImage: 2.5 });
    // No plates: no rate, not a 0 % one.
    expect(s.top1).toMatchObject({ k: 0, n: 0, value: null });
  });

  it('gives 95 % Wilson score intervals that match published values', () => {
    const [low, high] = wilsonInterval(45, 50);
    expect(low).toBeCloseTo(0.7864, 3);
    expect(high).toBeCloseTo(0.9565, 3);
    // Newcombe (1998), table I: 81/263 → 0.2553–0.3662.
    const [l2, h2] = wilsonInterval(81, 263);
    expect(l2).toBeCloseTo(0.2553, 3);
    expect(h2).toBeCloseTo(0.3662, 3);
  });

  it('keeps the interval open at 0 of n and n of n, and says nothing at 0 of 0', () => {
    // 0/10 → [0, 0.278]; 10/10 → [0.722, 1]: a perfect small split is not a perfect model.
    const [l0, h0] = wilsonInterval(0, 10);
    expect(l0).toBe(0);
    expect(h0).toBeCloseTo(0.2775, 3);
    const [l1, h1] = wilsonInterval(10, 10);
    expect(l1).toBeCloseTo(0.7225, 3);
    expect(h1).toBe(1);
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
    for (let n = 1; n <= 60; n++) {
      for (let k = 0; k <= n; k++) {
        const [l, h] = wilsonInterval(k, n);
        expect(l).toBeLessThanOrEqual(k / n);
        expect(h).toBeGreaterThanOrEqual(k / n);
        expect(l).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThanOrEqual(1);
      }
    }
  });

  it('writes a rate with its count and its interval rounded outwards', () => {
    expect(formatRate(rate(48, 50))).toBe('96.0 % (48/50, 86–99)');
    expect(formatRate(rate(12, 12))).toBe('100.0 % (12/12, 75–100)');
    expect(formatRate(rate(0, 6))).toBe('0.0 % (0/6, 0–40)');
    expect(formatRate(rate(0, 0))).toBe('n/a (0/0)');
    expect(formatRate(null)).toBe('n/a');
  });

  it('uses the fixed split rule of the training scripts: train, and held-out halved into val and test', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `img${i}.jpg`);
    // The source's own held-out split is halved by a second hash of the name; its train stays train.
    const held = names.map((n) => splitOf('test', n));
    expect(new Set(held)).toEqual(new Set(['val', 'test']));
    expect(names.map((n) => splitOf('valid', n))).toEqual(held);
    expect(names.every((n) => splitOf('train', n) === 'train')).toBe(true);
    const test = held.filter((s) => s === 'test').length;
    expect(test).toBeGreaterThan(900);
    expect(test).toBeLessThan(1100);
    // sha1-based and pinned: the same in scripts/train/reader_data.py (values from its norm_split)
    // and on every run, so no image moves from test into what was chosen on.
    expect(['img0.jpg', 'img1.jpg', 'img3.jpg', 'img5.jpg'].map((n) => splitOf('test', n))).toEqual(['val', 'val', 'test', 'test']);
    expect(['img0.jpg', 'img3.jpg', 'img4.jpg', 'img38.jpg'].map((n) => splitOf(undefined, n))).toEqual(['train', 'test', 'val', 'test']);
    // Sets without a split: ~90 % train, the rest in two non-empty halves.
    const hashed = names.map((n) => splitOf(undefined, n));
    const train = hashed.filter((s) => s === 'train').length;
    expect(train).toBeGreaterThan(1720);
    expect(train).toBeLessThan(1880);
    const hashedTest = hashed.filter((s) => s === 'test').length;
    const hashedVal = hashed.filter((s) => s === 'val').length;
    expect(hashedTest).toBeGreaterThan(50);
    expect(hashedVal).toBeGreaterThan(50);
    expect(hashedTest + hashedVal).toBe(names.length - train);
  });

  it('loads the synthetic labelled fixtures', () => {
    const set = loadLabelledSet('test/fixtures/scenes');
    expect(set).toHaveLength(3);
    expect(set.find((i) => i.path.endsWith('two-cars.jpg'))!.plates).toHaveLength(2);
  });
});
