import { normaliseListedPlate } from '../plate/text.js';
import { LIST_TYPES, isPartialPlate, type HotListEntry, type ListType } from './list.js';
import { AlprError, EX_DATAERR } from '../errors.js';

/** A list file a person must fix: names the line and the field. Never crashes the caller. */
export class HotListFormatError extends AlprError {
  constructor(
    message: string,
    readonly line: number,
    field: string,
  ) {
    super(line > 0 ? `line ${line}: ${field}: ${message}` : `${field}: ${message}`, field, EX_DATAERR);
  }
}

export const MAX_LINE_CHARS = 4096;
export const MAX_ENTRIES = 2_000_000;

function checkPlate(plate: string, line: number, allowWildcards: boolean): string {
  const p = normaliseListedPlate(plate);
  const re = allowWildcards ? /^[A-Z0-9?*]{1,10}$/ : /^[A-Z0-9]{1,10}$/;
  if (!re.test(p)) throw new HotListFormatError(`"${p.slice(0, 20)}" is not a plate (A–Z, 0–9${allowWildcards ? ', ? and *' : ''}; 1–10 characters)`, line, 'plate');
  if (allowWildcards && /^[?*]+$/.test(p)) throw new HotListFormatError('a partial plate needs at least one known character', line, 'plate');
  return p;
}

function checkState(state: string, line: number): string | null {
  const s = state.trim().toUpperCase();
  if (s === '') return null;
  if (!/^[A-Z]{2}$/.test(s)) throw new HotListFormatError(`"${s.slice(0, 10)}" is not a two-letter state code`, line, 'state');
  return s;
}

/** Accepts 2024-05-01, 2024-05-01T10:00:00Z, 20240501 and 05/01/2024; returns ISO UTC. */
export function parseListDate(raw: string, line: number, field: string): string {
  const s = raw.trim();
  let iso: string | undefined;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(s))) iso = `${m[1]}-${m[2]}-${m[3]}T00:00:00Z`;
  else if ((m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(s))) iso = `${m[3]}-${m[1]}-${m[2]}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}$/.test(s)) iso = `${s}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(s)) iso = s;
  const ms = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(ms)) throw new HotListFormatError(`"${s.slice(0, 30)}" is not a date (YYYY-MM-DD, YYYYMMDD, MM/DD/YYYY or ISO 8601)`, line, field);
  const out = new Date(ms).toISOString();
  // Date.parse rolls 2024-02-31 over to March; a list with such a date is wrong, not "nearly right".
  if (iso!.length === 20 && out.slice(0, 10) !== iso!.slice(0, 10)) throw new HotListFormatError(`"${s}" is not a calendar date`, line, field);
  return out;
}

function checkType(raw: string, line: number): ListType {
  const t = raw.trim().toUpperCase();
  if (!(LIST_TYPES as readonly string[]).includes(t)) throw new HotListFormatError(`"${t.slice(0, 20)}" is not a list type (${LIST_TYPES.join(', ')})`, line, 'type');
  return t as ListType;
}

/** Splits one CSV record (RFC 4180 quoting; no newlines inside fields — lists never need them). */
export function splitCsvLine(text: string, line: number): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new HotListFormatError('unterminated quoted field', line, 'csv');
  out.push(cur);
  return out;
}

function* lines(text: string): Generator<[number, string]> {
  let n = 0;
  for (const raw of text.split(/\r?\n/)) {
    n++;
    if (raw.length > MAX_LINE_CHARS) throw new HotListFormatError(`line longer than ${MAX_LINE_CHARS} characters`, n, 'line');
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) continue;
    yield [n, l];
  }
}

export const CSV_COLUMNS = ['plate', 'state', 'type', 'reason', 'record_number', 'entered', 'expires', 'fuzzy', 'vehicle'] as const;
const CSV_REQUIRED = ['plate', 'state', 'type', 'reason', 'record_number', 'entered'];

/**
 * The documented CSV list format (docs/hotlists.md): a header row naming the columns (any order;
 * plate, state, type, reason, record_number, entered required; expires, fuzzy, vehicle optional).
 * Wildcards (`?`, `*`) are allowed and make the entry partial (P12).
 */
