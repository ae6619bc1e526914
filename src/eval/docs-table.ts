import { formatRate, type SetSummary } from './metrics.js';

// `npm run eval -- ... --docs docs/models.md` keeps one generated table in the models doc: one row
// per set, mode, split and precision, replaced when that combination is measured again, so the doc
// always shows the latest measurement of each without hand copying. Every rate is written with its
// count and 95 % interval (`96.0 % (48/50, 86–99)`): the splits are small.

export const TABLE_START = '<!-- eval-table:start (written by npm run eval -- --docs; edit by re-running) -->';
export const TABLE_END = '<!-- eval-table:end -->';

const HEADER = [
  '| set | mode | split | models | images / plates | read at IoU≥0.5 (detector boxes alone) | top-1 exact | top-N | char acc. (characters) | state coverage / right | false plates / image (count in images; detector boxes) | ms / image | OpenALPR top-1 (full set) | measured |',
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

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
/** The rate in bold, its count and interval not. */
const bold = (cell: string) => cell.replace(/^([\d.]+ %)/, '**$1**');
const perImage = (count: number, perImage: number, images: number, digits: number) => `${perImage.toFixed(digits)} (${count} in ${images})`;

export function renderRow(r: EvalRow): string {
  const s = r.summary;
  const scenes = r.mode === 'scenes';
  const cells = [
    r.set,
    r.mode,
    r.split,
    r.models,
    `${s.images} / ${s.plates}`,
    scenes ? `${formatRate(s.detectionRecall05)}${s.detector ? `; boxes ${formatRate(s.detector.recall05)}` : ''}` : '—',
    bold(formatRate(s.top1)),
    formatRate(s.topN),
    formatRate(s.charAccuracy),
    s.stateCoverage !== null ? `${formatRate(s.stateCoverage)} / ${formatRate(s.stateAccuracy)}` : s.foreignStateRate !== null ? `US state on ${formatRate(s.foreignStateRate)}` : 'n/a',
    scenes ? `${perImage(s.falsePlates, s.falsePlatesPerImage, s.images, 3)}${s.detector ? `; boxes ${perImage(s.detector.falseBoxes, s.detector.falseBoxesPerImage, s.images, 2)}` : ''}` : '—',
    s.msPerImage.toFixed(1),
    r.openalpr === undefined ? '—' : pct(r.openalpr),
    r.date.slice(0, 10),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The first four cells (set, mode, split, models) identify a row. */
function rowKey(line: string): string[] {
  return line.split('|').slice(1, 5).map((c) => c.trim());
}

/** Splits in the order a reader compares them: val (chosen on) beside test (only reported). */
const SPLIT_ORDER = ['val', 'test', 'val+test', 'train', 'all'];

/** Rows of a set and mode together; within them each models' val, test, ... side by side. */
function compareRows(a: string[], b: string[]): number {
  const rank = (split: string) => (SPLIT_ORDER.includes(split) ? SPLIT_ORDER.indexOf(split) : SPLIT_ORDER.length);
  const [setA = '', modeA = '', splitA = '', modelsA = ''] = a;
  const [setB = '', modeB = '', splitB = '', modelsB = ''] = b;
  return setA.localeCompare(setB) || modeA.localeCompare(modeB) || modelsA.localeCompare(modelsB) || rank(splitA) - rank(splitB) || splitA.localeCompare(splitB);
}

/**
 * The document with `rows` merged into its generated table (rows of the same set, mode, split
 * and models replaced, the rest kept as written, sorted); the table is appended when the document
 * has none. Rows written before counts and intervals were added stay readable under the same columns.
 */
export function mergeEvalTable(doc: string, rows: EvalRow[]): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  const kept = new Map<string, string>();
  if (start >= 0 && end > start) {
    for (const line of doc.slice(start + TABLE_START.length, end).split('\n')) {
      if (line.startsWith('| ') && !line.startsWith('| set |')) kept.set(rowKey(line).join('|'), line);
    }
  }
  for (const r of rows) {
    const line = renderRow(r);
    kept.set(rowKey(line).join('|'), line);
  }
  const body = [...kept.values()].sort((a, b) => compareRows(rowKey(a), rowKey(b)));
  const table = [TABLE_START, ...HEADER, ...body, TABLE_END].join('\n');
  if (start >= 0 && end > start) return doc.slice(0, start) + table + doc.slice(end + TABLE_END.length);
  return `${doc.replace(/\n*$/, '\n\n')}${table}\n`;
}
