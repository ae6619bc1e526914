import { READER_LOOK_ALIKE_PAIRS } from '../plate/look-alike.js';
import type { PlateTextResult } from './reader.js';

// Serial formats a state issues, for choosing between a reader's near-tied candidates. Only the
// formats of general issue: vanity and special plates follow none, so a format never overrides a
// clear read, it only breaks a near tie. California only for now: the product's cameras are
// there (POLICY.md: California departments), and ucsd-ca measures it (npm run eval, INT8, end to end, 2026-12-01: ucsd-ca val
// 88 -> 92 %, all 94.7 -> 96.3 % top-1, the same for ties of 0.05 to 0.5; openalpr-us-crops val
// unchanged).
const FORMATS: Record<string, RegExp[]> = {
  // Passenger since 1980 (1ABC234), older passenger (LLLDDD, DDDLLL), commercial (1A23456,
  // 12345A1), trailer (1AB2345).
  CA: [/^\d[A-Z]{3}\d{3}$/, /^[A-Z]{3}\d{3}$/, /^\d{3}[A-Z]{3}$/, /^\d[A-Z]\d{5}$/, /^\d{5}[A-Z]\d$/, /^\d[A-Z]{2}\d{4}$/],
};

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
