import { ulidTimePrefix } from '../ids/ulid.js';
import type { PLATE_MATCHES } from '../state/records.js';
import { lookAlikeKey } from '../plate/look-alike.js';
import { normalisePlateText } from '../plate/text.js';
import type { PlateIndexKey, StateDatabase } from '../state/database.js';
import type { DeviceKeys } from '../state/device-keys.js';
import { isWildcardPattern, wildcardMatcher } from './plate-match.js';
import type { ReadView, StoredRead, StoredReadDecoder } from './read-record.js';

const DAY_MS = 86_400_000;

export type PlateMatch = (typeof PLATE_MATCHES)[number];

export interface ReadQuery {
  plate?: string;
  match?: PlateMatch;
  cameraId?: string;
  fromMs?: number;
  toMs?: number;
  limit: number;
  /** Id of the last read of the previous page (results are newest first). */
  cursor?: string;
}

export interface ReadPage {
  reads: ReadView[];
  nextCursor?: string;
  /** Records that failed to decode or authenticate; skipped and counted, never fatal. */
  skippedCorrupt: number;
}

/** What a search needs of the store: its tables, the keys for index tags, retention and decoding. */
export interface SearchSource {
  db: StateDatabase;
  keys: DeviceKeys;
  retentionCutoffMs(nowMs: number): number;
  /** The stored record, checked; undefined for none or a damaged one (counted by the store). */
  record: StoredReadDecoder;
  /** The read's view, or undefined for a sealed part that does not open (counted by the store). */
  open(id: string, stored: StoredRead): ReadView | undefined;
  /** Records skipped as corrupt since start. */
  readonly corruptSkipped: number;
}

/** P3: a read past its age is never returned, even before the purge has removed it. */
export function visibleAt(s: StoredRead, cutoffMs: number): boolean {
  return s.capturedAtMs >= cutoffMs;
}

/**
 * Candidate ids from a plate index, newest first: one range per day of the time range and data key
 * (keys rotate). Retention bounds the range, so a lookup costs about 31 short ranges per key.
 */
function idsByTag(src: SearchSource, index: 'byPlate' | 'byLookAlike', term: string, fromMs: number, toMs: number): string[] {
  const ids: string[] = [];
  // A read id's time is its capture time; one day either side covers a clock that stepped.
  const first = Math.floor(fromMs / DAY_MS) - 1;
  const last = Math.floor(toMs / DAY_MS) + 1;
  for (const kid of src.keys.keyIds) {
    const tag = src.keys.indexTag(kid, term);
    for (let day = last; day >= first; day--) {
      for (const key of src.db[index].getKeys({ start: [day, kid, tag, ''], end: [day, kid, tag, '\uffff'] })) ids.push((key as PlateIndexKey)[3]);
    }
  }
  return ids.sort().reverse();
}

/** Searches reads newest first: by plate (exact, look-alike, or partial with * ? _), camera and time. */
export function searchReads(src: SearchSource, q: ReadQuery, nowMs: number): ReadPage {
  const { db } = src;
  const cutoff = src.retentionCutoffMs(nowMs);
  const fromMs = Math.max(q.fromMs ?? 0, cutoff);
  const toMs = q.toMs ?? nowMs + DAY_MS;
  const plate = q.plate === undefined ? undefined : q.match === 'partial' ? q.plate : normalisePlateText(q.plate);
  const match: PlateMatch = q.match ?? (plate !== undefined && isWildcardPattern(plate) ? 'partial' : 'exact');
  const out: ReadView[] = [];
  const before = src.corruptSkipped;
  // A damaged record is skipped and counted (in `skippedCorrupt`); the search goes on with the others.
  const accept = (id: string, value: unknown, check?: (v: ReadView) => boolean): boolean => {
    const s = src.record(id, value);
    if (!s || !visibleAt(s, cutoff) || s.capturedAtMs < fromMs || s.capturedAtMs > toMs) return false;
    if (q.cameraId !== undefined && s.cameraId !== q.cameraId) return false;
    const view = src.open(id, s);
    if (!view || (check && !check(view))) return false;
    out.push(view);
    return true;
  };
  let nextCursor: string | undefined;
  if (plate !== undefined && match !== 'partial') {
    // An open-ended range stops at tomorrow: the index is walked day by day.
    const indexTo = Math.min(toMs, nowMs + DAY_MS);
    const ids = match === 'exact' ? idsByTag(src, 'byPlate', plate, fromMs, indexTo) : idsByTag(src, 'byLookAlike', 'la:' + lookAlikeKey(plate), fromMs, indexTo);
    const want = match === 'exact' ? (v: ReadView) => v.plate === plate : (v: ReadView) => lookAlikeKey(v.plate) === lookAlikeKey(plate);
    for (const id of ids) {
      if (q.cursor !== undefined && id >= q.cursor) continue;
      if (out.length === q.limit) {
        nextCursor = out[out.length - 1]!.id;
        break;
      }
      accept(id, db.reads.get(id), want);
    }
  } else {
    // Time-ordered scan (ULID keys), newest first, bounded by the time range; partial plates are
    // matched after unsealing, so they cost one decryption per read in the range.
    const matcher = plate !== undefined ? wildcardMatcher(plate) : undefined;
    const upper = q.cursor ?? ulidTimePrefix(toMs + 1);
    const lower = ulidTimePrefix(fromMs);
    const check = matcher ? (v: ReadView) => matcher(v.plate) : undefined;
    const rows = q.cameraId !== undefined
      ? db.byCamera.getKeys({ start: [q.cameraId, upper], end: [q.cameraId, lower], reverse: true, exclusiveStart: q.cursor !== undefined }).map((k) => (k as [string, string])[1])
      : db.reads.getKeys({ start: upper, end: lower, reverse: true, exclusiveStart: q.cursor !== undefined }).map((k) => k as string);
    for (const id of rows) {
      if (out.length === q.limit) {
        nextCursor = out[out.length - 1]!.id;
        break;
      }
      accept(id, db.reads.get(id), check);
    }
  }
  return { reads: out, ...(nextCursor ? { nextCursor } : {}), skippedCorrupt: src.corruptSkipped - before };
}
