import { describe, expect, it } from 'vitest';
import { editDistance } from '../../src/plate/edit-distance.js';
import { isPlausiblePlate, normalisePlateText } from '../../src/plate/text.js';

describe('plate text rules', () => {
  it('normalises separators and case', () => {
    expect(normalisePlateText('qxz-48 2')).toBe('QXZ482');
  });
  it('accepts plate-like strings and refuses slogans', () => {
    expect(isPlausiblePlate('7XYZ123')).toBe(true);
    expect(isPlausiblePlate('CALIFORNIA')).toBe(false);
    expect(isPlausiblePlate('DMVCAGOV')).toBe(false);
    expect(isPlausiblePlate('123456789')).toBe(false);
  });
  it('takes a digit-free text as a vanity plate only when the reader is sure and it is no banner word', () => {
    expect(isPlausiblePlate('QWERTY', 0.95)).toBe(true);
    expect(isPlausiblePlate('QWERTY', 0.85)).toBe(false);
    expect(isPlausiblePlate('QWERTY')).toBe(false);
    expect(isPlausiblePlate('TEXAS', 0.99)).toBe(false);
    expect(isPlausiblePlate('DMVCAGOV', 0.99)).toBe(false);
    expect(isPlausiblePlate('7XYZ123', 0.1)).toBe(true);
  });
  it('takes an 8-letter vanity plate, but no 7- or 8-letter state name', () => {
    expect(isPlausiblePlate('QWERTYUI', 0.95)).toBe(true);
    expect(isPlausiblePlate('FLORIDA', 0.99)).toBe(false);
    expect(isPlausiblePlate('VIRGINIA', 0.99)).toBe(false);
    expect(isPlausiblePlate('NEWYORK', 0.99)).toBe(false);
  });
  it('computes edit distance', () => {
    expect(editDistance('7ABC123', '7A8C123')).toBe(1);
    expect(editDistance('', 'ABC')).toBe(3);
  });
});
