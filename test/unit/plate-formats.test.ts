import { describe, expect, it } from 'vitest';
import { letterDigitRuns, matchesStateFormat, preferGroupedText, preferStateFormat } from '../../src/inference/plate-formats.js';
import type { PlateTextResult } from '../../src/inference/reader.js';

const read = (state: string | undefined, candidates: [string, number][]): PlateTextResult => ({
  text: candidates[0]![0],
  confidence: candidates[0]![1],
  charConfidences: [],
  candidates: candidates.map(([text, confidence]) => ({ text, confidence })),
  ...(state ? { state, stateConfidence: 0.99 } : {}),
});

describe('state serial formats', () => {
  it('knows California formats and nothing for states it holds none for', () => {
    expect(matchesStateFormat('CA', '7ABC123')).toBe(true);
    expect(matchesStateFormat('CA', '4A12345')).toBe(true);
    expect(matchesStateFormat('CA', '7ABC12Q')).toBe(false);
    expect(matchesStateFormat('ID', 'QXZ4821')).toBeUndefined();
  });

  it('knows the general-issue shapes of other states (issue 19: 8/B, 6/G, 0/D, 1/I in other states\' serials)', () => {
    expect(matchesStateFormat('TX', 'QXZ4821')).toBe(true);
    expect(matchesStateFormat('TX', 'QXZB821')).toBe(false);
    expect(matchesStateFormat('NJ', 'Q12XYZ')).toBe(true);
    expect(matchesStateFormat('MO', 'QX1Z2Y')).toBe(true);
    expect(matchesStateFormat('DE', '48213')).toBe(true);
    expect(matchesStateFormat('DE', '4821QX')).toBe(false);
    expect(preferStateFormat(read('TX', [['QXZB821', 0.5], ['QXZ8821', 0.3]])).text).toBe('QXZ8821');
    expect(preferStateFormat(read('NY', [['QXZ482G', 0.45], ['QXZ4826', 0.4]])).text).toBe('QXZ4826');
    // A vanity plate follows no shape: a clear read stays, and so does a near tie with no shaped candidate.
    expect(preferStateFormat(read('TX', [['QZQUIZX', 0.9], ['QZQU1ZX', 0.05]])).text).toBe('QZQUIZX');
    expect(preferStateFormat(read('TX', [['QZQUIZX', 0.5], ['QZQU1ZX', 0.4]])).text).toBe('QZQUIZX');
  });

  it('breaks a near tie towards the state format', () => {
    const r = preferStateFormat(read('CA', [['7ABCI23', 0.5], ['7ABC123', 0.3]]));
    expect(r.text).toBe('7ABC123');
    expect(r.candidates.map((c) => c.text)).toEqual(['7ABC123', '7ABCI23']);
  });

  it('leaves a clear read, a read in format, and a read without state alone', () => {
    expect(preferStateFormat(read('CA', [['LUCKY', 0.95], ['1UCKY12', 0.01]])).text).toBe('LUCKY');
    expect(preferStateFormat(read('CA', [['7ABC123', 0.5], ['7A8C123', 0.4]])).text).toBe('7ABC123');
    expect(preferStateFormat(read(undefined, [['7ABCI23', 0.5], ['7ABC123', 0.4]])).text).toBe('7ABCI23');
    expect(preferStateFormat(read('TX', [['7ABCI23', 0.5], ['7ABC123', 0.4]])).text).toBe('7ABCI23');
  });
});

describe('letter and digit groups, without a state format', () => {
  it('counts runs of letters and of digits', () => {
    expect(letterDigitRuns('ABC1234')).toBe(2);
    expect(letterDigitRuns('1ABC234')).toBe(3);
    expect(letterDigitRuns('0DJ1599')).toBe(3);
    expect(letterDigitRuns('')).toBe(0);
  });

  it('gives a lookalike that splits a group to a near-tied candidate with fewer groups', () => {
    const r = preferGroupedText(read(undefined, [['0XY1234', 0.55], ['OXY1234', 0.4]]));
    expect(r.text).toBe('OXY1234');
    expect(r.candidates.map((c) => c.text)).toEqual(['OXY1234', '0XY1234']);
    expect(preferGroupedText(read('TX', [['AB8C123', 0.5], ['ABBC123', 0.3]])).text).toBe('ABBC123');
  });

  it('leaves clear reads, grouped reads and other differences alone', () => {
    // Not a near tie.
    expect(preferGroupedText(read(undefined, [['0XY1234', 0.9], ['OXY1234', 0.05]])).text).toBe('0XY1234');
    // Already grouped: the lookalike would split a group.
    expect(preferGroupedText(read(undefined, [['XY10234', 0.5], ['XY1O234', 0.4]])).text).toBe('XY10234');
    // Fewer groups, but through a change that is no lookalike (H/4).
    expect(preferGroupedText(read(undefined, [['4XY1234', 0.5], ['HXY1234', 0.4]])).text).toBe('4XY1234');
    // A lone letter or digit at either end is a format (7ABC123, A12BCD), not a misread: only O/0 there.
    expect(preferGroupedText(read(undefined, [['1ABC234', 0.5], ['IABC234', 0.4]])).text).toBe('1ABC234');
    expect(preferGroupedText(read(undefined, [['A12BCD', 0.5], ['412BCD', 0.4]])).text).toBe('A12BCD');
    // Different length.
    expect(preferGroupedText(read(undefined, [['0XY1234', 0.5], ['XY1234', 0.4]])).text).toBe('0XY1234');
  });
});