export function parseHotListCsv(text: string): HotListEntry[] {
  const entries: HotListEntry[] = [];
  let header: string[] | undefined;
  for (const [n, l] of lines(text)) {
    const cells = splitCsvLine(l, n);
    if (!header) {
      header = cells.map((c) => c.trim().toLowerCase());
      for (const h of header) if (!(CSV_COLUMNS as readonly string[]).includes(h)) throw new HotListFormatError(`unknown column "${h.slice(0, 30)}" (expected ${CSV_COLUMNS.join(', ')})`, n, 'header');
      for (const r of CSV_REQUIRED) if (!header.includes(r)) throw new HotListFormatError(`column "${r}" is missing`, n, 'header');
      if (new Set(header).size !== header.length) throw new HotListFormatError('a column appears twice', n, 'header');
      continue;
    }
    if (cells.length !== header.length) throw new HotListFormatError(`${cells.length} fields, the header has ${header.length}`, n, 'csv');
    const row = Object.fromEntries(header.map((h, i) => [h, cells[i]!.trim()])) as Record<string, string>;
    const plate = checkPlate(row['plate']!, n, true);
    const fuzzy = (row['fuzzy'] ?? '').toLowerCase();
    if (!['', 'yes', 'no', 'true', 'false', '1', '0'].includes(fuzzy)) throw new HotListFormatError(`"${fuzzy.slice(0, 10)}" is not yes/no`, n, 'fuzzy');
    const entry: HotListEntry = {
      plate,
      state: checkState(row['state']!, n),
      type: checkType(row['type']!, n),
      reason: limit(row['reason']!, 500, n, 'reason'),
      recordNumber: limit(row['record_number']!, 64, n, 'record_number'),
      enteredAt: parseListDate(row['entered']!, n, 'entered'),
      expiresAt: row['expires'] ? parseListDate(row['expires'], n, 'expires') : null,
      partial: isPartialPlate(plate),
      fuzzy: ['yes', 'true', '1'].includes(fuzzy),
    };
    if (row['vehicle']) entry.vehicle = limit(row['vehicle'], 200, n, 'vehicle');
    push(entries, entry, n);
  }
  if (!header) throw new HotListFormatError('no header row', 0, 'header');
  return entries;
}

function limit(s: string, max: number, line: number, field: string): string {
  if (s.length > max) throw new HotListFormatError(`longer than ${max} characters`, line, field);
  return s;
}

function push(entries: HotListEntry[], e: HotListEntry, line: number): void {
  if (entries.length >= MAX_ENTRIES) throw new HotListFormatError(`more than ${MAX_ENTRIES} entries`, line, 'entries');
  entries.push(e);
}

/**
 * NCIC / CA DOJ-style pipe-delimited extract (docs/hotlists.md "NCIC extracts"): a header row of
 * NCIC field codes, then one record per line. Mapping: LIC → plate, LIS → state, MKE → list type
 * (V/EV/SV → SVS, L/EL/SL → SLR, W/EW/FW → SFR, B/BOLO → BOLO), NIC → record number, DOE → entered,
 * EXP → expires, MIS → reason, VMA/VMO/VCO → vehicle. Other codes (ORI, LIY, LIT, VIN, ...) are
 * accepted and ignored. NCIC records are full plates: wildcards are refused.
 */
export function parseNcicExtract(text: string): HotListEntry[] {
  const entries: HotListEntry[] = [];
  let header: string[] | undefined;
  for (const [n, l] of lines(text)) {
    const cells = l.split('|').map((c) => c.trim());
    if (!header) {
      header = cells.map((c) => c.toUpperCase());
      for (const r of ['MKE', 'LIC', 'NIC', 'DOE']) if (!header.includes(r)) throw new HotListFormatError(`field code ${r} is missing from the header`, n, 'header');
      continue;
    }
    if (cells.length !== header.length) throw new HotListFormatError(`${cells.length} fields, the header has ${header.length}`, n, 'record');
    const row = Object.fromEntries(header.map((h, i) => [h, cells[i]!])) as Record<string, string>;
    const plate = checkPlate(row['LIC']!, n, false);
    const vehicle = [row['VMA'], row['VMO'], row['VCO']].filter((v) => v).join(' ');
    const entry: HotListEntry = {
      plate,
      state: checkState(row['LIS'] ?? '', n),
      type: ncicType(row['MKE']!, n),
      reason: limit(row['MIS'] ?? '', 500, n, 'MIS'),
      recordNumber: limit(row['NIC']!, 64, n, 'NIC'),
      enteredAt: parseListDate(row['DOE']!, n, 'DOE'),
      expiresAt: row['EXP'] ? parseListDate(row['EXP'], n, 'EXP') : null,
      partial: false,
      fuzzy: false,
    };
    if (vehicle) entry.vehicle = limit(vehicle, 200, n, 'VMA/VMO/VCO');
    push(entries, entry, n);
  }
  if (!header) throw new HotListFormatError('no header row', 0, 'header');
  return entries;
}

const NCIC_TYPES: Record<string, ListType> = { V: 'SVS', EV: 'SVS', SV: 'SVS', L: 'SLR', EL: 'SLR', SL: 'SLR', W: 'SFR', EW: 'SFR', FW: 'SFR', B: 'BOLO', BOLO: 'BOLO' };

function ncicType(mke: string, line: number): ListType {
  const t = NCIC_TYPES[mke.toUpperCase()];
  if (!t) throw new HotListFormatError(`message key "${mke.slice(0, 10)}" is not one we map (${Object.keys(NCIC_TYPES).join(', ')})`, line, 'MKE');
  return t;
}
