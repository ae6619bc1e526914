import { describe, expect, it } from 'vitest';
import { decodeBeam, decodeBestPath } from '../../src/inference/ctc.js';

const ALPHA = 'AB';

/** steps × 3 classes (blank, A, B) from a list of rows. */
function probs(rows: number[][]): Float32Array {
  return new Float32Array(rows.flat());
}

describe('CTC decoding', () => {
  it('collapses repeats and drops blanks on the best path', () => {
    const p = probs([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7]]);
    const r = decodeBestPath(p, 5, 3, ALPHA);
    expect(r.text).toBe('AAB');
    expect(r.charConfidences).toHaveLength(3);
    expect(r.confidence).toBeCloseTo(Math.cbrt(0.8 * 0.8 * 0.7), 5);
  });

  it('returns an empty text with zero confidence for all-blank input', () => {
    expect(decodeBestPath(probs([[1, 0, 0], [1, 0, 0]]), 2, 3, ALPHA)).toEqual({ text: '', confidence: 0, charConfidences: [] });
  });

  it('ranks alternatives by total path probability in beam search', () => {
    // Best path says "A" at 0.6, but "B" collects more mass over both steps' paths.
    const p = probs([[0.0, 0.6, 0.4], [0.0, 0.0, 1.0]]);
    const beams = decodeBeam(p, 2, 3, ALPHA, 5, 5);
    expect(beams[0]!.text).toBe('AB');
    expect(beams[0]!.confidence).toBeCloseTo(0.6, 5);
    expect(beams[1]!.text).toBe('B');
    expect(beams[1]!.confidence).toBeCloseTo(0.4, 5);
  });

  it('keeps repeated characters separated by a blank', () => {
    const p = probs([[0, 1, 0], [1, 0, 0], [0, 1, 0]]);
    expect(decodeBeam(p, 3, 3, ALPHA)[0]!.text).toBe('AA');
  });
});
