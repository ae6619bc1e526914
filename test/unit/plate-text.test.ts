import { describe, expect, it } from 'vitest';
import { editDistance, isPlausiblePlate, normalisePlateText } from '../../src/inference/plate-text.js';

describe('plate text rules', () => {
  it('normalises separators and case', () => {
    expect(normalisePlateText('abc-12 3')).toBe('ABC123');
  });
  it('accepts plate-like strings and refuses slogans', () => {
    expect(isPlausiblePlate('7XYZ123')).toBe(true);
    expect(isPlausiblePlate('CALIFORNIA')).toBe(false);
    expect(isPlausiblePlate('DMVCAGOV')).toBe(false);
    expect(isPlausiblePlate('123456789')).toBe(false);
  });
  it('computes edit distance', () => {
    expect(editDistance('7ABC123', '7A8C123')).toBe(1);
    expect(editDistance('', 'ABC')).toBe(3);
  });
});
