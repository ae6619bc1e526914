import { describe, expect, it } from 'vitest';
import { fuseViews } from '../../src/inference/view-fusion.js';
import type { PlateTextResult } from '../../src/inference/reader.js';

function read(candidates: [string, number][]): PlateTextResult {
  const [text, confidence] = candidates[0]!;
  return { text, confidence, charConfidences: [...text].map(() => confidence), candidates: candidates.map(([t, c]) => ({ text: t, confidence: c })) };
}

describe('reading one plate from several framings', () => {
  it('picks the text with the most probability over all framings, not the single most confident one', () => {
    const fused = fuseViews([read([['7ABC123', 0.6], ['7A8C123', 0.3]]), read([['7ABC123', 0.55]]), read([['7A8C123', 0.9], ['7ABC123', 0.05]])]);
    expect(fused.text).toBe('7ABC123');
    expect(fused.confidence).toBe(0.6);
    expect(fused.candidates.map((c) => c.text)).toEqual(['7ABC123', '7A8C123']);
    expect(fused.candidates[0]!.confidence).toBeCloseTo(1.2 / 3, 6);
  });

  it('reports the winner even when no framing had it first, with its best probability', () => {
    const fused = fuseViews([read([['8ABC123', 0.4], ['7ABC123', 0.35]]), read([['9ABC123', 0.45], ['7ABC123', 0.3]]), read([['7A8C123', 0.5], ['7ABC123', 0.3]])]);
    expect(fused.text).toBe('7ABC123');
    expect(fused.confidence).toBe(0.35);
    expect(fused.candidates[0]!.text).toBe('7ABC123');
    expect(fused.charConfidences).toHaveLength(7);
  });

  it('passes one framing through untouched', () => {
    const one = read([['QXZ482', 0.7]]);
    expect(fuseViews([one])).toBe(one);
  });
});
