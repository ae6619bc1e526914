import { describe, expect, it } from 'vitest';
import { READER_LOOK_ALIKE_PAIRS, foldLookAlikes, lookAlikeKey } from '../../src/plate/look-alike.js';

describe('the one look-alike table (src/plate)', () => {
  it('folds each confusable letter onto its digit, as the store index, searches and hot-list matches expect', () => {
    expect(foldLookAlikes('OQDILZSGB')).toBe('000112568');
    // Letters not in the table, digits and wildcards pass through: hot-list partial entries fold too.
    expect(foldLookAlikes('ACTX4*?')).toBe('ACTX4*?');
    expect(lookAlikeKey('8ab-c 123')).toBe(lookAlikeKey('BA8C1Z3'));
    expect(lookAlikeKey('8ABC123')).not.toBe(lookAlikeKey('8ABC124'));
  });

  it("gives the reader's near-tie rule the folded pairs and T/1, A/4, which searches do not fold", () => {
    expect([...READER_LOOK_ALIKE_PAIRS].sort()).toEqual(['A4', 'B8', 'D0', 'G6', 'I1', 'L1', 'O0', 'Q0', 'S5', 'T1', 'Z2']);
    expect(foldLookAlikes('TA')).toBe('TA');
  });
});
