// scripts/arm64-check decides "arm64 reads what x86 reads" with compareFile; these pin down what
// it lets through (rounding-level confidence noise) and what it must not (any text, state or box).
import { describe, expect, it } from 'vitest';
import { CONFIDENCE_TOLERANCE, compareFile, type Plate, type ReadLine } from '../../scripts/arm64/compare-reads.js';

const plate = (over: Partial<Plate> = {}): Plate => ({
  text: '7ABC123',
  confidence: 0.981,
  state: 'CA',
  box: [10, 20, 120, 40],
  candidates: [{ text: '7ABC123', confidence: 0.981 }, { text: '7ABC12', confidence: 0.012 }, { text: 'QBC123', confidence: 0.001 }, { text: '7BC123', confidence: 0 }],
  ...over,
});
const line = (...plates: Plate[]): ReadLine => ({ file: '/x/one-car.jpg', plates });

describe('arm64 read comparison', () => {
  it('accepts identical output and confidence noise within the tolerance, and ignores near-zero candidate order', () => {
    expect(compareFile('one-car.jpg', line(plate()), line(plate())).differences).toEqual([]);
    const noisy = plate({ confidence: 0.981 + CONFIDENCE_TOLERANCE / 2, candidates: [{ text: '7ABC123', confidence: 0.985 }, { text: '7ABC12', confidence: 0.011 }, { text: '7BC123', confidence: 0.001 }, { text: 'QBC123', confidence: 0 }] });
    const result = compareFile('one-car.jpg', line(plate()), line(noisy));
    expect(result.differences).toEqual([]);
    expect(result.maxConfidenceDelta).toBeCloseTo(0.005, 6);
  });

  it('rejects a different text, state, box, plate count, strong candidate or a confidence beyond the tolerance', () => {
    const diff = (arm: ReadLine) => compareFile('one-car.jpg', line(plate()), arm).differences.join('; ');
    expect(diff(line(plate({ text: '7ABC128' })))).toMatch(/text 7ABC123 vs 7ABC128/);
    expect(diff(line(plate({ state: 'NV' })))).toMatch(/state CA vs NV/);
    expect(diff(line(plate({ box: [10, 20, 121, 40] })))).toMatch(/box/);
    expect(diff(line(plate(), plate()))).toMatch(/1 plates vs 2/);
    expect(diff(line(plate({ confidence: 0.95 })))).toMatch(/confidence differs by 0.031/);
    expect(diff(line(plate({ candidates: [{ text: '7ABC123', confidence: 0.981 }, { text: '7A8C123', confidence: 0.02 }] })))).toMatch(/candidates/);
    expect(compareFile('one-car.jpg', line(plate()), undefined).differences).toEqual(['no output line from arm64']);
    expect(compareFile('one-car.jpg', line(plate()), { file: 'one-car.jpg', plates: [], error: 'boom' }).differences[0]).toMatch(/error differs/);
  });
});
