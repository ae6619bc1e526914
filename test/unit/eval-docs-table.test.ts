import { describe, expect, it } from 'vitest';
import { mergeEvalTable, TABLE_END, TABLE_START, type EvalRow } from '../../src/eval/docs-table.js';
import { rate, type SetSummary } from '../../src/eval/metrics.js';

const summary = (top1: number): SetSummary => ({
  images: 10,
  plates: 12,
  detectionRecall03: rate(12, 12),
  detectionRecall05: rate(9, 12),
  top1: rate(top1, 12),
  topN: rate(11, 12),
  charAccuracy: rate(80, 84),
  stateCoverage: rate(6, 12),
  stateAccuracy: rate(6, 6),
  foreignStateRate: null,
  falsePlates: 1,
  falsePlatesPerImage: 0.1,
  detector: { recall05: rate(12, 12), falseBoxes: 9, falseBoxesPerImage: 0.9 },
  confusions: [],
  msPerImage: 12.34,
});
const row = (set: string, split: string, top1: number, date = '2026-12-01T10:00:00Z', models = 'int8'): EvalRow => ({ set, mode: 'scenes', split, models, date, summary: summary(top1), openalpr: 0.72 });
/** The split column of each row of the generated table, in order, for one set. */
const splitsOf = (doc: string, set: string) => [...doc.matchAll(new RegExp(`^\\| ${set} \\| scenes \\| ([^|]+) \\| ([^|]+) \\|`, 'gm'))].map((m) => `${m[1]!.trim()} ${m[2]!.trim()}`);

describe('eval table in the models doc', () => {
  it('appends the table to a doc without one: every rate with its count and 95 % interval, OpenALPR beside ours', () => {
    const doc = mergeEvalTable('# Models\n\ntext\n', [row('openalpr-eu', 'test', 6)]);
    expect(doc.startsWith('# Models\n\ntext\n\n' + TABLE_START)).toBe(true);
    expect(doc).toContain(
      '| openalpr-eu | scenes | test | int8 | 10 / 12 | 75.0 % (9/12, 46–92); boxes 100.0 % (12/12, 75–100) | **50.0 %** (6/12, 25–75) | 91.7 % (11/12, 64–99) | 95.2 % (80/84, 88–99) | 50.0 % (6/12, 25–75) / 100.0 % (6/6, 60–100) | 0.100 (1 in 10); boxes 0.90 (9 in 10) | 12.3 | 72.0 % | 2026-12-01 |',
    );
    expect(doc.trimEnd().endsWith(TABLE_END)).toBe(true);
  });

  it('replaces the row of a re-measured set and keeps the others and the text around the table', () => {
    let doc = mergeEvalTable('# Models\n', [row('ucsd-ca', 'val', 6), row('openalpr-eu', 'val', 6)]);
    doc = `${doc}\nafter\n`;
    doc = mergeEvalTable(doc, [row('ucsd-ca', 'val', 11, '2026-12-02T00:00:00Z')]);
    expect(doc).toContain('**91.7 %** (11/12, 64–99)');
    expect(doc).not.toMatch(/\| ucsd-ca \| scenes \| val \| int8 \|[^\n]*\*\*50\.0 %\*\*/);
    expect(doc).toMatch(/\| openalpr-eu \| scenes \| val \| int8 \|[^\n]*\*\*50\.0 %\*\*/);
    expect(doc.match(/\| ucsd-ca \|/g)).toHaveLength(1);
    expect(doc.endsWith('\nafter\n')).toBe(true);
  });

  it('keys rows by set, mode, split and models, and puts val and test of the same models side by side', () => {
    let doc = mergeEvalTable('', [row('ucsd-ca', 'all', 6), row('ucsd-ca', 'test', 6, undefined, 'fp32'), row('ucsd-ca', 'test', 6)]);
    doc = mergeEvalTable(doc, [row('ucsd-ca', 'val', 7), row('ucsd-ca', 'val', 8, undefined, 'fp32')]);
    expect(splitsOf(doc, 'ucsd-ca')).toEqual(['val fp32', 'test fp32', 'val int8', 'test int8', 'all int8']);
  });

  it('keeps rows written before counts and intervals, under the same columns, until they are re-measured', () => {
    const old = '| openalpr-eu | scenes | val+test | int8 | 12 / 12 | 91.7 % (boxes 100.0 %) | **91.7 %** | 91.7 % | 91.7 % | US state on 0.0 % | 0.083 (boxes 0.92) | 42.5 | 72.0 % | 2026-12-02 |';
    const doc = mergeEvalTable(`${TABLE_START}\n| set | old header |\n|---|\n${old}\n${TABLE_END}\n`, [row('openalpr-eu', 'test', 6), row('openalpr-eu', 'val', 6)]);
    expect(doc).toContain(old);
    expect(doc).not.toContain('old header');
    expect(splitsOf(doc, 'openalpr-eu')).toEqual(['val int8', 'test int8', 'val+test int8']);
    const cells = (line: string) => line.split('|').length;
    const header = doc.split('\n').find((l) => l.startsWith('| set |'))!;
    expect(cells(old)).toBe(cells(header));
  });
});
