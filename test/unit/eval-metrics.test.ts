import { describe, expect, it } from 'vitest';
import { countFalsePlates, scoreDetector, scorePlate, summarise } from '../../src/eval/metrics.js';
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
    expect(s.top1).toBeCloseTo(2 / 4, 5);
    expect(s.detectionRecall05).toBeCloseTo(3 / 4, 5);
    // A US state on a European plate is a wrong state, counted apart from US plates.
    expect(s.foreignStateRate).toBe(0.5);
    expect(s.stateCoverage).toBe(1);
    expect(s.stateAccuracy).toBe(0.5);
    expect(s.confusions).toEqual([{ truth: '3', read: '8', count: 1 }]);
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
    expect(s.detector).toEqual({ recall05: 0.75, falseBoxesPerImage: 2.5 });
  });

  it('uses the fixed split rule of the training scripts', () => {
    expect(splitOf('test', 'a.jpg')).toBe('val');
    expect(splitOf('train', 'a.jpg')).toBe('train');
    // sha1-based: stable across runs and machines
    expect(splitOf(undefined, 'eu1.jpg')).toBe(splitOf(undefined, 'eu1.jpg'));
    const names = Array.from({ length: 1000 }, (_, i) => `img${i}.jpg`);
    const val = names.filter((n) => splitOf(undefined, n) === 'val').length;
    expect(val).toBeGreaterThan(60);
    expect(val).toBeLessThan(140);
  });

  it('loads the synthetic labelled fixtures', () => {
    const set = loadLabelledSet('test/fixtures/scenes');
    expect(set).toHaveLength(3);
    expect(set.find((i) => i.path.endsWith('two-cars.jpg'))!.plates).toHaveLength(2);
  });
});
