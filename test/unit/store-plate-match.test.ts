import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lookAlikeKey } from '../../src/plate/look-alike.js';
import { isWildcardPattern, wildcardMatcher } from '../../src/store/plate-match.js';
import { ulidTimeMs, ulidTimePrefix } from '../../src/store/read-store.js';
import { newReadId } from '../../src/pipeline/read-id.js';

describe('plate matching for store searches', () => {
  it('folds characters readers confuse, so look-alike plates share a key', () => {
    expect(lookAlikeKey('8ABC123')).toBe(lookAlikeKey('BABC123'));
    expect(lookAlikeKey('0O1I5S')).toBe(lookAlikeKey('OQLLSS'));
    expect(lookAlikeKey('8abc-123')).toBe(lookAlikeKey('8ABC123'));
    expect(lookAlikeKey('8ABC123')).not.toBe(lookAlikeKey('8ABC124'));
  });

  it('matches partial plates with * (any run) and ? or _ (one character), whole plate only', () => {
    expect(isWildcardPattern('7AB*')).toBe(true);
    expect(isWildcardPattern('7ABC123')).toBe(false);
    const m = wildcardMatcher('7a?c*');
    expect(m('7ABC123')).toBe(true);
    expect(m('7AXC')).toBe(true);
    expect(m('17ABC123')).toBe(false);
    expect(wildcardMatcher('*123')('9XYZ123')).toBe(true);
    expect(wildcardMatcher('_X')('AX')).toBe(true);
    expect(wildcardMatcher('_X')('AAX')).toBe(false);
  });

  it('encodes capture times as ULID prefixes that sort like the times (the store\'s time index)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 47 }), fc.integer({ min: 0, max: 2 ** 47 }), (a, b) => {
      expect(ulidTimeMs(ulidTimePrefix(a))).toBe(a);
      expect(Math.sign(ulidTimePrefix(a).localeCompare(ulidTimePrefix(b)))).toBe(Math.sign(a - b));
    }));
    const t = Date.parse('2026-03-01T12:00:00Z');
    expect(newReadId(t).startsWith(ulidTimePrefix(t))).toBe(true);
  });
});
