import type { SetSummary } from './metrics.js';

// `npm run eval -- ... --docs docs/models.md` keeps one generated table in the models doc: one row
// per set, mode, split and precision, replaced when that combination is measured again, so the doc
// always shows the latest measurement of each without hand copying.

export const TABLE_START = '<!-- eval-table:start (written by npm run eval -- --docs; edit by re-running) -->';
export const TABLE_END = '<!-- eval-table:end -->';

const HEADER = [
  '| set | mode | split | models | images / plates | read at IoU≥0.5 (detector boxes alone) | top-1 exact | top-N | char acc. | state coverage / right | false plates / image (detector boxes) | ms / image | OpenALPR top-1 (full set) | measured |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];

export interface EvalRow {
  set: string;
  mode: string;
  split: string;
  models: string;
  date: string;
  summary: SetSummary;
  /** OpenALPR's published end-to-end top-1 for this set's region, when there is one. */
  openalpr?: number;
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);

export function renderRow(r: EvalRow): string {
  const s = r.summary;
  const cells = [
    r.set,
    r.mode,
    r.split,
    r.models,
    `${s.images} / ${s.plates}`,
    r.mode === 'scenes' ? `${pct(s.detectionRecall05)}${s.detector ? ` (boxes ${pct(s.detector.recall05)})` : ''}` : '—',
    `**${pct(s.top1)}**`,
    pct(s.topN),
    pct(s.charAccuracy),
    s.stateCoverage !== null ? `${pct(s.stateCoverage)} / ${pct(s.stateAccuracy)}` : s.foreignStateRate !== null ? `US state on ${pct(s.foreignStateRate)}` : 'n/a',
    r.mode === 'scenes' ? `${s.falsePlatesPerImage.toFixed(3)}${s.detector ? ` (boxes ${s.detector.falseBoxesPerImage.toFixed(2)})` : ''}` : '—',
    s.msPerImage.toFixed(1),
    r.openalpr === undefined ? '—' : pct(r.openalpr),
    r.date.slice(0, 10),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The first four cells (set, mode, split, models) identify a row. */
function rowKey(line: string): string {
  return line.split('|').slice(1, 5).map((c) => c.trim()).join('|');
}

/**
 * The document with `rows` merged into its generated table (rows of the same set, mode, split
 * and models replaced, the rest kept, sorted); the table is appended when the document has none.
 */
export function mergeEvalTable(doc: string, rows: EvalRow[]): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  const kept = new Map<string, string>();
  if (start >= 0 && end > start) {
    for (const line of doc.slice(start + TABLE_START.length, end).split('\n')) {
      if (line.startsWith('| ') && !line.startsWith('| set |')) kept.set(rowKey(line), line);
    }
  }
  for (const r of rows) {
    const line = renderRow(r);
    kept.set(rowKey(line), line);
  }
  const body = [...kept.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, line]) => line);
  const table = [TABLE_START, ...HEADER, ...body, TABLE_END].join('\n');
  if (start >= 0 && end > start) return doc.slice(0, start) + table + doc.slice(end + TABLE_END.length);
  return `${doc.replace(/\n*$/, '\n\n')}${table}\n`;
}
