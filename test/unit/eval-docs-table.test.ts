import { describe, expect, it } from 'vitest';
import { mergeEvalTable, TABLE_END, TABLE_START, type EvalRow } from '../../src/eval/docs-table.js';
import type { SetSummary } from '../../src/eval/metrics.js';

const summary = (top1: number): SetSummary => ({
  images: 10,
  plates: 12,
  detectionRecall03: 1,
  detectionRecall05: 0.75,
  top1,
  topN: 0.9,
  charAccuracy: 0.95,
  stateCoverage: 0.5,
  stateAccuracy: 1,
  foreignStateRate: null,
  falsePlatesPerImage: 0.1,
  confusions: [],
  msPerImage: 12.34,
});
const row = (set: string, split: string, top1: number, date = '2026-12-01T10:00:00Z'): EvalRow => ({ set, mode: 'scenes', split, models: 'int8', date, summary: summary(top1), openalpr: 0.72 });

describe('eval table in the models doc', () => {
  it('appends the table to a doc without one, with OpenALPR beside ours', () => {
    const doc = mergeEvalTable('# Models\n\ntext\n', [row('openalpr-eu', 'val', 0.5)]);
    expect(doc.startsWith('# Models\n\ntext\n\n' + TABLE_START)).toBe(true);
    expect(doc).toContain('| openalpr-eu | scenes | val | int8 | 10 / 12 | 75.0 % | **50.0 %** | 90.0 % | 95.0 % | 50.0 % / 100.0 % | 0.100 | 12.3 | 72.0 % | 2026-12-01 |');
    expect(doc.trimEnd().endsWith(TABLE_END)).toBe(true);
  });

  it('replaces the row of a re-measured set and keeps the others and the text around the table', () => {
    let doc = mergeEvalTable('# Models\n', [row('ucsd-ca', 'val', 0.5), row('openalpr-eu', 'val', 0.5)]);
    doc = `${doc}\nafter\n`;
    doc = mergeEvalTable(doc, [row('ucsd-ca', 'val', 0.9, '2026-12-02T00:00:00Z')]);
    expect(doc).toContain('**90.0 %**');
    expect(doc).not.toMatch(/\| ucsd-ca \| scenes \| val \| int8 \|[^\n]*\*\*50\.0 %\*\*/);
    expect(doc).toMatch(/\| openalpr-eu \| scenes \| val \| int8 \|[^\n]*\*\*50\.0 %\*\*/);
    expect(doc.match(/\| ucsd-ca \|/g)).toHaveLength(1);
    expect(doc.endsWith('\nafter\n')).toBe(true);
  });
});
