import { describe, expect, it } from 'vitest';
import { matchesStateFormat, preferStateFormat } from '../../src/inference/plate-formats.js';
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
    expect(matchesStateFormat('TX', 'ABC1234')).toBeUndefined();
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
