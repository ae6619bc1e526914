import { describe, expect, it } from 'vitest';
import { HotListMatcher } from '../../src/hotlist/matcher.js';
import { withinOneEdit } from '../../src/plate/edit-distance.js';
import { foldLookAlikes } from '../../src/plate/look-alike.js';
import fc from 'fast-check';
import type { HotList, HotListEntry } from '../../src/hotlist/list.js';
import { HotListEntries, plateCode, plateFromCode } from '../../src/hotlist/entry-table.js';

function entry(plate: string, state: string | null, extra: Partial<HotListEntry> = {}): HotListEntry {
  return { plate, state, type: 'SVS', reason: 'test', recordNumber: 'R1', enteredAt: '2025-01-01T00:00:00.000Z', expiresAt: null, partial: /[?*]/.test(plate), fuzzy: false, ...extra };
}

function list(entries: HotListEntry[], name = 'ncic'): HotList {
  return { name, source: 'test', version: 1, issuedAt: new Date().toISOString(), entries: HotListEntries.from(entries), signedBy: 'k' };
}

function read(plate: string, state: string | null = 'CA', candidates: string[] = []) {
  return { plate, state, candidates: [{ text: plate }, ...candidates.map((text) => ({ text }))] };
}

describe('hot-list matcher', () => {
  it('reports an exact match as kind exact', () => {
    const m = new HotListMatcher([list([entry('7ABC123', 'CA')])]).match(read('7ABC123'));
    expect(m.map((x) => [x.entry.plate, x.kind])).toEqual([['7ABC123', 'exact']]);
  });

  it('matches look-alike characters (0/O/Q/D, 1/I/L, 8/B, 5/S, 2/Z, 6/G) as kind look-alike', () => {
    const matcher = new HotListMatcher([list([entry('0I8S2G', null), entry('D1B5Z6', null)])]);
    const m = matcher.match(read('QLB526'));
    expect(m).toHaveLength(2);
    expect(m.every((x) => x.kind === 'look-alike')).toBe(true);
    expect(foldLookAlikes('OQDILBSZG')).toBe('000118526');
  });

  it('matches an OCR candidate (not the read plate) as kind candidate', () => {
    const m = new HotListMatcher([list([entry('8XY4421', 'CA')])]).match(read('BXY4427', 'CA', ['8XY4421']));
    expect(m.map((x) => [x.kind, x.matchedText])).toEqual([['candidate', '8XY4421']]);
  });

  it('matches one edit off only where the entry allows it', () => {
    const matcher = new HotListMatcher([list([entry('4KTR901', 'CA', { fuzzy: true }), entry('4KTR902', 'CA')])]);
    // substitution, deletion and insertion against the fuzzy entry
    for (const p of ['4KTR9O7', '4KTR91', '4KTR9011']) {
      const m = matcher.match(read(p));
      expect(m.map((x) => [x.entry.plate, x.kind])).toEqual([['4KTR901', 'edit-distance-1']]);
    }
    expect(matcher.match(read('4KTX977'))).toEqual([]);
  });

  it('P12: matches partial entries with wildcards and marks the hit partial', () => {
    const matcher = new HotListMatcher([list([entry('7AB?12*', null)])]);
    const m = matcher.match(read('7ABX12'));
    expect(m).toHaveLength(1);
    expect(m[0]!.kind).toBe('partial');
    expect(m[0]!.entry.partial).toBe(true);
    expect(matcher.match(read('7ABX129Z')).length).toBe(1);
    expect(matcher.match(read('7AB12'))).toEqual([]);
    // look-alikes apply to partial entries too
    expect(matcher.match(read('7A8X12')).length).toBe(1);
  });

  it('P13: a state known on both sides must agree; unknown on either side does not veto', () => {
    const matcher = new HotListMatcher([list([entry('5XYZ123', 'TX'), entry('6XYZ123', null)])]);
    expect(matcher.match(read('5XYZ123', 'CA'))).toEqual([]);
    expect(matcher.match(read('5XYZ123', null))).toHaveLength(1);
    expect(matcher.match(read('6XYZ123', 'NV'))).toHaveLength(1);
  });

  it('ignores expired entries', () => {
    const matcher = new HotListMatcher([list([entry('1EXP001', null, { expiresAt: '2020-01-01T00:00:00.000Z' })])]);
    expect(matcher.match(read('1EXP001'))).toEqual([]);
  });

  it('reports the strongest kind once per entry and hits on every list that has the plate', () => {
    const a = list([entry('9ZZZ999', null, { fuzzy: true })], 'a');
    const b = list([entry('9ZZZ999', null)], 'b');
    const m = new HotListMatcher([a, b]).match(read('9ZZZ999', null, ['9ZZZ999']));
    expect(m.map((x) => [x.list.name, x.kind])).toEqual([['a', 'exact'], ['b', 'exact']]);
  });

  it('withinOneEdit agrees with a reference Levenshtein on random strings', () => {
    const lev = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
      for (let j = 1; j <= b.length; j++) d[0]![j] = j;
      for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      return d[a.length]![b.length]!;
    };
    const alpha = 'AB1';
    const rnd = (n: number) => Array.from({ length: n }, () => alpha[Math.floor(Math.random() * alpha.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const a = rnd(Math.floor(Math.random() * 5));
      const b = rnd(Math.floor(Math.random() * 5));
      expect(withinOneEdit(a, b)).toBe(lev(a, b) <= 1);
    }
  });

  it('the compact index finds exactly what a scan of every entry by the documented rules finds, with the same kinds', () => {
    // Reference: docs/hotlists.md "Matching", applied entry by entry with strings.
    const RANK = ['exact', 'look-alike', 'candidate', 'edit-distance-1', 'partial'];
    const reference = (entries: HotListEntry[], r: ReturnType<typeof read>) => {
      const texts = [r.plate, ...r.candidates.map((c) => c.text).filter((t) => t !== r.plate)];
      const out: [number, string][] = [];
      entries.forEach((e, i) => {
        if (e.state !== null && r.state !== null && e.state !== r.state) return;
        const kinds: string[] = [];
        texts.forEach((t, ti) => {
          if (e.partial) {
            const re = new RegExp(`^${[...foldLookAlikes(e.plate)].map((c) => (c === '?' ? '.' : c === '*' ? '.*' : c)).join('')}$`);
            if (re.test(foldLookAlikes(t))) kinds.push('partial');
          } else if (foldLookAlikes(t) === foldLookAlikes(e.plate)) kinds.push(ti > 0 ? 'candidate' : t === e.plate ? 'exact' : 'look-alike');
        });
        if (e.fuzzy && !e.partial && withinOneEdit(foldLookAlikes(r.plate), foldLookAlikes(e.plate))) kinds.push('edit-distance-1');
        if (kinds.length > 0) out.push([i, kinds.sort((a, b) => RANK.indexOf(a) - RANK.indexOf(b))[0]!]);
      });
      return out.sort((a, b) => RANK.indexOf(a[1]) - RANK.indexOf(b[1]) || a[0] - b[0]);
    };
    const plate = fc.stringMatching(/^[0OQD1IL8B5S2Z6GA]{1,4}$/);
    const anEntry = fc.record({ plate: fc.oneof(plate, plate.map((p) => p.slice(0, 2) + '?'), plate.map((p) => p[0] + '*')), state: fc.constantFrom(null, 'CA', 'NV'), fuzzy: fc.boolean() }).map(({ plate: p, state, fuzzy }) => entry(p, state, { fuzzy }));
    fc.assert(
      fc.property(fc.array(anEntry, { maxLength: 30 }), plate, fc.constantFrom(null, 'CA', 'NV'), fc.array(plate, { maxLength: 3 }), (entries, p, state, cands) => {
        const r = read(p, state, cands);
        const got = new HotListMatcher([list(entries)]).match(r).map((m) => [m.entryIndex, m.kind]);
        expect(got.sort((a, b) => RANK.indexOf(a[1] as string) - RANK.indexOf(b[1] as string) || (a[0] as number) - (b[0] as number))).toEqual(reference(entries, r));
      }),
      { numRuns: 2000 },
    );
  });

  it('entries keep every field through the compact table, plates through their numeric code', () => {
    const e = [entry('7AB?12*', null, { reason: 'tab\there', vehicle: 'Honda', expiresAt: '2030-01-01T00:00:00.000Z' }), entry('ZZZZZZZZZ9', 'TX', { fuzzy: true, local: { enteredBy: 'A', caseNumber: 'C1', synopsis: 's', approvedBy: 'B' } })];
    expect([...HotListEntries.from(e)]).toEqual(e);
    for (const p of ['0', 'ZZZZZZZZZZ', '**********', '7ABC123']) expect(plateFromCode(plateCode(p))).toBe(p);
    expect(plateCode('ABCDEFGHIJK')).toBe(-1);
    expect(plateCode('ab')).toBe(-1);
  });
});
